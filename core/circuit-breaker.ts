// A circuit breaker for device calls: after N consecutive failures it refuses calls (without touching
// the device) for a cool-down, then lets a few trial calls through to decide whether to close again.
import type { Clock } from './clock.ts';
import { CircuitOpenError, errorMessage } from './errors.ts';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Shown in errors, e.g. `modbus plc (127.0.0.1:1502)`. */
  name: string;
  clock: Clock;
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** Cool-down in ms before the circuit half-opens. Default 10000. */
  openMs?: number;
  /** Concurrent trial calls allowed while half-open. Default 1. */
  halfOpenMax?: number;
  onStateChange?: (state: CircuitState, prev: CircuitState) => void;
}

/** Numeric encoding for a gauge: closed 0, half-open 1, open 2. */
export function circuitStateValue(s: CircuitState): number {
  return s === 'closed' ? 0 : s === 'half-open' ? 1 : 2;
}

export class CircuitBreaker {
  readonly name: string;
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #openMs: number;
  readonly #halfOpenMax: number;
  readonly #onStateChange?: (state: CircuitState, prev: CircuitState) => void;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trials = 0;
  #generation = 0;
  #lastError: unknown = undefined;

  constructor(o: CircuitBreakerOptions) {
    this.name = o.name;
    this.#clock = o.clock;
    this.#threshold = positive(o.failureThreshold ?? 5, 'failureThreshold', o.name);
    this.#openMs = nonNegative(o.openMs ?? 10_000, 'openMs', o.name);
    this.#halfOpenMax = positive(o.halfOpenMax ?? 1, 'halfOpenMax', o.name);
    this.#onStateChange = o.onStateChange;
  }

  /** Current state. Reading it after the cool-down moves an open circuit to half-open (no timer is kept). */
  get state(): CircuitState {
    this.#refresh();
    return this.#state;
  }

  /** Consecutive failures so far (reset by any success). */
  get failures(): number {
    return this.#failures;
  }

  /** Message of the last recorded failure, or null. */
  get lastError(): string | null {
    return this.#lastError === undefined ? null : errorMessage(this.#lastError);
  }

  /** Milliseconds until the next trial call is allowed (0 unless open). */
  get retryInMs(): number {
    this.#refresh();
    if (this.#state !== 'open') return 0;
    return Math.max(0, this.#openedAt + this.#openMs - this.#clock.monotonic());
  }

  /** Runs `fn` unless the circuit is open; its outcome counts as a success or failure. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    this.#refresh();
    if (this.#state === 'open') throw this.#openError();
    const trial = this.#state === 'half-open';
    if (trial) {
      if (this.#trials >= this.#halfOpenMax) {
        throw new CircuitOpenError(`${this.name}: circuit half-open, a trial call is already in progress; retry shortly`, {
          cause: this.#lastError,
        });
      }
      this.#trials++;
    }
    // A trial that outlives its half-open period must not release a slot of the next one.
    const generation = this.#generation;
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      this.#release(trial, generation);
      this.recordFailure(err);
      throw err;
    }
    this.#release(trial, generation);
    this.recordSuccess();
    return value;
  }

  #release(trial: boolean, generation: number): void {
    if (trial && generation === this.#generation) this.#trials = Math.max(0, this.#trials - 1);
  }

  /**
   * Ends the cool-down now: the next call is a trial (half-open). For a cheap out-of-band probe
   * (a TCP connect) that says the device is back before `openMs` has passed.
   */
  trialNow(): void {
    if (this.#state !== 'open') return;
    this.#openedAt = this.#clock.monotonic() - this.#openMs;
    this.#refresh();
  }

  /** Records a success observed outside `call` (closes the circuit). */
  recordSuccess(): void {
    this.#failures = 0;
    this.#lastError = undefined;
    this.#transition('closed');
  }

  /** Records a failure observed outside `call`. */
  recordFailure(err?: unknown): void {
    this.#refresh();
    this.#failures++;
    if (err !== undefined) this.#lastError = err;
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= this.#threshold)) {
      this.#openedAt = this.#clock.monotonic();
      this.#transition('open');
    }
  }

  #openError(): CircuitOpenError {
    const next = Math.ceil(this.retryInMs / 1000);
    return new CircuitOpenError(
      `${this.name}: circuit open after ${this.#failures} consecutive failures; next trial in ${next} s`,
      { cause: this.#lastError },
    );
  }

  #refresh(): void {
    if (this.#state === 'open' && this.#clock.monotonic() - this.#openedAt >= this.#openMs) {
      this.#trials = 0;
      this.#generation++;
      this.#transition('half-open');
    }
  }

  #transition(next: CircuitState): void {
    const prev = this.#state;
    if (prev === next) return;
    this.#state = next;
    this.#onStateChange?.(next, prev);
  }
}

function positive(n: number, what: string, name: string): number {
  if (!Number.isFinite(n) || n < 1) throw new RangeError(`${name}: circuit breaker ${what} must be >= 1, got ${n}`);
  return Math.floor(n);
}

function nonNegative(n: number, what: string, name: string): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name}: circuit breaker ${what} must be >= 0, got ${n}`);
  return n;
}
