// MAX31865 register protocol over an SpiBus: configure, convert (one-shot or auto), read the RTD
// word, and on a fault run the chip's fault-detection cycle, decode the status and clear it.
import type { Clock } from '../../core/clock.ts';
import { FieldgateError } from '../../core/errors.ts';
import type { SpiBus } from '../../adapters/spi/types.ts';
import { rtdResistance, rtdTemperature } from './cvd.ts';
import { decodeFaults, describeFaults, hex, type FaultBit } from './faults.ts';
import { BIAS_SETTLE_MS, CONFIG, conversionWaitMs, REG, WRITE } from './registers.ts';

export interface Max31865Settings {
  /** 100 (PT100) or 1000 (PT1000). */
  rtdNominal: 100 | 1000;
  rref: number;
  wires: 2 | 3 | 4;
  filterHz: 50 | 60;
  mode: 'one-shot' | 'auto';
  /** Fault thresholds as temperatures (°C): a conversion outside them sets the fault flag. */
  minC?: number;
  maxC?: number;
}

export interface Max31865Reading {
  temperature: number;
  resistance: number;
  /** 15-bit ADC code. */
  code: number;
}

/** The chip reported a fault: `status` is the fault status register, `faults` what it means. */
export class Max31865FaultError extends FieldgateError {
  override name = 'Max31865FaultError';
  constructor(readonly status: number, readonly faults: FaultBit[], where: string) {
    super(`max31865 ${where}: ${describeFaults(status)} [fault status 0x${hex(status)}]`);
  }

  /** The text published as the sensor fault. */
  get text(): string {
    return describeFaults(this.status);
  }
}

/** Nothing sensible answers on the bus (no chip, wrong wiring, wrong SPI mode). */
export class Max31865NotRespondingError extends FieldgateError {
  override name = 'Max31865NotRespondingError';
  readonly text = 'MAX31865 not responding on SPI (check wiring, power and SPI mode 1)';
}

const CYCLE_POLLS = 10;

export class Max31865 {
  readonly #bus: SpiBus;
  readonly #clock: Pick<Clock, 'sleep'>;
  readonly #settings: Max31865Settings;
  #configured = false;

  constructor(bus: SpiBus, settings: Max31865Settings, clock: Pick<Clock, 'sleep'>) {
    this.#bus = bus;
    this.#settings = settings;
    this.#clock = clock;
  }

