// Services one plugin offers to others (a Modbus register space, say), keyed by owner so they go
// away when the provider stops. Consumers look them up at use time, so a provider's restart is seen.

export class ServiceRegistry {
  readonly #services = new Map<string, { owner: string; impl: unknown }>();

  /** Offers `impl` under `name` (e.g. `modbus-server:gateway`); returns a function that withdraws it. */
  provide<T>(owner: string, name: string, impl: T): () => void {
    const existing = this.#services.get(name);
    if (existing && existing.owner !== owner) throw new Error(`service "${name}" from ${owner} is already provided by ${existing.owner}`);
    this.#services.set(name, { owner, impl });
    return () => {
      if (this.#services.get(name)?.owner === owner) this.#services.delete(name);
    };
  }

  removeOwner(owner: string): void {
    for (const [name, entry] of this.#services) if (entry.owner === owner) this.#services.delete(name);
  }

  get<T>(name: string): T | undefined {
    return this.#services.get(name)?.impl as T | undefined;
  }

  /** The service, or an error saying it is not running (its provider stopped or is restarting). */
  require<T>(name: string): T {
    const entry = this.#services.get(name);
    if (!entry) throw new Error(`service "${name}" is not available (its plugin is not running; available: ${[...this.#services.keys()].join(', ') || 'none'})`);
    return entry.impl as T;
  }

  names(): string[] {
    return [...this.#services.keys()];
  }
}
