// The lab's thermal plant: a first-order heater shared by the MAX31865, relay and PLC simulators.
// MV heats only while the relay is on. `timeScale` runs process time faster than the clock, so a
// test can watch an hour of process in a minute.
import type { Clock } from '../../core/clock.ts';

export interface HeaterPlantOptions {
  clock: Clock;
  /** Ambient temperature the plant cools towards (°C). */
  ambientC?: number;
  /** Steady-state rise above ambient at 100 % MV (°C). */
  gainC?: number;
  /** Time constant in process seconds. */
  tauS?: number;
  /** Process seconds per clock second. */
  timeScale?: number;
  initialC?: number;
}

export class HeaterPlant {
  readonly ambientC: number;
  readonly gainC: number;
  readonly tauS: number;
  readonly timeScale: number;
  #temperature: number;
  #relayOn = false;
  #mv = 0;
  #last: number;

  constructor(readonly options: HeaterPlantOptions) {
    this.ambientC = options.ambientC ?? 22;
    this.gainC = options.gainC ?? 100;
    this.tauS = options.tauS ?? 120;
    this.timeScale = options.timeScale ?? 1;
    this.#temperature = options.initialC ?? this.ambientC;
    this.#last = options.clock.now();
  }

  /** Plant temperature now (°C), integrating exactly since the last input change. */
  temperature(): number {
    this.#advance();
    return this.#temperature;
  }

  get relayOn(): boolean {
    return this.#relayOn;
  }

  setRelay(on: boolean): void {
    this.#advance();
    this.#relayOn = on;
  }

  /** Manipulated variable from the PLC's PID, 0..100 %. */
  get mv(): number {
    return this.#mv;
  }

  setMv(percent: number): void {
    this.#advance();
    this.#mv = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
  }

  /** Forces the temperature (tests: start a scenario from a known state). */
  setTemperature(c: number): void {
    this.#advance();
    this.#temperature = c;
  }

  /** Process seconds elapsed per clock millisecond difference. */
  processSeconds(clockMs: number): number {
    return (clockMs / 1000) * this.timeScale;
  }

  #advance(): void {
    const now = this.options.clock.now();
    const dt = this.processSeconds(now - this.#last);
    this.#last = now;
    if (dt <= 0) return;
    const duty = this.#relayOn ? this.#mv / 100 : 0;
    const target = this.ambientC + this.gainC * duty;
    this.#temperature = target + (this.#temperature - target) * Math.exp(-dt / this.tauS);
  }
}