  /** Config byte without the self-clearing bits: wiring and filter, bias and auto-convert as asked. */
  configByte(options: { bias: boolean; auto?: boolean }): number {
    let v = 0;
    if (options.bias) v |= CONFIG.VBIAS;
    if (options.auto) v |= CONFIG.AUTO_CONVERT;
    if (this.#settings.wires === 3) v |= CONFIG.THREE_WIRE;
    if (this.#settings.filterHz === 50) v |= CONFIG.FILTER_50HZ;
    return v;
  }

  async readRegisters(register: number, count: number): Promise<Uint8Array> {
    const tx = new Uint8Array(count + 1);
    tx[0] = register;
    const rx = await this.#bus.transfer(tx);
    return rx.subarray(1);
  }

  async writeRegisters(register: number, bytes: readonly number[]): Promise<void> {
    await this.#bus.transfer(Uint8Array.from([register | WRITE, ...bytes]));
  }

  /**
   * Sets wiring, filter and fault thresholds, clears latched faults and checks the chip answers.
   * In auto mode also starts continuous conversion. Safe to call again after a failure.
   */
  async configure(signal?: AbortSignal): Promise<void> {
    const s = this.#settings;
    const auto = s.mode === 'auto';
    const base = this.configByte({ bias: auto, auto: false });
    // The filter must not change while auto-converting: stop, clear faults, then start again.
    await this.writeRegisters(REG.CONFIG, [base | CONFIG.FAULT_CLEAR]);
    await this.writeRegisters(REG.HIGH_FAULT_MSB, [...this.#threshold(s.maxC ?? 900, 'high'), ...this.#threshold(s.minC ?? -220, 'low')]);
    const wanted = this.configByte({ bias: auto, auto });
    if (auto) await this.writeRegisters(REG.CONFIG, [wanted]);
    await this.#expectConfig(wanted);
    if (auto) await this.#clock.sleep(conversionWaitMs(s.filterHz), signal);
    this.#configured = true;
  }

  /** One temperature reading; rejects with Max31865FaultError or Max31865NotRespondingError. */
  async read(signal?: AbortSignal): Promise<Max31865Reading> {
    try {
      if (!this.#configured) await this.configure(signal);
      if (this.#settings.mode === 'one-shot') await this.#oneShot(signal);
      const rx = await this.readRegisters(REG.RTD_MSB, 2);
      const word = (rx[0]! << 8) | rx[1]!;
      if (word & 0x01) throw await this.#diagnose(signal);
      const code = word >> 1;
      const resistance = (code / 32768) * this.#settings.rref;
      return { code, resistance, temperature: rtdTemperature(resistance, this.#settings.rtdNominal) };
    } catch (err) {
      this.#configured = false; // reconfigure next time: the chip may have been power-cycled
      throw err;
    } finally {
      if (this.#settings.mode === 'one-shot') await this.#biasOff();
    }
  }

  /** Turns the bias current off (stops self-heating and auto-conversion). Best effort. */
  async standby(): Promise<void> {
    this.#configured = false;
    await this.writeRegisters(REG.CONFIG, [this.configByte({ bias: false })]);
  }

  /** Reads and clears the fault status register (0 when there is no fault). */
  async readAndClearFaults(): Promise<number> {
    const [status] = await this.readRegisters(REG.FAULT_STATUS, 1);
    const config = this.configByte({ bias: true, auto: this.#settings.mode === 'auto' });
    await this.writeRegisters(REG.CONFIG, [(config & ~CONFIG.AUTO_CONVERT) | CONFIG.FAULT_CLEAR]);
    if (config & CONFIG.AUTO_CONVERT) await this.writeRegisters(REG.CONFIG, [config]);
    return status! & 0xfc;
  }

  async #oneShot(signal?: AbortSignal): Promise<void> {
    const biased = this.configByte({ bias: true });
    await this.writeRegisters(REG.CONFIG, [biased]);
    await this.#expectConfig(biased);
    await this.#clock.sleep(BIAS_SETTLE_MS, signal);
    await this.writeRegisters(REG.CONFIG, [biased | CONFIG.ONE_SHOT]);
    // The result is only valid once the conversion ends; reading earlier returns the previous one.
    await this.#clock.sleep(conversionWaitMs(this.#settings.filterHz), signal);
  }

  async #biasOff(): Promise<void> {
    try {
      await this.writeRegisters(REG.CONFIG, [this.configByte({ bias: false })]);
    } catch {
      // The read already failed or succeeded; a lost bias-off shows up as an error on the next read.
    }
  }

  /** Runs the automatic fault-detection cycle so open inputs are told apart, then reads and clears. */
  async #diagnose(signal?: AbortSignal): Promise<Error> {
    const base = this.configByte({ bias: true });
    await this.writeRegisters(REG.CONFIG, [base | CONFIG.FAULT_CYCLE_AUTO]);
    for (let i = 0; i < CYCLE_POLLS; i++) {
      await this.#clock.sleep(1, signal);
      const [config] = await this.readRegisters(REG.CONFIG, 1);
      if (config === 0xff) return new Max31865NotRespondingError(`max31865 on ${this.#bus.description}: every register reads 0xFF`);
      if ((config! & CONFIG.FAULT_CYCLE_MASK) === 0) break;
    }
    const status = await this.readAndClearFaults();
    return new Max31865FaultError(status, decodeFaults(status), `on ${this.#bus.description}`);
  }

  async #expectConfig(wanted: number): Promise<void> {
    const [got] = await this.readRegisters(REG.CONFIG, 1);
    // D3:D2 may read non-zero while a fault cycle runs; the self-clearing bits always read 0.
    if ((got! & ~CONFIG.FAULT_CYCLE_MASK) !== wanted) {
      throw new Max31865NotRespondingError(
        `max31865 on ${this.#bus.description}: wrote config 0x${hex(wanted)}, read back 0x${hex(got!)}; ` +
          'check the wiring (SDI/SDO/SCLK/CS), 3.3 V power and that the adapter uses SPI mode 1',
      );
    }
  }

  /** Threshold register bytes for a temperature: the 15-bit code shifted into a 16-bit word. */
  #threshold(c: number, which: 'high' | 'low'): [number, number] {
    const code = Math.round((rtdResistance(c, this.#settings.rtdNominal) / this.#settings.rref) * 32768);
    const word = which === 'high' ? Math.min(0xffff, code << 1) : Math.max(0, code << 1);
    return [word >> 8, word & 0xff];
  }
}
