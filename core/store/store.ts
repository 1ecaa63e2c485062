// The StateStore on sql.js: every mutation is applied in memory at once, then handed to the
// persistence layer as one journal record; reads come straight from SQLite.
import type { Bus, StateChange } from '../bus.ts';
import type { Clock } from '../clock.ts';
import { FieldgateError, StorageError, errorMessage } from '../errors.ts';
import { type Mutation, applyMutation, encodeParams, valueJson } from './mutations.ts';
import type { Persistence } from './persistence.ts';
import type { StoreSql } from './sqlite.ts';
import type { SqlParams, SqlStatement, StateEntry, StateStore, StoreSize, StoreStatus, TrendRow, WriteOptions, WriteResult } from './types.ts';

export interface SqlJsStoreParts {
  sql: StoreSql;
  persistence: Persistence;
  clock: Clock;
  bus?: Bus;
  dataDir: string | null;
  recovery: StoreStatus['recovery'];
  /** Data-losing problems found at start-up; status().ok stays false while any is known. */
  problems: string[];
}

const DEFAULT_TREND_LIMIT = 900;

export class SqlJsStore implements StateStore {
  readonly #sql: StoreSql;
  readonly #p: Persistence;
  readonly #clock: Clock;
  readonly #bus: Bus | undefined;
  readonly #dataDir: string | null;
  readonly #recovery: StoreStatus['recovery'];
  readonly #problems: string[];
  #closing: Promise<void> | null = null;
  #released = false;
  /**
   * Every state row as [key, value JSON, updatedAt], sorted by key; rebuilt from SQLite on the first
   * read after any mutation. GET /api/state runs thousands of times per write, and a SELECT through
   * sql.js per request was most of its cost (bench/RESULTS.md, "API against the seed").
   */
  #rows: [string, string, number][] | null = null;
  #flatJson: string | null = null;

  constructor(parts: SqlJsStoreParts) {
    this.#sql = parts.sql;
    this.#p = parts.persistence;
    this.#clock = parts.clock;
    this.#bus = parts.bus;
    this.#dataDir = parts.dataDir;
    this.#recovery = parts.recovery;
    this.#problems = parts.problems;
  }

  get<T = unknown>(key: string): T | undefined {
    return this.getEntry<T>(key)?.value;
  }

  getEntry<T = unknown>(key: string): StateEntry<T> | undefined {
    this.#readable();
    const row = this.#sql.getValue(key);
    return row && { value: JSON.parse(row.json) as T, updatedAt: row.updatedAt };
  }

