// A production line of N machines for the signal-recorder simulators: each machine cycles, pulses a
// digital input at the end of every cycle, optionally counts cycles into a PLC counter (with
// wrap-around), draws power while running or idle, and stops for breakdowns and changeovers (seeded
// random or scripted). It writes signals to sinks (the S7 simulator's memory) and keeps the ground
// truth (true cycles, energy) that tests compare the recorder against. Time comes from the injected clock.
import type { Clock, TimerHandle } from '../core/clock.ts';

export type MachineState = 'running' | 'stopped' | 'breakdown' | 'changeover';

export interface MachineConfig {
  name: string;
  /** Nominal cycle time in model ms (one unit per cycle). */
  cycleMs: number;
  /** Digital input pulsed at the end of each cycle, e.g. `I0.0`. */
  cycleInput?: string;
  /** Pulse width in clock ms, as a poller sees it (not time-scaled; capped at half a scaled cycle). Default 200. */
  pulseMs?: number;
  /** Counter of cycles, e.g. `DB1,DINT4`; counts modulo `counterWrap`. */
  counter?: string;
  /** The counter goes back to 0 on reaching this. Default 2^31 (a DINT that never goes negative). */
  counterWrap?: number;
  /** Counter value at start. Default 0. */
  counterStart?: number;
  /** Power value in kW, e.g. `DB1,REAL0`. */
  power?: string;
  runKw: number;
  /** Power while stopped, broken down or changing over. Default 0. */
  idleKw?: number;
  /** Chance per cycle of a breakdown, and its length in model ms. */
  breakdown?: { probability: number; durationMs: number };
  /** Chance per cycle of a changeover, and its length in model ms. */
  changeover?: { probability: number; durationMs: number };
  /** Scripted events at clock ms after `start()`: `{atMs: 60000, state: 'breakdown', forMs: 30000}`. */
  script?: Array<{ atMs: number; state: MachineState; forMs?: number }>;
}

export interface ProductionLineOptions {
  clock: Clock;
  machines: MachineConfig[];
  /** Model ms per clock ms (10 = ten times faster than real time). Default 1. */
  timeScale?: number;
  /** Seed of the breakdown/changeover draws: the same seed gives the same day. Default 1. */
  seed?: number;
}

/** Where signals go (the S7 simulator's memory, a Modbus bank, a GPIO line...). */
export interface SignalSink {
  set(address: string, value: number | boolean): void;
}

export class Machine {
  readonly config: MachineConfig;
  /** True cycles completed since construction (ground truth). */
  cycles = 0;
  /** Clock timestamps (ms since epoch) of each completed cycle, for counts over a window. */
  readonly cycleTimes: number[] = [];
  state: MachineState = 'stopped';
  pulse = false;
  #counter: number;
  #energyKwh = 0;
  #powerSince = 0;
  #timer: TimerHandle | undefined;
  #pulseTimer: TimerHandle | undefined;
  #resumeTimer: TimerHandle | undefined;
  readonly #line: ProductionLine;

  constructor(line: ProductionLine, config: MachineConfig) {
    if (!(config.cycleMs > 0)) throw new RangeError(`production line: machine "${config.name}" needs cycleMs > 0`);
    this.#line = line;
    this.config = config;
    this.#counter = config.counterStart ?? 0;
  }

  get name(): string {
    return this.config.name;
  }

  /** The PLC counter value (wraps at `counterWrap`). */
  get counter(): number {
    return this.#counter;
  }

  get powerKw(): number {
    return this.state === 'running' ? this.config.runKw : this.config.idleKw ?? 0;
  }

  /** Energy drawn so far, integrated over clock time (what a recorder can measure). */
  get energyKwh(): number {
    return this.#energyKwh + (this.powerKw * (this.#line.clock.monotonic() - this.#powerSince)) / 3_600_000;
  }

  /** Cycles completed with `from <= t < to` (clock ms since epoch). */
  cyclesBetween(from: number, to: number): number {
    return this.cycleTimes.filter((t) => t >= from && t < to).length;
  }

  /** Operator stop: the cycle in progress is abandoned. */
  stop(): void {
    this.#enter('stopped');
  }

  /** Starts (or resumes) production; a new cycle begins now. */
  run(): void {
    this.#enter('running');
  }

  /** Holds the machine in `state` for `forMs` model ms, then runs again. */
  hold(state: 'breakdown' | 'changeover' | 'stopped', forMs: number): void {
    this.#enter(state);
    if (Number.isFinite(forMs)) this.#resumeTimer = this.#line.clock.setTimeout(() => this.run(), forMs / this.#line.timeScale);
  }

  /** Sets the counter (e.g. near the wrap to test it). */
  setCounter(value: number): void {
    this.#counter = value;
    if (this.config.counter) this.#line.emit(this.config.counter, value);
  }

