// Shared objects of one runtime's simulators (a plant model that the sensor, relay and PLC
// simulators all act on), created on first use and closed with the runtime. Core knows only keys.

export class SimWorld {
  readonly #objects = new Map<string, unknown>();
  readonly #closers: Array<() => void | Promise<void>> = [];

  /** Returns the object under `name`, creating it with `create` the first time. */
  get<T>(name: string, create: () => T, close?: (value: T) => void | Promise<void>): T {
    if (this.#objects.has(name)) return this.#objects.get(name) as T;
    const value = create();
    this.#objects.set(name, value);
    if (close) this.#closers.push(() => close(value));
    return value;
  }

  /** The object under `name`; throws naming the known names when it does not exist (tests reach simulators this way). */
  require<T>(name: string): T {
    if (!this.#objects.has(name)) throw new Error(`no simulator object "${name}" (known: ${[...this.#objects.keys()].join(', ') || 'none'})`);
    return this.#objects.get(name) as T;
  }

  has(name: string): boolean {
    return this.#objects.has(name);
  }

  async close(): Promise<void> {
    while (this.#closers.length) await this.#closers.pop()!();
    this.#objects.clear();
  }
}
