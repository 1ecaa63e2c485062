// The history store: long append-only series (CAN frames, raw signals) in time-sharded segment files.
//
// Design:
// - Layout: `<dataDir>/history/<series>/<windowStartMs>.seg`, one file per series and window of
//   `segmentMs` (1 h by default). File names give the window, so a query opens only the files that
//   overlap its range, and retention deletes whole files. A late record (an old CAN frame) is
//   appended to its own window's file, whatever window is open.
// - Lines: `<crc32 hex> <json>\n` (segment.ts). A torn or corrupt line is skipped, counted and logged
//   with its file and offset; it never fails a query or the start. Appending to a file whose last
//   line is torn first writes a newline, so the torn line stays alone and skipped.
// - Memory: only the open window's records (sorted) and records not yet on disk. Closed segments
//   are streamed line by line when a query needs them.
// - Group commit: appends queue per window; a commit writes and fsyncs every touched file in
//   parallel (and the folder of a new file); `append(..., {durable: true})` resolves after that.
//   Queries read a file only up to the bytes commits confirmed and add unconfirmed records from
//   memory, so a record never shows twice while a commit runs.
// - Summaries: when a window closes, its rows (still in memory) are folded per key and 12 s cell into
//   a `<start>.sum` sidecar (summary.ts, summaries.ts) that bucketed queries merge instead of parsing
//   the rows. A sidecar holds only while the segment has the size it records; a missing, stale or
//   corrupt one is rebuilt from the segment, on a query or by the background pass at housekeeping.
// - Disk failure: records stay in memory (at most `maxBacklogRecords`, oldest dropped with an error
//   log), status says `memory`, and the disk is retried every `diskRetryMs`. A failed write is
//   truncated back to the last confirmed byte before the retry, so nothing is written twice.
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../clock.ts';
import { errorMessage, FieldgateError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { HistoryDisk } from './disk.ts';
import { checkRecord, checkSeriesName, encodeRecord, isSeriesName, parseSegmentFileName, parseSummaryFileName, readSegment, readSegmentBatches } from './segment.ts';
import { dropOldestPending, lowerBound, matches, SeriesState, upperBound, type WindowState } from './series.ts';
import { SummaryKeeper } from './summaries.ts';
import type { SegmentSummary } from './summary.ts';
import type { HistoryQuery, HistoryRecord, HistorySegment, HistoryStatus, HistoryStore } from './types.ts';
import { SegmentWriter } from './writer.ts';

export interface SegmentHistoryConfig {
  dataDir: string | null;
  disk: HistoryDisk;
  clock: Clock;
  log: Logger;
  segmentMs: number;
  retentionMs: number;
  commitDelayMs: number;
  lazyFlushMs: number;
  diskRetryMs: number;
  maxBacklogRecords: number;
}

export interface SegmentHistoryStatus extends HistoryStatus {
  dataDir: string | null;
  /** Torn or corrupt lines skipped so far (each counted once per file). */
  corruptLinesSkipped: number;
  /** Records dropped because the in-memory backlog was full; they are lost. */
  droppedRecords: number;
}

export class SegmentHistory implements HistoryStore {
  readonly #cfg: SegmentHistoryConfig;
  readonly #root: string;
  readonly #memoryOnly: boolean;
  readonly #series = new Map<string, SeriesState>();
  readonly #writer: SegmentWriter;
  readonly #summaries: SummaryKeeper;
  readonly #corruptSeen = new Map<string, number>();
  /** Per-series retention overriding the store's (setRetention). */
  readonly #retention = new Map<string, number>();
  #waiters: ((durable: boolean) => void)[] = [];
  #seq = 0;
  /** Records appended and not yet confirmed on disk (pending + in flight). */
  #unwritten = 0;
  #failed = false;
  #lastError: string | null = null;
  #corrupt = 0;
  #dropped = 0;
  #dropsUnlogged = 0;
  #lastDropLog = Number.NEGATIVE_INFINITY;
  #committing = false;
  #rerun = false;
  #commitTimer: TimerHandle | undefined;
  #commitDue = Number.POSITIVE_INFINITY;
  #housekeeping: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #retryRun: Promise<void> | null = null;
  #closing: Promise<void> | null = null;

  constructor(config: SegmentHistoryConfig) {
    this.#cfg = config;
    this.#memoryOnly = config.dataDir === null;
    this.#root = join(config.dataDir ?? ':memory:', 'history');
    this.#writer = new SegmentWriter(config.disk, this.#root, config.log);
    this.#summaries = new SummaryKeeper({
      disk: config.disk,
      log: config.log,
      segmentMs: config.segmentMs,
      writer: this.#writer,
      stable: (state, ws) => this.#stable(state, ws),
      reportCorrupt: (path, offsets) => this.#reportCorrupt(path, offsets),
    });
  }

  /** Finds the series and segments on disk and loads each open segment; called by openHistory(). */
  async start(): Promise<void> {
    const { disk, dataDir, log } = this.#cfg;
    try {
      await disk.mkdir(this.#root);
      if (dataDir !== null) await disk.syncDir(dataDir);
    } catch (err) {
      this.#enterMemory(err);
    }
    let names: string[] = [];
    try {
      names = await disk.list(this.#root);
    } catch (err) {
      this.#enterMemory(err);
    }
    for (const name of names.sort()) {
      if (!isSeriesName(name)) {
        if (!name.startsWith('.')) log.warn(`history (${this.#root}): ignoring "${name}", not a valid series folder name`);
        continue;
      }
      let files: string[];
      try {
        files = await disk.list(join(this.#root, name));
      } catch (err) {
        log.warn(`history (${join(this.#root, name)}): cannot list segments, series ignored: ${errorMessage(err)}`);
        continue;
      }
      const state = new SeriesState(name);
      state.dirReady = true;
      const sidecars: string[] = [];
      for (const file of files) {
        if (file.endsWith('.sum') || file.endsWith('.sum.tmp')) {
          sidecars.push(file);
          continue;
        }
        const start = parseSegmentFileName(file);
        if (start === null) continue;
        if (start % this.#cfg.segmentMs !== 0) {
          log.warn(`history (${join(this.#root, name, file)}): window not aligned to segmentMs ${this.#cfg.segmentMs}; was segmentMs changed? Queries may miss its records`);
        }
        state.window(start).onDisk = true;
      }
      await this.#adoptSidecars(state, sidecars);
      this.#series.set(name, state);
      this.#roll(state);
      if (state.cache === null) await this.#loadOpenWindow(state);
    }
    const every = Math.max(1, Math.floor(this.#cfg.segmentMs / 4));
    this.#housekeeping = this.#cfg.clock.setInterval(() => this.#housekeep(), every);
  }

  async append(series: string, records: HistoryRecord[], options: { durable?: boolean } = {}): Promise<{ durable: boolean }> {
    this.#assertOpen();
    checkSeriesName(series);
    if (!Array.isArray(records)) throw new FieldgateError(`history ${series}: append() takes an array of records`);
    const encoded = records.map((r, i) => {
      checkRecord(r, series, i);
      return encodeRecord(r);
    });
    let state = this.#series.get(series);
    if (!state) this.#series.set(series, (state = new SeriesState(series)));
    this.#roll(state);
    for (const { line, stored } of encoded) {
      const ws = state.window(this.#windowOf(stored.ts));
      ws.pending.push({ record: stored, line, seq: this.#seq++ });
      ws.note(stored.ts);
    }
    this.#unwritten += encoded.length;
    this.#limitBacklog();

    if (this.#memoryOnly) {
      this.#requestCommit(0);
      return { durable: false };
    }
    if (this.#failed) return { durable: false };
    if (encoded.length === 0) return { durable: true };
    if (options.durable === false) {
      // A fast producer must not fill the backlog on a healthy disk while the lazy timer waits.
      this.#requestCommit(this.#unwritten >= this.#cfg.maxBacklogRecords / 4 ? 0 : this.#cfg.lazyFlushMs);
      return { durable: false };
    }
    const done = new Promise<boolean>((resolve) => this.#waiters.push(resolve));
    this.#requestCommit(this.#cfg.commitDelayMs);
    return { durable: await done };
  }

  /** Records from the open segment are the store's own objects: treat results as read-only. */
  async query(series: string, query: HistoryQuery = {}): Promise<HistoryRecord[]> {
    this.#assertOpen();
    checkSeriesName(series);
    const state = this.#series.get(series);
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    if (!state || limit <= 0) return [];
    this.#roll(state);
    const lo = query.from === undefined ? Number.NEGATIVE_INFINITY : this.#windowOf(query.from);
    const hi = query.to === undefined ? Number.POSITIVE_INFINITY : this.#windowOf(query.to);
    const starts = state.starts().filter((w) => w >= lo && w <= hi);
    if (query.newestFirst) starts.reverse();
    const out: HistoryRecord[] = [];
    for (const start of starts) {
      const records = await this.#readWindow(state, start, query);
      if (query.newestFirst) for (let i = records.length - 1; i >= 0 && out.length < limit; i--) out.push(records[i]);
      else for (let i = 0; i < records.length && out.length < limit; i++) out.push(records[i]);
      if (out.length >= limit) break;
    }
    return out;
  }

  async *scan(series: string, range: { from?: number; to?: number } = {}): AsyncGenerator<HistoryRecord[]> {
    this.#assertOpen();
    checkSeriesName(series);
    const state = this.#series.get(series);
    if (!state) return;
    this.#roll(state);
    const query: HistoryQuery = { from: range.from, to: range.to };
    const lo = range.from === undefined ? Number.NEGATIVE_INFINITY : this.#windowOf(range.from);
    const hi = range.to === undefined ? Number.POSITIVE_INFINITY : this.#windowOf(range.to);
    for (const start of state.starts().filter((w) => w >= lo && w <= hi)) yield* this.#scanWindow(state, start, query);
  }

  async segments(series: string, range: { from?: number; to?: number } = {}): Promise<HistorySegment[]> {
    this.#assertOpen();
    checkSeriesName(series);
    const state = this.#series.get(series);
    if (!state) return [];
    this.#roll(state);
    const lo = range.from === undefined ? Number.NEGATIVE_INFINITY : this.#windowOf(range.from);
    const hi = range.to === undefined ? Number.POSITIVE_INFINITY : this.#windowOf(range.to);
    const starts = state.starts().filter((start) => start >= lo && start <= hi);
    // Sizes not yet known (segments from before this start) are probed together, not one by one.
    const unsized = starts.map((start) => state.windows.get(start)!).filter((ws) => this.#stable(state, ws, true) && ws.size === undefined);
    for (let i = 0; i < unsized.length; i += 64) {
      await Promise.all(unsized.slice(i, i + 64).map((ws) => this.#writer.ensureSize(ws, this.#writer.segmentPath(series, ws.start)).catch(() => undefined)));
    }
    return starts.map((start) => {
      const ws = state.windows.get(start)!;
      const version = this.#stable(state, ws) ? `${ws.id}:${ws.size}` : null;
      return { start, end: start + this.#cfg.segmentMs, version };
    });
  }

  /**
   * The summary (summary.ts) of the closed segment starting at `start`, from its sidecar or, when
   * that is missing, stale or corrupt, from its rows (and the sidecar is rewritten). Null while the
   * segment can still change unseen (open, rows not yet on disk, disk failing): read its rows then.
   */
  async summary(series: string, start: number): Promise<SegmentSummary | null> {
    this.#assertOpen();
    checkSeriesName(series);
    const state = this.#series.get(series);
    if (!state) return null;
    this.#roll(state);
    const ws = state.windows.get(start);
    if (!ws || start === state.openWindow || !ws.onDisk) return null;
    await this.#writer.ensureSize(ws, this.#writer.segmentPath(series, start)).catch(() => undefined);
    if (!this.#stable(state, ws)) return null;
    return this.#summaries.get(state, ws);
  }

  setRetention(series: string, retentionMs: number): void {
    checkSeriesName(series);
    if (!Number.isFinite(retentionMs) || retentionMs < 0) throw new RangeError(`history ${series}: retentionMs must be 0 (keep) or a positive number of ms, got ${retentionMs}`);
    this.#retention.set(series, retentionMs);
  }

  async prune(series: string, before: number): Promise<number> {
    this.#assertOpen();
    checkSeriesName(series);
    const state = this.#series.get(series);
    if (!state) return 0;
    return this.#writer.exclusive(async () => {
      let removed = 0;
      let failure: unknown;
      for (const start of state.starts()) {
        if (start + this.#cfg.segmentMs > before) break;
        const ws = state.windows.get(start)!;
        if (ws.onDisk) {
          const path = this.#writer.segmentPath(series, start);
          await this.#writer.closeHandles((h) => h.state === state && h.window === start);
          try {
            // Sidecar first: a crash in between leaves a segment without one, which is rebuilt if still kept.
            if (ws.summaryFile) {
              await this.#cfg.disk.remove(this.#summaries.path(series, start));
              ws.summaryFile = false;
            }
            await this.#cfg.disk.remove(path);
          } catch (err) {
            failure ??= err;
            continue;
          }
        }
        ws.closingRecords = null;
        this.#unwritten -= ws.pending.length + ws.inflight.length;
        state.windows.delete(start);
        if (start === state.openWindow) state.cache = [];
        removed++;
      }
      if (removed > 0) await this.#cfg.disk.syncDir(join(this.#root, series)).catch(() => undefined);
      if (failure !== undefined) {
        this.#lastError = `history (${join(this.#root, series)}): could not delete old segments: ${errorMessage(failure)}`;
        this.#cfg.log.error(`${this.#lastError}; will try again at the next retention run`, { err: failure });
      }
      return removed;
    });
  }

  listSeries(): string[] {
    return [...this.#series.keys()].sort();
  }

  /** Waits until every record appended so far is on disk (or the store runs from memory after a disk failure). */
  async flush(): Promise<void> {
    if (this.#failed || this.#unwritten === 0) return;
    const done = new Promise<boolean>((resolve) => this.#waiters.push(resolve));
    this.#requestCommit(0);
    await done;
  }

  /**
   * `oldestTs`/`newestTs` are exact for segments read or written by this process; for a segment
   * never opened they fall back to its window's bounds.
   */
  status(): SegmentHistoryStatus {
    const series: HistoryStatus['series'] = {};
    for (const [name, state] of this.#series) {
      this.#roll(state);
      let segments = 0;
      let oldestTs: number | null = null;
      let newestTs: number | null = null;
      for (const start of state.starts()) {
        const ws = state.windows.get(start)!;
        if (ws.empty) continue;
        segments++;
        oldestTs ??= ws.minTs ?? start;
        newestTs = ws.maxTs ?? start + this.#cfg.segmentMs - 1;
      }
      const open = state.windows.get(state.openWindow);
      const openRecords = (state.cache?.length ?? 0) + (open ? open.pending.length + open.inflight.length : 0);
      series[name] = { segments, openRecords, oldestTs, newestTs };
    }
    return {
      mode: this.#memoryOnly || this.#failed ? 'memory' : 'disk',
      ok: !this.#failed && this.#dropped === 0,
      lastError: this.#lastError,
      series,
      pendingWrites: this.#unwritten,
      dataDir: this.#cfg.dataDir,
      corruptLinesSkipped: this.#corrupt,
      droppedRecords: this.#dropped,
    };
  }

  /** Flushes and releases files and timers; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const { clock, log } = this.#cfg;
    clock.clearInterval(this.#housekeeping);
    this.#cancelCommitTimer();
    if (this.#failed) await this.#retryDisk();
    if (!this.#failed && this.#unwritten > 0) {
      const done = new Promise<boolean>((resolve) => this.#waiters.push(resolve));
      this.#requestCommit(0);
      await done;
    }
    clock.clearInterval(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#unwritten > 0 && !this.#memoryOnly) {
      log.error(`history (${this.#root}): closing with ${this.#unwritten} record(s) not on disk; they are lost. Last error: ${this.#lastError}`);
    }
    for (const resolve of this.#waiters.splice(0)) resolve(false);
    await this.#summaries.stop();
    await this.#writer.exclusive(() => this.#writer.closeHandles(() => true));
  }

  // --- reading ---------------------------------------------------------------------------------

  /** One window's records matching the query, sorted by ts. */
  async #readWindow(state: SeriesState, start: number, query: HistoryQuery): Promise<HistoryRecord[]> {
    const ws = state.windows.get(start);
    if (!ws) return [];
    let base: HistoryRecord[] = [];
    let unwritten: HistoryRecord[];
    let sorted = false;
    if (start === state.openWindow && state.cache) {
      const cache = state.cache;
      const from = query.from === undefined ? 0 : lowerBound(cache, query.from);
      const to = query.to === undefined ? cache.length : upperBound(cache, query.to);
      base = query.where ? cache.slice(from, to).filter((r) => matches(r, query)) : cache.slice(from, to);
      unwritten = ws.unwritten();
      sorted = true;
    } else if (ws.onDisk) {
      const path = this.#writer.segmentPath(state.name, start);
      try {
        await this.#writer.ensureSize(ws, path);
        if (state.windows.get(start) !== ws) return []; // pruned meanwhile
        // Snapshot what is confirmed (bytes) and what is not (memory) at one instant.
        const end = ws.size ?? 0;
        unwritten = ws.unwritten();
        const corrupt: number[] = [];
        for await (const r of readSegment(this.#cfg.disk, path, end, (offset) => corrupt.push(offset))) {
          ws.note(r.ts);
          if (matches(r, query)) base.push(r);
        }
        this.#reportCorrupt(path, corrupt);
      } catch (err) {
        this.#lastError = `history (${path}): read failed: ${errorMessage(err)}`;
        this.#cfg.log.error(`${this.#lastError}; the query result lacks this segment`, { err });
        unwritten = ws.unwritten();
      }
    } else {
      unwritten = ws.unwritten();
    }
    const extra = unwritten.filter((r) => matches(r, query));
    if (extra.length === 0 && sorted) return base;
    const all = base.concat(extra);
    return all.sort((a, b) => a.ts - b.ts);
  }

  /** One window's records in [from, to], unsorted, streamed from its file (see scan()). */
  async *#scanWindow(state: SeriesState, start: number, query: HistoryQuery): AsyncGenerator<HistoryRecord[]> {
    const ws = state.windows.get(start);
    if (!ws) return;
    if (start === state.openWindow && state.cache) {
      const cache = state.cache;
      const from = query.from === undefined ? 0 : lowerBound(cache, query.from);
      const to = query.to === undefined ? cache.length : upperBound(cache, query.to);
      // Snapshot first: the generator may be resumed after commits moved records into the cache.
      const unwritten = ws.unwritten().filter((r) => matches(r, query));
      const base = cache.slice(from, to);
      if (base.length) yield base;
      if (unwritten.length) yield unwritten;
      return;
    }
    let unwritten = ws.unwritten();
    if (ws.onDisk) {
      const path = this.#writer.segmentPath(state.name, start);
      const corrupt: number[] = [];
      try {
        await this.#writer.ensureSize(ws, path);
        if (state.windows.get(start) !== ws) return; // pruned meanwhile
        const end = ws.size ?? 0;
        unwritten = ws.unwritten();
        for await (const batch of readSegmentBatches(this.#cfg.disk, path, end, (offset) => corrupt.push(offset))) {
          const hits = batch.filter((r) => matches(r, query));
          if (hits.length) yield hits;
        }
      } catch (err) {
        this.#lastError = `history (${path}): read failed: ${errorMessage(err)}`;
        this.#cfg.log.error(`${this.#lastError}; the scan lacks this segment`, { err });
      }
      this.#reportCorrupt(path, corrupt);
    }
    const extra = unwritten.filter((r) => matches(r, query));
    if (extra.length) yield extra;
  }

  async #loadOpenWindow(state: SeriesState): Promise<void> {
    const ws = state.windows.get(state.openWindow);
    if (!ws) return;
    const path = this.#writer.segmentPath(state.name, ws.start);
    try {
      await this.#writer.ensureSize(ws, path);
      const records: HistoryRecord[] = [];
      const corrupt: number[] = [];
      for await (const r of readSegment(this.#cfg.disk, path, ws.size ?? 0, (offset) => corrupt.push(offset))) {
        records.push(r);
        ws.note(r.ts);
      }
      this.#reportCorrupt(path, corrupt);
      state.cache = records.sort((a, b) => a.ts - b.ts);
    } catch (err) {
      this.#cfg.log.error(`history (${path}): cannot load the open segment; queries will read the file: ${errorMessage(err)}`);
    }
  }

  #reportCorrupt(path: string, offsets: number[]): void {
    const seen = this.#corruptSeen.get(path) ?? 0;
    if (offsets.length <= seen) return;
    this.#corrupt += offsets.length - seen;
    this.#corruptSeen.set(path, offsets.length);
    const shown = offsets.slice(0, 10);
    this.#cfg.log.warn(
      `history (${path}): skipped ${offsets.length} torn or corrupt line(s) at byte offset(s) ${shown.join(', ')}${offsets.length > shown.length ? ', ...' : ''}`,
      { file: path, offsets: shown },
    );
  }

  // --- writing ---------------------------------------------------------------------------------

  #requestCommit(delayMs: number): void {
    if (this.#failed) return;
    if (delayMs <= 0) {
      this.#cancelCommitTimer();
      void this.#commitLoop();
      return;
    }
    const due = this.#cfg.clock.monotonic() + delayMs;
    if (this.#commitTimer && this.#commitDue <= due) return;
    this.#cancelCommitTimer();
    this.#commitDue = due;
    this.#commitTimer = this.#cfg.clock.setTimeout(() => {
      this.#commitTimer = undefined;
      this.#commitDue = Number.POSITIVE_INFINITY;
      void this.#commitLoop();
    }, delayMs);
  }

  #cancelCommitTimer(): void {
    this.#cfg.clock.clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    this.#commitDue = Number.POSITIVE_INFINITY;
  }

  /** One commit at a time; appends arriving meanwhile ride the next one (group commit). */
  async #commitLoop(): Promise<void> {
    if (this.#committing) {
      this.#rerun = true;
      return;
    }
    this.#committing = true;
    try {
      do {
        this.#rerun = false;
        const waiters = this.#waiters.splice(0);
        const ok = await this.#commitBatch();
        for (const resolve of waiters) resolve(ok);
      } while (this.#rerun && !this.#failed);
    } finally {
      this.#committing = false;
    }
  }

  /** Writes everything pending; true when all of it reached the disk, else the store goes to memory. */
  async #commitBatch(): Promise<boolean> {
    const { written, failure } = await this.#writer.writeBatch(this.#series.values());
    this.#unwritten -= written;
    if (failure === undefined) {
      this.#summaries.resume();
      return true;
    }
    this.#enterMemory(failure);
    this.#limitBacklog();
    return false;
  }

  /** Bounds the records held while the disk cannot take them: the oldest appends go first. */
  #limitBacklog(): void {
    const excess = this.#unwritten - this.#cfg.maxBacklogRecords;
    if (excess <= 0) return;
    const dropped = dropOldestPending(this.#series.values(), excess);
    let n = 0;
    for (const count of dropped.values()) n += count;
    this.#unwritten -= n;
    this.#dropped += n;
    this.#dropsUnlogged += n;
    const now = this.#cfg.clock.monotonic();
    if (now - this.#lastDropLog < this.#cfg.diskRetryMs) return;
    this.#lastDropLog = now;
    const bySeries = [...dropped].map(([s, c]) => `${s}: ${c}`).join(', ');
    this.#lastError = `history (${this.#root}): backlog full (${this.#cfg.maxBacklogRecords} records not on disk); dropped ${this.#dropsUnlogged} oldest record(s), ${this.#dropped} in all`;
    this.#cfg.log.error(`${this.#lastError} (latest: ${bySeries}); they are lost. Check the disk: ${this.#failed ? 'it is failing' : 'it is too slow'}`);
    this.#dropsUnlogged = 0;
  }

  // --- disk failure ----------------------------------------------------------------------------

  #enterMemory(err: unknown): void {
    const message = `history (${this.#root}): disk failed: ${errorMessage(err)}`;
    this.#lastError = message;
    for (const resolve of this.#waiters.splice(0)) resolve(false);
    if (this.#failed) {
      this.#cfg.log.debug(() => `${message}; still retrying`);
      return;
    }
    this.#failed = true;
    this.#cancelCommitTimer();
    this.#cfg.log.error(
      `${message}; keeping up to ${this.#cfg.maxBacklogRecords} record(s) in memory (${this.#unwritten} now) and retrying every ${this.#cfg.diskRetryMs} ms`,
      { err },
    );
    if (!this.#closing) this.#retryTimer = this.#cfg.clock.setInterval(() => void this.#retryDisk(), this.#cfg.diskRetryMs);
  }

  #retryDisk(): Promise<void> {
    this.#retryRun ??= this.#tryDisk().finally(() => {
      this.#retryRun = null;
    });
    return this.#retryRun;
  }

  async #tryDisk(): Promise<void> {
    if (!this.#failed) return;
    const backlog = this.#unwritten;
    const reachable = await this.#writer.exclusive(async () => {
      try {
        await this.#cfg.disk.mkdir(this.#root);
        if (backlog === 0) await this.#writer.probe();
        return true;
      } catch (err) {
        this.#enterMemory(err);
        return false;
      }
    });
    if (!reachable || !(await this.#commitBatch())) return;
    this.#failed = false;
    this.#summaries.resume();
    this.#cfg.clock.clearInterval(this.#retryTimer);
    this.#retryTimer = undefined;
    const lost = this.#dropped > 0 ? `; ${this.#dropped} record(s) were dropped while it was down` : '';
    this.#cfg.log.info(`history (${this.#root}): disk is writable again; wrote ${backlog} record(s) kept in memory${lost}`);
    if (this.#unwritten > 0) this.#requestCommit(0);
  }

  // --- housekeeping ----------------------------------------------------------------------------

  #housekeep(): void {
    for (const state of this.#series.values()) {
      this.#roll(state);
      // The background pass: segments from before sidecars existed, after a crash, or with late rows.
      for (const ws of state.windows.values()) {
        if (ws.closingRecords || !this.#stable(state, ws, true)) continue;
        if (!ws.summaryFile || ws.summaryStale || ws.summaryBytes !== ws.size) this.#summaries.backfill(state, ws);
      }
    }
    const now = this.#cfg.clock.now();
    for (const name of this.#series.keys()) {
      const keep = this.#retention.get(name) ?? this.#cfg.retentionMs;
      if (keep <= 0) continue;
      this.prune(name, now - keep).catch((err: unknown) => this.#cfg.log.error(`history ${name}: retention failed: ${errorMessage(err)}`));
    }
  }

  /** Moves a series' open window to the one containing now; the old one's records leave memory. */
  #roll(state: SeriesState): void {
    const start = this.#windowOf(this.#cfg.clock.now());
    if (start === state.openWindow) return;
    const closing = state.windows.get(state.openWindow);
    if (closing && state.cache && state.cache.length + closing.pending.length + closing.inflight.length > 0) {
      // Its rows are in memory now: summarise from them once the last ones are on disk.
      closing.closingRecords = state.cache;
      this.#summaries.closed(state, closing);
    }
    state.openWindow = start;
    state.cache = state.windows.get(start)?.onDisk ? null : [];
  }

  /** Closed, on disk, nothing pending, size known: its file holds exactly `ws.size` bytes of rows. */
  #stable(state: SeriesState, ws: WindowState, sizeUnknown = false): boolean {
    return (
      ws.start !== state.openWindow && ws.onDisk && !ws.dirty && !this.#failed && ws.pending.length === 0 && ws.inflight.length === 0 &&
      (sizeUnknown || ws.size !== undefined)
    );
  }

  /** Marks the windows whose sidecars are on disk; removes temp files and sidecars without a segment. */
  async #adoptSidecars(state: SeriesState, names: string[]): Promise<void> {
    for (const name of names) {
      const start = parseSummaryFileName(name.replace(/\.tmp$/, ''));
      if (start === null) continue; // not a name this store writes: left alone
      const ws = name.endsWith('.tmp') ? undefined : state.windows.get(start);
      if (ws) {
        ws.summaryFile = true;
        continue;
      }
      const path = join(this.#root, state.name, name);
      await this.#cfg.disk.remove(path).catch((err: unknown) => this.#cfg.log.debug(() => `history (${path}): cannot remove: ${errorMessage(err)}`));
    }
  }

  #windowOf(ts: number): number {
    return Math.floor(ts / this.#cfg.segmentMs) * this.#cfg.segmentMs;
  }

  #assertOpen(): void {
    if (this.#closing) throw new FieldgateError(`history (${this.#root}): the store is closed; open it again with openHistory()`);
  }

}
