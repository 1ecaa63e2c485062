// The contract of the history store: long append-only series in time-sharded segment files.
import type { SegmentSummary } from './summary.ts';

export interface HistoryRecord {
  /** Milliseconds since the epoch. */
  ts: number;
  /** Any JSON-serialisable row (a CAN frame, a sampled signal). */
  data: Record<string, unknown>;
}

export interface HistoryQuery {
  /** Inclusive lower bound, ms since the epoch. */
  from?: number;
  /** Inclusive upper bound, ms since the epoch. */
  to?: number;
  /** At most this many records (oldest first unless `newestFirst`). */
  limit?: number;
  newestFirst?: boolean;
  /** Keep only records whose data matches every given field exactly. */
  where?: Record<string, string | number | boolean | null>;
}

export interface HistorySegment {
  /** Window [start, end) in ms since the epoch. */
  start: number;
  end: number;
  version: string | null;
}

export interface HistoryStatus {
  mode: 'disk' | 'memory';
  ok: boolean;
  lastError: string | null;
  series: Record<string, { segments: number; openRecords: number; oldestTs: number | null; newestTs: number | null }>;
  pendingWrites: number;
}

export interface HistoryStore {
  /** Appends records to a series (e.g. `can_messages`, `signaldatas`); durable by default via group commit. */
  append(series: string, records: HistoryRecord[], options?: { durable?: boolean }): Promise<{ durable: boolean }>;
  /** Reads across closed and open segments in time order. */
  query(series: string, query?: HistoryQuery): Promise<HistoryRecord[]>;
  /**
   * Streams the records in [from, to] in batches with bounded memory (one read chunk, never a
   * whole range): windows oldest first, but within a window in arrival order, NOT sorted by ts (a
   * late record comes where it was appended). For aggregation; use `query` when order matters.
   */
  scan(series: string, range?: { from?: number; to?: number }): AsyncIterable<HistoryRecord[]>;
  /**
   * The segments of a series overlapping [from, to], oldest first. `version` is non-null only for
   * a segment whose content cannot change unseen (closed, on disk, nothing pending): while it
   * stays the same, so do the records, so a reader may cache what it derived from them.
   */
  segments(series: string, range?: { from?: number; to?: number }): Promise<HistorySegment[]>;
  /**
   * Per key and 12 s cell (count, min, max, exact sum, first/last) of a closed segment whose
   * `version` is non-null; null when it has none yet. Optional: a store without it is read by rows.
   */
  summary?(series: string, start: number): Promise<SegmentSummary | null>;
  /** Deletes whole segments that end before `before` (ms); returns how many segments went. */
  prune(series: string, before: number): Promise<number>;
  /**
   * Gives one series its own retention instead of the store's `retentionMs` (0 = keep forever),
   * for a series whose owner keeps it longer or shorter (an audit archive outliving CAN frames).
   */
  setRetention(series: string, retentionMs: number): void;
  listSeries(): string[];
  flush(): Promise<void>;
  status(): HistoryStatus;
  close(): Promise<void>;
}
