// The contract of the state store (the seed's database.py API) that plugins and the API use.

export interface StateEntry<T = unknown> {
  value: T;
  /** Seconds since the epoch, as in the seed's `updated_at`. */
  updatedAt: number;
}

export interface TrendRow {
  /** Seconds since the epoch. */
  ts: number;
  pv: number | null;
  sp: number | null;
  mv: number | null;
}

export interface WriteOptions {
  /** Resolve only once the write is fsynced in the journal (group commit). Default true. */
  durable?: boolean;
}

export interface WriteResult {
  /** True when the write reached the disk; false while the store runs from memory after a disk failure. */
  durable: boolean;
}

export type StoreMode = 'disk' | 'memory';

export interface StoreStatus {
  mode: StoreMode;
  /** True when nothing is wrong; false while in memory fallback or after a recovery that lost data. */
  ok: boolean;
  dataDir: string | null;
  lastError: string | null;
  /** Mutations applied in memory but not yet fsynced. */
  pendingWrites: number;
  /** Age in ms of the oldest mutation not yet on disk (0 when none). */
  journalLagMs: number;
  journalBytes: number;
  lastSnapshotAt: number | null;
  /** What start-up recovered from: torn journal tails skipped, corrupt snapshot moved aside. */
  recovery: { journalRecordsReplayed: number; tornRecordsSkipped: number; corruptSnapshotMovedTo: string | null };
  /** The last periodic size measurement against the budget (absent until the first one). */
  size?: StoreSizeReport;
}

/** What the in-memory database occupies, from SQLite's page counts (cheap: no export). */
export interface StoreSize {
  /** Pages allocated times the page size: what the database holds in memory. */
  allocatedBytes: number;
  /** Allocated minus free pages (left by deletes, reused by later writes): what the data needs. */
  usedBytes: number;
}

export interface StoreSizeReport extends StoreSize {
  /** The configured budget for usedBytes (0 = none). */
  budgetBytes: number;
  /** usedBytes / budgetBytes (0 without a budget). */
  ratio: number;
  /** 'warning' from the warn ratio of the budget, 'error' above it. */
  level: 'ok' | 'warning' | 'error';
  /** Epoch ms of the measurement. */
  measuredAt: number;
}

export interface SqlParams {
  [name: string]: string | number | null | Uint8Array;
}

/** One statement of a `runMany` batch. */
export interface SqlStatement {
  sql: string;
  params?: SqlParams;
}

export interface StateStore {
  get<T = unknown>(key: string): T | undefined;
  getEntry<T = unknown>(key: string): StateEntry<T> | undefined;
  /** All keys, or only `keys` when given (missing keys are absent from the result). */
  getAll(keys?: string[]): Record<string, StateEntry>;
  /** Every key's value as one JSON object text (`{key: value}`), the same as getAll() flattened; cached between writes. */
  stateJson(): string;
  set(key: string, value: unknown, options?: WriteOptions): Promise<WriteResult>;
  /** Sets every key in one atomic mutation. */
  setMany(entries: Record<string, unknown>, options?: WriteOptions): Promise<WriteResult>;
  delete(key: string, options?: WriteOptions): Promise<WriteResult>;
  logTrend(row: Partial<TrendRow>, options?: WriteOptions): Promise<WriteResult>;
  /** Newest `limit` rows (default 900) within [from, to], returned oldest first. */
  recentTrend(options?: { limit?: number; from?: number; to?: number }): TrendRow[];
  /** Deletes trend rows older than `maxAgeSeconds`; returns how many went. */
  pruneTrend(maxAgeSeconds: number): Promise<number>;
  /** The database's size from its page counts; cheap enough for a periodic check, not for every write. */
  size(): StoreSize;
  /** Applies an owner's numbered migrations once each (plugin-owned tables). */
  migrate(owner: string, migrations: readonly string[]): Promise<void>;
  /** A journaled mutation on a plugin-owned table. */
  run(sql: string, params?: SqlParams, options?: WriteOptions): Promise<WriteResult>;
  /**
   * Several statements on plugin-owned tables as one journaled mutation, in one transaction:
   * either every statement applies or none does (the write rejects and nothing is journaled).
   */
  runMany(statements: readonly SqlStatement[], options?: WriteOptions): Promise<WriteResult>;
  query<T = Record<string, unknown>>(sql: string, params?: SqlParams): T[];
  /** Waits until every mutation so far is on disk (or the store is in memory fallback). */
  flush(): Promise<void>;
  /** Writes an atomic snapshot and truncates the journal. */
  snapshot(): Promise<void>;
  status(): StoreStatus;
  close(): Promise<void>;
}
