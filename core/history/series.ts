// In-memory bookkeeping of one series: its segment windows, records not yet on disk, and the
// open window's records (the only segment held in memory).
import type { HistoryQuery, HistoryRecord } from './types.ts';

/** A record waiting for (or in the middle of) its group commit. */
export interface PendingRecord {
  record: HistoryRecord;
  line: Uint8Array;
  /** Global append order, so a full backlog drops the oldest appends first. */
  seq: number;
}

let windowIds = 0;

/** One time window of one series, i.e. one segment file. */
export class WindowState {
  /** Unique in this process: a pruned and re-created window is a new one (see HistoryStore.segments). */
  readonly id = ++windowIds;
  /** Appended, not yet handed to a commit. */
  pending: PendingRecord[] = [];
  /** Being written by the current commit; still visible to queries until confirmed. */
  inflight: PendingRecord[] = [];
  /** A segment file exists for this window. */
  onDisk = false;
  /**
   * Bytes of the file known to hold confirmed lines; queries read only this far, so a commit
   * writing beyond it never shows a record twice. Undefined until first needed (stat).
   */
  size: number | undefined;
  sizeProbe: Promise<void> | undefined;
  /** A write failed: bytes past `size` may be a torn write, truncated before the next append. */
  dirty = false;
  /** Smallest and largest ts seen in this window (null until a record was seen). */
  minTs: number | null = null;
  maxTs: number | null = null;
  /** A `<start>.sum` sidecar exists (its validity is checked when it is read). */
  summaryFile = false;
  /** The segment size the sidecar on disk was written or checked for by this process. */
  summaryBytes: number | undefined;
  /** The window's confirmed records, sorted, kept from when it closed until its summary is written. */
  closingRecords: HistoryRecord[] | null = null;
  /** Rows reached the file after the window closed: the background pass should summarise it again. */
  summaryStale = false;

  constructor(readonly start: number) {}

  note(ts: number): void {
    if (this.minTs === null || ts < this.minTs) this.minTs = ts;
    if (this.maxTs === null || ts > this.maxTs) this.maxTs = ts;
  }

  /** Records not yet confirmed on disk, in append order. */
  unwritten(): HistoryRecord[] {
    return [...this.inflight, ...this.pending].map((p) => p.record);
  }

  get empty(): boolean {
    return !this.onDisk && this.pending.length === 0 && this.inflight.length === 0;
  }
}

export class SeriesState {
  readonly windows = new Map<number, WindowState>();
  /** Start of the window containing the clock's now. */
  openWindow = Number.NaN;
  /**
   * The open window's confirmed records, sorted by ts; null when they must be read from the file
   * instead (the window already had a file on disk when it became the open one).
   */
  cache: HistoryRecord[] | null = null;
  /** The series folder has been created (or found) by this process. */
  dirReady = false;

  constructor(readonly name: string) {}

  window(start: number): WindowState {
    let ws = this.windows.get(start);
    if (!ws) this.windows.set(start, (ws = new WindowState(start)));
    return ws;
  }

  /** Window starts, oldest first. */
  starts(): number[] {
    return [...this.windows.keys()].sort((a, b) => a - b);
  }
}

/** Index of the first record with ts >= `ts` (records sorted by ts). */
export function lowerBound(records: readonly HistoryRecord[], ts: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid].ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first record with ts > `ts` (records sorted by ts). */
export function upperBound(records: readonly HistoryRecord[], ts: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid].ts <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts after any records with the same ts, keeping arrival order among equals. */
export function insertSorted(records: HistoryRecord[], record: HistoryRecord): void {
  const n = records.length;
  if (n === 0 || records[n - 1].ts <= record.ts) {
    records.push(record);
    return;
  }
  records.splice(upperBound(records, record.ts), 0, record);
}

/** Range (inclusive) and `where` (exact field values). */
export function matches(record: HistoryRecord, q: HistoryQuery): boolean {
  if (q.from !== undefined && record.ts < q.from) return false;
  if (q.to !== undefined && record.ts > q.to) return false;
  if (q.where) {
    for (const [k, v] of Object.entries(q.where)) if (record.data[k] !== v) return false;
  }
  return true;
}

/**
 * Drops up to `count` of the oldest appends (by append order) that no commit is writing, across
 * all series; returns how many went per series. Windows left with nothing are forgotten.
 */
export function dropOldestPending(states: Iterable<SeriesState>, count: number): Map<string, number> {
  const queues: { state: SeriesState; ws: WindowState; cut: number }[] = [];
  for (const state of states) for (const ws of state.windows.values()) if (ws.pending.length) queues.push({ state, ws, cut: 0 });
  const dropped = new Map<string, number>();
  for (let left = count; left > 0; left--) {
    let best: (typeof queues)[number] | undefined;
    for (const q of queues) {
      if (q.cut < q.ws.pending.length && (!best || q.ws.pending[q.cut].seq < best.ws.pending[best.cut].seq)) best = q;
    }
    if (!best) break;
    best.cut++;
    dropped.set(best.state.name, (dropped.get(best.state.name) ?? 0) + 1);
  }
  for (const { state, ws, cut } of queues) {
    if (cut === 0) continue;
    ws.pending.splice(0, cut);
    if (ws.empty && ws.start !== state.openWindow) state.windows.delete(ws.start);
  }
  return dropped;
}
