// What one plugin run owns: its abort signal, its timers and its cleanups. Disposing the scope
// removes all of it, and any throw or rejection inside a tracked callback is reported as the
// plugin's failure (so the supervisor restarts it) instead of crashing the process.
import type { Clock, TimerHandle } from '../clock.ts';
import { linkSignals } from '../abort.ts';
import { sleepOn } from '../clock.ts';

type Cleanup = () => void | Promise<void>;

export class PluginScope {
  readonly #controller = new AbortController();
  readonly #timers = new Set<TimerHandle>();
  readonly #cleanups: Cleanup[] = [];
  readonly #onFailure: (err: unknown) => void;
  readonly #root: Clock;
  /** A clock whose timers belong to this scope. */
  readonly clock: Clock;

  constructor(readonly owner: string, root: Clock, onFailure: (err: unknown) => void) {
    this.#root = root;
    this.#onFailure = onFailure;
    this.clock = this.#scopedClock();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get disposed(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Reports a failure of this plugin run (ignored once the scope is disposed). */
  fail(err: unknown): void {
    if (!this.disposed) this.#onFailure(err);
  }

  /** Wraps a callback so a throw or rejection becomes a failure of this plugin. */
  guard<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => void {
    return (...args: A) => {
      if (this.disposed) return;
      try {
        const r = fn(...args);
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, (e: unknown) => this.fail(e));
      } catch (e) {
        this.fail(e);
      }
    };
  }

  setTimeout(fn: () => unknown, ms: number): TimerHandle {
    const handle = this.#root.setTimeout(() => {
      this.#timers.delete(handle);
      this.guard(fn)();
    }, ms);
    this.#timers.add(handle);
    return handle;
  }

  setInterval(fn: () => unknown, ms: number): TimerHandle {
    const handle = this.#root.setInterval(this.guard(fn), ms);
    this.#timers.add(handle);
    return handle;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (!handle) return;
    this.#root.clearTimeout(handle);
    this.#timers.delete(handle);
  }

  /**
   * Runs `fn` every `ms`, never overlapping: the next run is scheduled when the previous one
   * settles. A throw or rejection fails the plugin unless `onError` handles it.
   */
  every(ms: number, fn: () => unknown, options: { immediate?: boolean; onError?: (err: unknown) => void } = {}): void {
    const tick = async (): Promise<void> => {
      if (this.disposed) return;
      try {
        await fn();
      } catch (err) {
        if (!options.onError) throw err;
        options.onError(err);
      }
      if (!this.disposed) this.setTimeout(tick, ms);
    };
    if (options.immediate) this.setTimeout(tick, 0);
    else this.setTimeout(tick, ms);
  }

  /**
   * Runs `fn` after `firstMs`, then again after the delay each run returns (a poll loop whose
   * period depends on the outcome: backoff while a device is down). Runs never overlap; a throw
   * or rejection fails the plugin.
   */
  loop(fn: () => Promise<number> | number, firstMs = 0): void {
    const tick = async (): Promise<void> => {
      const next = await fn();
      if (!this.disposed) this.setTimeout(tick, next);
    };
    this.setTimeout(tick, firstMs);
  }

  /** Starts a background task; its rejection fails the plugin unless the scope was disposed. */
  run(task: (signal: AbortSignal) => Promise<unknown>): void {
    task(this.signal).then(undefined, (e: unknown) => this.fail(e));
  }

  /** Registers a cleanup run (in reverse order) when the scope is disposed: routes, sockets, listeners. */
  defer(cleanup: Cleanup): void {
    this.#cleanups.push(cleanup);
  }

  /** Number of live timers (a disposed scope has none). */
  timerCount(): number {
    return this.#timers.size;
  }

  /** Aborts the signal, clears every timer and runs every cleanup; cleanup errors are returned, not thrown. */
  async dispose(): Promise<unknown[]> {
    if (!this.disposed) this.#controller.abort(new Error(`${this.owner} stopped`));
    for (const t of this.#timers) this.#root.clearTimeout(t);
    this.#timers.clear();
    const errors: unknown[] = [];
    while (this.#cleanups.length) {
      const c = this.#cleanups.pop()!;
      try {
        await c();
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }

  #scopedClock(): Clock {
    const root = this.#root;
    const clock: Clock = {
      now: () => root.now(),
      monotonic: () => root.monotonic(),
      setTimeout: (fn, ms) => this.setTimeout(fn, ms),
      clearTimeout: (h) => this.clearTimer(h),
      setInterval: (fn, ms) => this.setInterval(fn, ms),
      clearInterval: (h) => this.clearTimer(h),
      sleep: (ms: number, signal?: AbortSignal) => {
        if (!signal) return sleepOn(clock, ms, this.signal);
        const linked = linkSignals([signal, this.signal]);
        return sleepOn(clock, ms, linked.signal).finally(linked.dispose);
      },
    };
    return clock;
  }
}
