// A manual clock for tests and faster-than-real-time simulation: time moves only when advanced.
import { type Clock, sleepOn, type TimerHandle } from './clock.ts';
import { TimerQueue } from './timer-queue.ts';

interface FakeTimer {
  id: number;
  due: number;
  every?: number;
  fn: () => void;
}

/** Yields to the event loop so promise chains started by a timer can settle. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  #now: number;
  #mono = 0;
  #seq = 1;
  readonly #timers = new TimerQueue<FakeTimer>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#seq++;
    this.#timers.push({ id, due: this.#mono + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.#timers.delete(handle.id);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.#seq++;
    const every = Math.max(1, ms);
    this.#timers.push({ id, due: this.#mono + every, every, fn });
    return { id };
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Number of timers still scheduled (a stopped plugin must leave none behind). */
  pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due in order and letting the
   * promises each one starts settle before the next fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#mono + ms;
    await settle();
    for (;;) {
      const next = this.#timers.peek(target);
      if (!next) break;
      this.#now += next.due - this.#mono;
      this.#mono = next.due;
      this.#timers.take(next);
      if (next.every) {
        next.due += next.every;
        this.#timers.push(next);
      }
      next.fn();
      await settle();
    }
    this.#now += target - this.#mono;
    this.#mono = target;
    await settle();
  }
}