  /** Writes every signal's current value to the sinks. */
  publish(): void {
    const c = this.config;
    if (c.cycleInput) this.#line.emit(c.cycleInput, this.pulse);
    if (c.counter) this.#line.emit(c.counter, this.#counter);
    if (c.power) this.#line.emit(c.power, this.powerKw);
  }

  dispose(): void {
    const clock = this.#line.clock;
    clock.clearTimeout(this.#timer);
    clock.clearTimeout(this.#pulseTimer);
    clock.clearTimeout(this.#resumeTimer);
  }

  #enter(state: MachineState): void {
    const clock = this.#line.clock;
    this.#accrue();
    clock.clearTimeout(this.#timer);
    clock.clearTimeout(this.#resumeTimer);
    this.state = state;
    if (this.config.power) this.#line.emit(this.config.power, this.powerKw);
    if (state === 'running') this.#schedule();
  }

  #accrue(): void {
    const now = this.#line.clock.monotonic();
    this.#energyKwh += (this.powerKw * (now - this.#powerSince)) / 3_600_000;
    this.#powerSince = now;
  }

  #schedule(): void {
    this.#timer = this.#line.clock.setTimeout(() => this.#complete(), this.config.cycleMs / this.#line.timeScale);
  }

  #complete(): void {
    const line = this.#line;
    const c = this.config;
    this.cycles++;
    this.cycleTimes.push(line.clock.now());
    if (this.cycleTimes.length > 100_000) this.cycleTimes.shift();
    this.#counter = (this.#counter + 1) % (c.counterWrap ?? 2 ** 31);
    if (c.counter) line.emit(c.counter, this.#counter);
    if (c.cycleInput) {
      this.pulse = true;
      line.emit(c.cycleInput, true);
      line.clock.clearTimeout(this.#pulseTimer);
      const width = Math.min(c.pulseMs ?? 200, c.cycleMs / line.timeScale / 2);
      this.#pulseTimer = line.clock.setTimeout(() => {
        this.pulse = false;
        line.emit(c.cycleInput!, false);
      }, width);
    }
    if (c.breakdown && line.random() < c.breakdown.probability) return this.hold('breakdown', c.breakdown.durationMs);
    if (c.changeover && line.random() < c.changeover.probability) return this.hold('changeover', c.changeover.durationMs);
    this.#schedule();
  }
}

export class ProductionLine {
  readonly clock: Clock;
  readonly timeScale: number;
  readonly machines: Machine[];
  readonly #sinks: SignalSink[] = [];
  readonly #scriptTimers: TimerHandle[] = [];
  #seed: number;

  constructor(o: ProductionLineOptions) {
    this.clock = o.clock;
    this.timeScale = o.timeScale ?? 1;
    if (!(this.timeScale > 0)) throw new RangeError(`production line: timeScale must be > 0, got ${this.timeScale}`);
    this.#seed = (o.seed ?? 1) >>> 0;
    const names = new Set<string>();
    this.machines = o.machines.map((m) => {
      if (names.has(m.name)) throw new Error(`production line: two machines are named "${m.name}"`);
      names.add(m.name);
      return new Machine(this, m);
    });
  }

  /** A machine by index (0-based) or name; throws listing the known names. */
  machine(which: number | string): Machine {
    const m = typeof which === 'number' ? this.machines[which] : this.machines.find((x) => x.name === which);
    if (!m) throw new Error(`production line: no machine ${JSON.stringify(which)} (known: ${this.machines.map((x) => x.name).join(', ')})`);
    return m;
  }

  /** Adds a sink and writes every current value to it. */
  addSink(sink: SignalSink): void {
    this.#sinks.push(sink);
    for (const m of this.machines) m.publish();
  }

  /** Starts every machine (or only those without a script starting them later) and arms the scripts. */
  start(): void {
    for (const m of this.machines) {
      m.run();
      for (const e of m.config.script ?? []) {
        this.#scriptTimers.push(this.clock.setTimeout(() => (e.state === 'running' ? m.run() : e.forMs !== undefined ? m.hold(e.state, e.forMs * this.timeScale) : e.state === 'stopped' ? m.stop() : m.hold(e.state, Infinity)), e.atMs));
      }
    }
  }

  /** Stops every machine and cancels every timer. */
  close(): void {
    for (const t of this.#scriptTimers) this.clock.clearTimeout(t);
    for (const m of this.machines) {
      m.stop();
      m.dispose();
    }
  }

  /** Sum of true cycles of all machines. */
  get totalCycles(): number {
    return this.machines.reduce((n, m) => n + m.cycles, 0);
  }

  emit(address: string, value: number | boolean): void {
    for (const s of this.#sinks) s.set(address, value);
  }

  /** Seeded uniform [0, 1) (mulberry32). */
  random(): number {
    let t = (this.#seed = (this.#seed + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
