// Simulated GPIO: in-memory chips and lines with electrical levels, active-low and edges, plus
// test hooks (drive an input's level, read what an output drove, record every write).
import { edgeMatches, type BitValue, type Direction, type Edge, type GpioChip, type GpioLine, type GpioLineOptions } from '../adapters/gpio/types.ts';

export class SimGpioLine implements GpioLine {
  readonly direction: Direction;
  /** Every logical value written, oldest first. */
  readonly writes: BitValue[] = [];
  #level: BitValue;
  #closed = false;
  readonly #listeners = new Set<(value: BitValue, previous: BitValue) => void>();
  /** Test hook: the next read or write rejects with this message (a kernel error). */
  failNext: string | null = null;

  constructor(readonly description: string, readonly options: GpioLineOptions & { level?: BitValue }) {
    this.direction = options.direction;
    this.#level = options.direction === 'out' ? this.#toLevel(options.initial) : (options.level ?? 0);
  }

  /** Electrical level on the pin (what a multimeter shows). */
  get level(): BitValue {
    return this.#level;
  }

  /** Logical value (after activeLow). */
  get value(): BitValue {
    return this.#toLevel(this.#level);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Test hook: the outside world drives an input's electrical level (a button, a contact). */
  drive(level: BitValue): void {
    if (this.direction !== 'in') throw new Error(`sim gpio ${this.description}: drive() is for input lines; outputs are set with write()`);
    this.#setLevel(level);
  }

  read(): Promise<BitValue> {
    const fault = this.#check('read');
    if (fault) return Promise.reject(fault);
    return Promise.resolve(this.value);
  }

  write(value: BitValue): Promise<void> {
    const fault = this.#check(`write ${value}`);
    if (fault) return Promise.reject(fault);
    if (this.direction !== 'out') return Promise.reject(new Error(`gpio ${this.description}: cannot write an input line`));
    this.writes.push(value);
    this.#setLevel(this.#toLevel(value));
    return Promise.resolve();
  }

  watch(edge: Edge, listener: (value: BitValue) => void): () => void {
    if (this.#closed) throw new Error(`gpio ${this.description}: line is closed`);
    const wrapped = (value: BitValue, previous: BitValue) => {
      if (edgeMatches(edge, previous, value)) listener(value);
    };
    this.#listeners.add(wrapped);
    return () => {
      this.#listeners.delete(wrapped);
    };
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    return Promise.resolve();
  }

  #check(what: string): Error | null {
    if (this.#closed) return new Error(`gpio ${this.description}: line is closed`);
    if (this.failNext === null) return null;
    const e = new Error(`gpio ${this.description}: ${what} failed (${this.failNext}, injected)`);
    this.failNext = null;
    return e;
  }

  #toLevel(value: BitValue): BitValue {
    return (this.options.activeLow ? 1 - value : value) as BitValue;
  }

  #setLevel(level: BitValue): void {
    const previous = this.value;
    this.#level = level;
    const value = this.value;
    for (const l of this.#listeners) l(value, previous);
  }
}

export class SimGpioChip implements GpioChip {
  readonly #open = new Map<number, SimGpioLine>();

  constructor(readonly label = 'sim-gpio', readonly lines = 64) {}

  /** The line at `offset` if it is open (test hook). */
  line(offset: number): SimGpioLine | undefined {
    return this.#open.get(offset);
  }

  open(offset: number, options: GpioLineOptions & { level?: BitValue }): Promise<SimGpioLine> {
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.lines) {
      return Promise.reject(new Error(`sim gpio: line ${offset} is out of range for "${this.label}" (lines 0..${this.lines - 1})`));
    }
    const existing = this.#open.get(offset);
    if (existing && !existing.closed) return Promise.reject(new Error(`sim gpio: "${this.label}" line ${offset} is busy (already open)`));
    const line = new SimGpioLine(`${this.label} line ${offset} (simulated)`, options);
    this.#open.set(offset, line);
    return Promise.resolve(line);
  }

  async close(): Promise<void> {
    for (const line of this.#open.values()) await line.close();
    this.#open.clear();
  }
}