  getAll(keys?: string[]): Record<string, StateEntry> {
    this.#readable();
    const out: Record<string, StateEntry> = {};
    if (keys) {
      for (const key of keys) {
        const row = this.#sql.getValue(key);
        if (row) out[key] = { value: JSON.parse(row.json), updatedAt: row.updatedAt };
      }
      return out;
    }
    for (const [key, json, updatedAt] of this.#stateRows()) out[key] = { value: JSON.parse(json), updatedAt };
    return out;
  }

  stateJson(): string {
    this.#readable();
    if (this.#flatJson === null) {
      const parts = this.#stateRows().map(([key, json]) => `${JSON.stringify(key)}:${json}`);
      this.#flatJson = `{${parts.join(',')}}`;
    }
    return this.#flatJson;
  }

  async set(key: string, value: unknown, options?: WriteOptions): Promise<WriteResult> {
    this.#writable();
    const json = valueJson(key, value);
    const updatedAt = this.#clock.now() / 1000;
    const previous = this.#listening() ? this.#sql.getValue(key) : undefined;
    this.#sql.upsert(key, json, updatedAt);
    this.#stateChanged();
    // Built by hand: the value is already JSON, and this is the hot path.
    const record = `{"s":${this.#p.nextSeq()},"o":"set","k":${JSON.stringify(key)},"u":${updatedAt},"v":${json}}`;
    const written = this.#p.record(record, options?.durable !== false);
    if (this.#bus) this.#publish(key, value, previous, updatedAt);
    return written;
  }

  async setMany(entries: Record<string, unknown>, options?: WriteOptions): Promise<WriteResult> {
    this.#writable();
    const u = this.#clock.now() / 1000;
    const keys = Object.keys(entries);
    const previous = this.#listening() ? keys.map((k) => this.#sql.getValue(k)) : [];
    const written = this.#mutate({ o: 'many', e: entries, u }, options);
    if (this.#bus) keys.forEach((k, i) => this.#publish(k, entries[k], previous[i], u));
    return written;
  }

  /** Removes `key`; listeners of `state/<key>` get a change whose value is undefined. */
  async delete(key: string, options?: WriteOptions): Promise<WriteResult> {
    this.#writable();
    const previous = this.#listening() ? this.#sql.getValue(key) : undefined;
    const written = this.#mutate({ o: 'del', k: key }, options);
    if (this.#bus && previous) this.#publish(key, undefined, previous, this.#clock.now() / 1000);
    return written;
  }

  async logTrend(row: Partial<TrendRow>, options?: WriteOptions): Promise<WriteResult> {
    this.#writable();
    return this.#mutate({ o: 'trend', r: [row.ts ?? this.#clock.now() / 1000, row.pv ?? null, row.sp ?? null, row.mv ?? null] }, options);
  }

  recentTrend(options: { limit?: number; from?: number; to?: number } = {}): TrendRow[] {
    this.#readable();
    const where: string[] = [];
    const params: Record<string, number> = { ':limit': Math.max(0, Math.floor(options.limit ?? DEFAULT_TREND_LIMIT)) };
    if (options.from !== undefined) {
      where.push('ts >= :from');
      params[':from'] = options.from;
    }
    if (options.to !== undefined) {
      where.push('ts <= :to');
      params[':to'] = options.to;
    }
    const sql = `SELECT ts, pv, sp, mv FROM trend ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC LIMIT :limit`;
    return (this.#sql.all(sql, params) as unknown as TrendRow[]).reverse();
  }

  async pruneTrend(maxAgeSeconds: number): Promise<number> {
    this.#writable();
    const before = this.#clock.now() / 1000 - maxAgeSeconds;
    // Nothing to delete means nothing to journal.
    if (!this.#sql.all('SELECT 1 AS x FROM trend WHERE ts < ? LIMIT 1', [before]).length) return 0;
    const m: Mutation = { o: 'prune', b: before };
    const removed = applyMutation(this.#sql, m);
    await this.#p.record(JSON.stringify({ s: this.#p.nextSeq(), ...m }), true);
    return removed;
  }

  size(): StoreSize {
    this.#readable();
    return this.#sql.size();
  }

  async migrate(owner: string, migrations: readonly string[]): Promise<void> {
    this.#writable();
    let last: Promise<WriteResult> | undefined;
    for (let i = 0; i < migrations.length; i++) {
      const version = i + 1;
      if (this.#sql.migrationApplied(owner, version)) continue;
      try {
        last = this.#mutate({ o: 'mig', w: owner, n: version, q: migrations[i], u: this.#clock.now() / 1000 });
      } catch (err) {
        throw new FieldgateError(`migration ${version} of "${owner}" failed: ${errorMessage(err)}; fix that migration (earlier ones stay applied)`, { cause: err });
      }
    }
    await last;
  }

  /** Runs one statement (a script without params) atomically. It is replayed at start, so keep it deterministic (no random(), no 'now'). */
  async run(sql: string, params?: SqlParams, options?: WriteOptions): Promise<WriteResult> {
    this.#writable();
    return this.#mutate({ o: 'run', q: sql, ...(params ? { p: encodeParams(params) } : {}) }, options);
  }

  /** Runs every statement in one transaction, journaled as one record: all applied or none. Replayed at start, like run(). */
  async runMany(statements: readonly SqlStatement[], options?: WriteOptions): Promise<WriteResult> {
    this.#writable();
    const l = statements.map((s) => ({ q: s.sql, ...(s.params ? { p: encodeParams(s.params) } : {}) }));
    return this.#mutate({ o: 'runs', l }, options);
  }

  query<T = Record<string, unknown>>(sql: string, params?: SqlParams): T[] {
    this.#readable();
    return this.#sql.all(sql, params) as unknown as T[];
  }

  flush(): Promise<void> {
    return this.#p.flush();
  }

  snapshot(): Promise<void> {
    this.#writable();
    return this.#p.snapshot();
  }

  status(): StoreStatus {
    const p = this.#p;
    const lastError = p.lastError ?? (this.#problems.length ? this.#problems[this.#problems.length - 1] : null);
    return {
      mode: p.mode,
      ok: (p.onDisk || this.#dataDir === null) && this.#problems.length === 0,
      dataDir: this.#dataDir,
      lastError,
      pendingWrites: p.pendingWrites,
      journalLagMs: p.journalLagMs,
      journalBytes: p.journalBytes,
      lastSnapshotAt: p.lastSnapshotAt,
      recovery: { ...this.#recovery },
    };
  }

  /** Flushes, writes a final snapshot and releases the database. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#p.close();
      } finally {
        this.#released = true;
        this.#sql.close();
      }
    })();
    return this.#closing;
  }

  /** Applies `m` (throwing if SQLite refuses it, in which case nothing is journaled), then journals it. */
  #mutate(m: Mutation, options?: WriteOptions): Promise<WriteResult> {
    // Any mutation may touch the state table (run() takes any SQL), and a refused one may have
    // rolled back part of one: drop the cached rows either way.
    try {
      applyMutation(this.#sql, m);
    } finally {
      if (m.o !== 'trend' && m.o !== 'prune') this.#stateChanged();
    }
    return this.#p.record(JSON.stringify({ s: this.#p.nextSeq(), ...m }), options?.durable !== false);
  }

  #stateRows(): [string, string, number][] {
    this.#rows ??= this.#sql.all('SELECT key, value, updated_at FROM state ORDER BY key').map((r) => [r.key as string, r.value as string, r.updated_at as number]);
    return this.#rows;
  }

  #stateChanged(): void {
    this.#rows = null;
    this.#flatJson = null;
  }

  #listening(): boolean {
    return this.#bus !== undefined && this.#bus.listenerCount() > 0;
  }

  #publish(key: string, value: unknown, previous: { json: string } | undefined, updatedAt: number): void {
    const change: StateChange = { key, value, previous: previous ? JSON.parse(previous.json) : undefined, updatedAt };
    this.#bus?.publish(`state/${key}`, change);
  }

  #writable(): void {
    if (this.#closing) throw new StorageError(`store${this.#dataDir ? ` in ${this.#dataDir}` : ''} is closed; writes are refused after close()`);
  }

  #readable(): void {
    if (this.#released) throw new StorageError(`store${this.#dataDir ? ` in ${this.#dataDir}` : ''} is closed; open it again to read`);
  }
}
