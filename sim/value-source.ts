// Simulated value source: a slow sine with noise, driven by the injected clock, with an optional
// fault (every Nth read fails) to show supervision and retries without hardware.
import type { Clock } from '../core/clock.ts';
import type { ValueSource, ValueSourceOptions } from '../adapters/value/types.ts';

export class SimulatedValueSource implements ValueSource {
  #reads = 0;
  #failNext = false;

  constructor(readonly options: ValueSourceOptions['sim'], readonly clock: Clock, readonly random: () => number = Math.random) {}

  get description(): string {
    return `simulator (sine ${this.options.base}±${this.options.amplitude})`;
  }

  /** Test hook: the next read fails as a disconnected sensor would. */
  failNextRead(): void {
    this.#failNext = true;
  }

  read(): Promise<number> {
    this.#reads++;
    const { base, amplitude, periodS, noise, failEvery } = this.options;
    if (this.#failNext || (failEvery > 0 && this.#reads % failEvery === 0)) {
      this.#failNext = false;
      return Promise.reject(new Error(`simulated value source: read ${this.#reads} failed (injected fault)`));
    }
    const t = this.clock.now() / 1000;
    const value = base + amplitude * Math.sin((2 * Math.PI * t) / periodS) + (this.random() * 2 - 1) * noise;
    return Promise.resolve(Math.round(value * 1000) / 1000);
  }
}
