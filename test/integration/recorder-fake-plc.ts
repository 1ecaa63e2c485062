// An in-memory S7 PLC for recorder tests (same S7Client interface), with a tiny production line:
// each cycle raises a cycle bit for `pulseMs`, increments a counter and draws power while running.
import type { S7Client, S7Value } from '../../adapters/s7/types.ts';
import { defineAdapter } from '../../core/plugin.ts';
import type { FakeClock } from '../../core/clock-fake.ts';

export class FakeS7 implements S7Client {
  readonly description = 's7 fake-plc rack 0 slot 1';
  online = true;
  values: Record<string, S7Value> = {};
  reads = 0;

  get connected(): boolean {
    return this.online;
  }

  async connect(): Promise<void> {
    if (!this.online) throw new Error(`${this.description}: connection refused; is the PLC on?`);
  }

  async read(addresses: readonly string[]): Promise<Record<string, S7Value>> {
    this.reads++;
    if (!this.online) throw new Error(`${this.description}: connection refused reading ${addresses.join(', ')}`);
    return Object.fromEntries(addresses.map((a) => [a, this.values[a] ?? 0]));
  }

  async write(values: Record<string, S7Value>): Promise<void> {
    Object.assign(this.values, values);
  }

  async close(): Promise<void> {}
}

/** Registers the fake as the `s7` adapter kind (its sim() hands out `plc`). */
export function fakeS7Adapter(plc: FakeS7) {
  return defineAdapter<Record<string, unknown>, S7Client>({
    kind: 's7',
    description: 'in-memory S7 PLC (tests)',
    optionsSchema: { type: 'object' },
    real: async () => ({ instance: plc, close: async () => {} }),
    sim: async () => ({ instance: plc, close: async () => {} }),
  });
}

/** Cycle bit `DB1,X0.0`, reject bit `DB1,X0.1`, counter `DB1,INT2` (signed INT, wraps), power `DB1,INT4` in 0.1 kW. */
export const PINS = { cycle: 'DB1,X0.0', reject: 'DB1,X0.1', counter: 'DB1,INT2', power: 'DB1,INT4' };

export class Line {
  counter = 0;
  constructor(readonly plc: FakeS7, readonly clock: FakeClock, start = 0) {
    this.counter = start;
    plc.values[PINS.counter] = toInt16(start);
    plc.values[PINS.cycle] = false;
    plc.values[PINS.reject] = false;
    plc.values[PINS.power] = 0;
  }

  /** Runs `n` cycles of `periodMs`, the cycle bit high for `pulseMs`; every `rejectEvery`-th is a reject. */
  async run(n: number, options: { periodMs?: number; pulseMs?: number; kw?: number; rejectEvery?: number } = {}): Promise<void> {
    const { periodMs = 1000, pulseMs = 200, kw = 7.5, rejectEvery = 0 } = options;
    this.plc.values[PINS.power] = Math.round(kw * 10);
    for (let i = 1; i <= n; i++) {
      this.counter = (this.counter + 1) % 65536;
      this.plc.values[PINS.counter] = toInt16(this.counter);
      this.plc.values[PINS.cycle] = true;
      if (rejectEvery && i % rejectEvery === 0) this.plc.values[PINS.reject] = true;
      await this.clock.advance(pulseMs);
      this.plc.values[PINS.cycle] = false;
      this.plc.values[PINS.reject] = false;
      await this.clock.advance(periodMs - pulseMs);
    }
  }

  stopMachine(): void {
    this.plc.values[PINS.power] = 0;
  }
}

function toInt16(v: number): number {
  return v > 32767 ? v - 65536 : v;
}
