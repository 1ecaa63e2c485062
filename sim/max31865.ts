// Binding-level MAX31865 simulator: implements SpiBus byte for byte (register file, auto-increment,
// self-clearing bits, conversion delay, fault thresholds and the fault-detection cycle) and
// measures a plant temperature through the forward Callendar–Van Dusen equation. Deliberately
// independent of the driver in plugins/max31865 so the two check each other.
import type { Clock } from '../core/clock.ts';
import { SpiClosedError, type SpiBus } from '../adapters/spi/types.ts';

export type Max31865FaultKind = 'open' | 'short' | 'force-open' | 'overvoltage';
export const MAX31865_FAULT_KINDS: readonly Max31865FaultKind[] = ['open', 'short', 'force-open', 'overvoltage'];

export interface Max31865SimOptions {
  clock: Pick<Clock, 'monotonic'>;
  /** The true temperature at the RTD (°C), e.g. `() => plant.temperature()`. */
  temperature: () => number;
  rtdNominal?: 100 | 1000;
  rref?: number;
  wires?: 2 | 3 | 4;
  description?: string;
}

const KEEP_WRITES = 1000;

export interface RegisterWrite {
  register: number;
  value: number;
  /** Clock monotonic ms. */
  at: number;
}

// Datasheet conversion times: one-shot 62.5 ms (50 Hz) / 52 ms (60 Hz); auto-convert 20 / 16.7 ms.
const ONE_SHOT_MS = { 50: 62.5, 60: 52 } as const;
// The automatic fault-detection cycle takes ~550 µs; the clock counts whole milliseconds.
const FAULT_CYCLE_MS = 1;
const HIGH_FAULT = 0x80;
const LOW_FAULT = 0x40;
const OV_UV = 0x04;
// Status bits the fault-detection cycle finds for each injected condition.
const CYCLE_BITS: Record<Max31865FaultKind, number> = { open: 0x20, 'force-open': 0x10 | 0x08, short: 0, overvoltage: OV_UV };

export class Max31865Sim implements SpiBus {
  readonly description: string;
  readonly rtdNominal: 100 | 1000;
  readonly rref: number;
  readonly wires: 2 | 3 | 4;
  readonly #clock: Pick<Clock, 'monotonic'>;
  readonly #plant: () => number;
  // Config, RTD MSB/LSB (LSB bit 0 computed on read), high threshold, low threshold, status.
  readonly #regs = Uint8Array.from([0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00]);
  #code = 0;
  #conversionDoneAt: number | null = null;
  #autoSince: number | null = null;
  #cycleDoneAt: number | null = null;
  #fault: Max31865FaultKind | null = null;
  #override: number | null = null;
  #disconnected = false;
  #closed = false;
  readonly #writes: RegisterWrite[] = [];

  constructor(options: Max31865SimOptions) {
    this.#clock = options.clock;
    this.#plant = options.temperature;
    this.rtdNominal = options.rtdNominal ?? 100;
    this.rref = options.rref ?? (this.rtdNominal === 1000 ? 4300 : 430);
    this.wires = options.wires ?? 3;
    this.description = options.description ?? `max31865 simulator (PT${this.rtdNominal}, Rref ${this.rref} Ω, ${this.wires}-wire)`;
  }

  transfer(tx: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new SpiClosedError(this.description));
    if (tx.length === 0) return Promise.reject(new RangeError(`spi ${this.description}: empty transfer`));
    const rx = new Uint8Array(tx.length);
    if (this.#disconnected) return Promise.resolve(rx.fill(0xff)); // MISO pulled high, nothing answers
    this.#update();
    const write = (tx[0]! & 0x80) !== 0;
    let reg = tx[0]! & 0x7f;
    for (let i = 1; i < tx.length; i++, reg = (reg + 1) & 0x07) {
      if (reg > 0x07) continue; // unknown address: reads 0, writes ignored, no auto-increment
      if (write) this.#write(reg, tx[i]!);
      else rx[i] = this.#read(reg);
    }
    return Promise.resolve(rx);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  // ---- test hooks -------------------------------------------------------------------------

  /** Injects a wiring fault that persists until `clearFault()`; the chip reports it as the real one would. */
  injectFault(kind: Max31865FaultKind): void {
    if (!MAX31865_FAULT_KINDS.includes(kind)) throw new Error(`unknown MAX31865 fault "${kind}"; use one of ${MAX31865_FAULT_KINDS.join(', ')}`);
    this.#fault = kind;
  }

  /** Repairs the wiring. Latched status bits stay until the driver clears them (config D1), as on the chip. */
  clearFault(): void {
    this.#fault = null;
  }

  get fault(): Max31865FaultKind | null {
    return this.#fault;
  }

  /** Overrides the plant temperature (°C); `null` measures the plant again. */
  setTemperature(c: number | null): void {
    this.#override = c;
  }

  /** The temperature the RTD is at now (°C). */
  temperature(): number {
    return this.#override ?? this.#plant();
  }

  /** Simulates a broken SPI connection (no chip answering: every byte reads 0xFF). */
  setDisconnected(disconnected: boolean): void {
    this.#disconnected = disconnected;
  }

  /** The register file 0x00..0x07 as the bus would read it now. */
  registers(): Uint8Array {
    this.#update();
    return Uint8Array.from({ length: 8 }, (_, r) => this.#read(r));
  }

  /** The last 1000 register writes, oldest first (`register` is the 0..7 index, not the write address). */
  writes(): RegisterWrite[] {
    return this.#writes.map((w) => ({ ...w }));
  }

  /** The 15-bit ADC code the chip would produce for `t` °C: round(R / Rref * 32768). */
  codeFor(t: number): number {
    return Math.min(0x7fff, Math.max(0, Math.round((rtdResistance(t, this.rtdNominal) / this.rref) * 32768)));
  }

  // ---- chip behaviour ---------------------------------------------------------------------

  get #config(): number {
    return this.#regs[0]!;
  }

  get #filterHz(): 50 | 60 {
    return this.#config & 0x01 ? 50 : 60;
  }

