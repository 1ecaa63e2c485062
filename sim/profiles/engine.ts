// Moves a profile's points: every tick of the injected clock each point takes the value its
// behaviour gives for the time since power-on. Protocol-free; the Modbus and HTTP devices put the
// values on the wire and hand writes back through `write`.
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { mulberry32 } from '../seeded-random.ts';
import { type Compiled, compileExpression } from './expression.ts';
import type { Profile, ProfilePoint } from './types.ts';

interface Live {
  point: ProfilePoint;
  random?: () => number;
  formula?: Compiled;
  rate?: Compiled;
}

export class PointEngine {
  readonly #profile: Profile;
  readonly #clock: Clock;
  readonly #live: Live[];
  readonly #values = new Map<string, number>();
  #t0 = 0;
  #last = 0;
  #timer: TimerHandle | undefined;
  /** Called after every tick (and after a reset), to put the values on the wire. */
  onTick: (() => void) | undefined;

  constructor(profile: Profile, clock: Clock) {
    this.#profile = profile;
    this.#clock = clock;
    const names = new Set(profile.points.map((p) => p.name));
    this.#live = profile.points.map((point) => {
      const b = point.behaviour;
      const live: Live = { point };
      if (b.kind === 'formula') live.formula = compileExpression(b.expr, names).run;
      if (b.kind === 'counter') live.rate = typeof b.rate === 'string' ? compileExpression(b.rate, names).run : () => b.rate as number;
      return live;
    });
    this.reset('initial');
  }

  /** Seconds since power-on. */
  get t(): number {
    return (this.#clock.monotonic() - this.#t0) / 1000;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  value(name: string): number {
    const v = this.#values.get(name);
    if (v === undefined) throw new Error(`profile "${this.#profile.name}" has no point "${name}" (points: ${[...this.#values.keys()].join(', ') || 'none'})`);
    return v;
  }

  values(): Record<string, number> {
    return Object.fromEntries(this.#values);
  }

  /** A write from the wire (or a test): echo points hold it, others until their next tick. */
  write(name: string, value: number): void {
    this.value(name); // names the point when unknown
    this.#values.set(name, value);
  }

  /** Power-on: memory back to the initial values (or zero), time and random walks restart. */
  reset(memory: 'initial' | 'zero'): void {
    this.#t0 = this.#last = this.#clock.monotonic();
    this.#live.forEach((live, i) => {
      const b = live.point.behaviour;
      if (b.kind === 'random-walk') live.random = mulberry32((b.seed ?? this.#profile.seed) + i * 7919);
      this.#values.set(live.point.name, memory === 'zero' ? 0 : live.point.initial);
    });
    this.tick(true);
  }

  start(): void {
    this.#timer ??= this.#clock.setInterval(() => this.tick(), this.#profile.tickMs);
  }

  stop(): void {
    this.#clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One step; `first` computes the values at t = 0 without advancing held ones. */
  tick(first = false): void {
    const now = this.#clock.monotonic();
    const dt = first ? 0 : (now - this.#last) / 1000;
    this.#last = now;
    const t = (now - this.#t0) / 1000;
    const scope = (name: string) => (name === 't' ? t : this.#values.get(name) ?? 0);
    for (const live of this.#live) {
      const { point } = live;
      const b = point.behaviour;
      const v = this.#values.get(point.name) ?? 0;
      let next = v;
      switch (b.kind) {
        case 'constant':
          next = point.initial;
          break;
        case 'ramp':
          next = ramp(point.initial + b.rate * t, b.min, b.max, b.wrap ?? true);
          break;
        case 'sine':
          next = point.initial + b.amplitude * Math.sin((2 * Math.PI * t) / b.periodS + ((b.phaseDeg ?? 0) * Math.PI) / 180);
          break;
        case 'random-walk':
          if (!first) next = clamp(v + (live.random!() * 2 - 1) * b.step, b.min, b.max);
          break;
        case 'counter':
          next = v + live.rate!(scope) * dt;
          if (b.wrapAt !== undefined && next >= b.wrapAt) next %= b.wrapAt;
          break;
        case 'echo':
          if (b.of !== undefined) next = this.#values.get(b.of) ?? 0;
          break;
        case 'formula':
          next = live.formula!(scope);
          break;
      }
      // A formula over a missing or zero value may give NaN; a device would show 0 rather than garbage.
      this.#values.set(point.name, Number.isFinite(next) ? next : 0);
    }
    this.onTick?.();
  }
}

function clamp(v: number, min = -Infinity, max = Infinity): number {
  return Math.min(max, Math.max(min, v));
}

function ramp(v: number, min: number | undefined, max: number | undefined, wrap: boolean): number {
  if (wrap && min !== undefined && max !== undefined && max > min) return min + ((((v - min) % (max - min)) + (max - min)) % (max - min));
  return clamp(v, min, max);
}
