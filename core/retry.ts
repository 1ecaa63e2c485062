// Exponential backoff with jitter, and a retry loop on the injected clock that stops promptly on abort.
import type { Clock } from './clock.ts';

export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  initialMs: number;
  /** Upper bound of any delay, in ms (jitter never exceeds it). */
  maxMs: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Fraction 0..1 of each delay that is randomised away, so restarting peers spread out. Default 0.2. */
  jitter?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(o: BackoffOptions) {
    const factor = o.factor ?? 2;
    const jitter = o.jitter ?? 0.2;
    if (!(o.initialMs >= 0) || !Number.isFinite(o.initialMs)) throw new RangeError(`backoff: initialMs must be a finite number >= 0, got ${o.initialMs}`);
    if (!(o.maxMs >= o.initialMs)) throw new RangeError(`backoff: maxMs (${o.maxMs}) must be >= initialMs (${o.initialMs})`);
    if (!(factor >= 1)) throw new RangeError(`backoff: factor must be >= 1, got ${factor}`);
    if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`backoff: jitter must be between 0 and 1, got ${jitter}`);
    this.#initialMs = o.initialMs;
    this.#maxMs = o.maxMs;
    this.#factor = factor;
    this.#jitter = jitter;
    this.#random = o.random ?? Math.random;
  }

  /** How many delays have been handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt: initialMs * factor^n, capped at maxMs, minus up to `jitter` of it. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * Math.pow(this.#factor, this.#attempt));
    this.#attempt++;
    // Jitter only shortens the delay, so the cap stays a hard upper bound.
    const r = Math.min(1, Math.max(0, this.#random()));
    return Math.round(base * (1 - this.#jitter * r));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

export interface RetryOptions extends BackoffOptions {
  clock: Clock;
  signal?: AbortSignal;
  /** Maximum number of attempts (the first call included). Default Infinity. */
  retries?: number;
  /** Return false to give up at once on this error. Default: retry every error. */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log `retrying in 4 s`. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls `fn(attempt)` (attempt counts from 1) until it resolves, waiting a growing delay between
 * failures. Rejects with the last error when attempts run out or `shouldRetry` says no, and with
 * the signal's reason as soon as the signal aborts — even while `fn` is still running.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { clock, signal } = options;
  const maxAttempts = options.retries ?? Infinity;
  if (!(maxAttempts >= 1)) throw new RangeError(`retry: retries (max attempts) must be >= 1, got ${maxAttempts}`);
  const backoff = new Backoff(options);
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await untilAborted(fn(attempt), signal);
    } catch (err) {
      signal?.throwIfAborted();
      if (attempt >= maxAttempts) throw err;
      if (options.shouldRetry && !options.shouldRetry(err, attempt)) throw err;
      const delayMs = backoff.next();
      options.onRetry?.(err, attempt, delayMs);
      await clock.sleep(delayMs, signal);
    }
  }
}

/** Settles like `p`, or rejects with the signal's reason when it aborts first. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
