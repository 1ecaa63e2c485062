// Drives a FakeClock forward in small steps for as long as a scenario runs, yielding to real I/O
// between steps: virtual time runs as fast as the gateway (sockets, HTTP, disk) keeps up.
import type { FakeClock } from '../clock-fake.ts';

export interface PumpOptions {
  /** Virtual milliseconds per step (default 20): below the shortest poll period of the seed manifests. */
  stepMs?: number;
  /** At most this many virtual seconds per real second (default 50). */
  maxSpeed?: number;
}

// Real time to give the event loop between steps, so a loopback reply that needs a few loop turns
// arrives before its virtual timeout. A macrotask (not setImmediate) lets the poll phase run.
const yieldToIo = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class ClockPump {
  readonly #clock: FakeClock;
  readonly #stepMs: number;
  readonly #maxSpeed: number;
  #running: Promise<void> | null = null;
  #stop = false;
  #error: unknown = null;

  constructor(clock: FakeClock, options: PumpOptions = {}) {
    this.#clock = clock;
    this.#stepMs = options.stepMs ?? 20;
    this.#maxSpeed = options.maxSpeed ?? 50;
  }

  start(): void {
    if (this.#running) return;
    this.#stop = false;
    this.#running = this.#loop();
  }

  /** The first error a timer callback threw, if any (a timer that throws is a bug in the gateway). */
  get error(): unknown {
    return this.#error;
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#running;
    this.#running = null;
  }

  async #loop(): Promise<void> {
    const realStart = performance.now();
    const virtualStart = this.#clock.monotonic();
    while (!this.#stop) {
      try {
        await this.#clock.advance(this.#stepMs);
      } catch (err) {
        this.#error ??= err;
      }
      await yieldToIo();
      // Ahead of the speed limit: let real time catch up.
      const ahead = (this.#clock.monotonic() - virtualStart) / this.#maxSpeed - (performance.now() - realStart);
      if (ahead > 1) await new Promise<void>((resolve) => setTimeout(resolve, Math.min(ahead, 50)));
    }
  }
}