  #read(reg: number): number {
    if (reg === 0x02) return ((this.#code << 1) & 0xff) | (this.#regs[7] !== 0 ? 1 : 0);
    if (reg === 0x01) return (this.#code >> 7) & 0xff;
    return this.#regs[reg]!;
  }

  #write(reg: number, value: number): void {
    const now = this.#clock.monotonic();
    this.#writes.push({ register: reg, value, at: now });
    // A test hook, but the simulator also runs for weeks (--sim, the soak): keep the recent ones.
    if (this.#writes.length > KEEP_WRITES) this.#writes.shift();
    if (reg === 0x01 || reg === 0x02 || reg === 0x07) return; // read-only
    if (reg !== 0x00) {
      this.#regs[reg] = value;
      return;
    }
    const wasAuto = (this.#config & 0xc0) === 0xc0;
    const cycle = value & 0x0c;
    // Fault clear only acts when one-shot and the cycle bits are written as 0 (datasheet).
    if (value & 0x02 && !(value & 0x2c)) this.#regs[7] = 0;
    // One-shot (D5) and fault clear (D1) self-clear; D3:D2 read back while a cycle runs.
    this.#regs[0] = value & ~0x2e;
    if (cycle !== 0 && value & 0x80) {
      this.#regs[0] |= cycle;
      this.#cycleDoneAt = now + FAULT_CYCLE_MS;
    }
    const isAuto = (value & 0xc0) === 0xc0;
    if (isAuto && !wasAuto) this.#autoSince = now;
    if (!isAuto) this.#autoSince = null;
    if (value & 0x20 && !isAuto) this.#conversionDoneAt = now + ONE_SHOT_MS[this.#filterHz];
    this.#update();
  }

  #update(): void {
    const now = this.#clock.monotonic();
    if (this.#cycleDoneAt !== null && now >= this.#cycleDoneAt) {
      this.#cycleDoneAt = null;
      this.#regs[0] = this.#config & ~0x0c;
      if (this.#fault) this.#regs[7] |= CYCLE_BITS[this.#fault];
    }
    if (this.#conversionDoneAt !== null && now >= this.#conversionDoneAt) {
      this.#conversionDoneAt = null;
      this.#convert();
    }
    // Auto-convert: the first result after one one-shot time, then a fresh one at every read.
    if (this.#autoSince !== null && now - this.#autoSince >= ONE_SHOT_MS[this.#filterHz]) this.#convert();
    if (this.#fault === 'overvoltage') this.#regs[7] |= OV_UV;
  }

  #convert(): void {
    const biased = (this.#config & 0x80) !== 0;
    if (!biased) this.#code = 0; // no bias current: the ADC sees no voltage across the RTD
    else if (this.#fault === 'open' || this.#fault === 'force-open') this.#code = 0x7fff;
    else if (this.#fault === 'short') this.#code = 0;
    else this.#code = this.codeFor(this.temperature());
    const high = ((this.#regs[3]! << 8) | this.#regs[4]!) >> 1;
    const low = ((this.#regs[5]! << 8) | this.#regs[6]!) >> 1;
    if (this.#code >= high) this.#regs[7] |= HIGH_FAULT;
    if (this.#code < low) this.#regs[7] |= LOW_FAULT;
  }
}

// Forward Callendar–Van Dusen (IEC 60751), kept here so the simulator does not share code with the driver it tests.
function rtdResistance(t: number, r0: number): number {
  const A = 3.9083e-3;
  const B = -5.775e-7;
  const C = t < 0 ? -4.183e-12 : 0;
  return r0 * (1 + A * t + B * t * t + C * (t - 100) * t * t * t);
}
