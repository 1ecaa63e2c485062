// Unit counting: rising edges of a cycle input (with debounce), or deltas of a PLC counter that
// wraps around. Both are pure state machines fed with readings; the recorder persists their state.

/**
 * Counts rising edges of a polled (or interrupt-driven) digital input. A rising edge within
 * `debounceMs` of the last counted one is contact bounce and ignored. After a gap in the readings
 * (`forget()`), the level before is unknown, so the first reading only sets the baseline: a pulse
 * that started during the gap is not counted (it cannot be known).
 */
export class EdgeCounter {
  #level: boolean | undefined;
  #lastCountedAt = -Infinity;

  constructor(readonly debounceMs: number) {}

  /** Feeds one reading at time `t` (ms); returns 1 when it completes a counted rising edge, else 0. */
  update(level: boolean, t: number): 0 | 1 {
    const previous = this.#level;
    this.#level = level;
    if (previous !== false || !level) return 0;
    return this.rising(t);
  }

  /** A rising edge reported by an interrupt at time `t`; returns 1 when it counts. */
  rising(t: number): 0 | 1 {
    if (t - this.#lastCountedAt < this.debounceMs) return 0;
    this.#lastCountedAt = t;
    return 1;
  }

  get level(): boolean | undefined {
    return this.#level;
  }

  /** The readings stopped (device unreachable, restart): the next one is a new baseline. */
  forget(): void {
    this.#level = undefined;
  }
}

/**
 * Units from a PLC counter: the difference to the last value seen (persisted across restarts and
 * reconnects, so units made while the link was down are counted once, at reconnection). A value
 * below the last one is a wrap-around when the drop is more than half the modulus (the counter
 * passed `wrap - 1` → 0), otherwise a counter reset in the PLC: then the new value itself is the
 * count since the reset.
 */
export class CounterTracker {
  #last: number | undefined;

  constructor(readonly wrap: number, last?: number) {
    this.#last = last;
  }

  get last(): number | undefined {
    return this.#last;
  }

  /** Feeds one counter reading; returns the units since the previous one (0 for the first ever). */
  update(raw: number): number {
    const value = ((Math.trunc(raw) % this.wrap) + this.wrap) % this.wrap; // signed INT counters read negative past 32767
    const last = this.#last;
    this.#last = value;
    if (last === undefined) return 0;
    if (value >= last) return value - last;
    return last - value > this.wrap / 2 ? this.wrap - last + value : value;
  }
}
