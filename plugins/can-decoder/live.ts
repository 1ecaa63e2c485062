// Live sensor keys with the seed's Redis semantics on the state store: `sensor:<name>` and
// `sensor:<name>:ts` (ms since the epoch) written on every valid value, and set to null once no
// valid value came for ttlMs. Writes are coalesced (the last value per key per flush) and not
// fsynced: live values are rebuilt from the bus within seconds after a restart.
import type { Clock } from '../../core/clock.ts';
import type { StateStore } from '../../core/store/types.ts';

export class LiveSensors {
  #pending: Record<string, unknown> = {};
  #pendingCount = 0;
  /** Clock time of the last valid value per sensor (receipt time, so replayed old logs expire normally). */
  readonly #lastSeen = new Map<string, number>();
  readonly #expired = new Set<string>();
  #writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: { store: StateStore; clock: Clock; ttlMs: number; names: readonly string[] }) {
    for (const n of opts.names) this.#expired.add(n);
  }

  update(name: string, value: number, ts: number): void {
    this.#pending[`sensor:${name}`] = value;
    this.#pending[`sensor:${name}:ts`] = ts;
    this.#pendingCount++;
    this.#lastSeen.set(name, this.opts.clock.now());
    this.#expired.delete(name);
  }

  /** Writes pending values; resolves when the store has them. */
  flush(): Promise<unknown> {
    if (this.#pendingCount === 0) return this.#writes;
    const batch = this.#pending;
    this.#pending = {};
    this.#pendingCount = 0;
    this.#writes = this.opts.store.setMany(batch, { durable: false });
    return this.#writes;
  }

  /** Nulls every sensor whose last valid value is older than the TTL; returns the names that expired now. */
  sweep(): string[] {
    const now = this.opts.clock.now();
    const gone: string[] = [];
    for (const [name, seen] of this.#lastSeen) {
      if (now - seen < this.opts.ttlMs || this.#expired.has(name)) continue;
      this.#expired.add(name);
      gone.push(name);
      this.#pending[`sensor:${name}`] = null;
      this.#pending[`sensor:${name}:ts`] = null;
      this.#pendingCount++;
    }
    return gone;
  }

  /** Sensors without a live value (expired, or no valid frame since start). */
  stale(): string[] {
    return [...this.#expired];
  }
}
