// Keeps the `<start>.sum` sidecars of closed segments (format in summary.ts): written when a window
// closes from the rows still in memory, rebuilt from the segment when missing, stale or corrupt
// (on a query, or by the background pass for segments written before sidecars or before a crash).
import { join } from 'node:path';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { HistoryDisk } from './disk.ts';
import { readSegmentBatches } from './segment.ts';
import type { SeriesState, WindowState } from './series.ts';
import { decodeSummary, encodeSummary, type SegmentSummary, SUMMARY_RESOLUTION_MS, SummaryBuilder } from './summary.ts';
import type { SegmentWriter } from './writer.ts';

export interface SummaryHost {
  disk: HistoryDisk;
  log: Logger;
  segmentMs: number;
  writer: SegmentWriter;
  /** The window is closed, on disk and fully written, so its file is `ws.size` bytes and stays so. */
  stable(state: SeriesState, ws: WindowState): boolean;
  reportCorrupt(path: string, offsets: number[]): void;
}

/** A sidecar is ~24 KiB per key for an hour; 64 keys of 1 h at 12 s cells stay well below this. */
const MAX_SUMMARY_BYTES = 16 * 1024 * 1024;

/** Sidecar writes a query may leave behind it (each holds one summary until its fsync). */
const MAX_WRITES_IN_FLIGHT = 16;

interface Job {
  state: SeriesState;
  ws: WindowState;
}

export class SummaryKeeper {
  readonly #host: SummaryHost;
  readonly #loading = new Map<WindowState, { size: number; done: Promise<SegmentSummary> }>();
  /** Windows that closed with their rows in memory: summarised first, and even while stopping. */
  readonly #closing: Job[] = [];
  readonly #background: Job[] = [];
  #worker: Promise<void> | null = null;
  readonly #writes = new Set<Promise<void>>();
  #stopped = false;

  constructor(host: SummaryHost) {
    this.#host = host;
  }

  path(series: string, start: number): string {
    return join(this.#host.writer.root, series, `${start}.sum`);
  }

  /**
   * The summary of a stable closed window: its sidecar when that matches the segment, otherwise
   * the segment's rows folded again (missing, stale or corrupt sidecar) and the sidecar rewritten.
   */
  get(state: SeriesState, ws: WindowState): Promise<SegmentSummary> {
    const size = ws.size ?? 0;
    const running = this.#loading.get(ws);
    if (running && running.size === size) return running.done;
    const done = this.#load(state, ws, size).finally(() => {
      if (this.#loading.get(ws)?.done === done) this.#loading.delete(ws);
    });
    this.#loading.set(ws, { size, done });
    return done;
  }

  /** A window closed holding `ws.closingRecords`; its summary is written once its last rows are on disk. */
  closed(state: SeriesState, ws: WindowState): void {
    this.#closing.push({ state, ws });
    this.#kick();
  }

  /** Commits confirmed rows: closed windows waiting for their last rows may be ready now. */
  resume(): void {
    if (this.#closing.length) this.#kick();
  }

  /** Queues a window for the background pass (sidecar missing or stale). */
  backfill(state: SeriesState, ws: WindowState): void {
    if (this.#stopped || this.#background.some((j) => j.ws === ws)) return;
    this.#background.push({ state, ws });
    this.#kick();
  }

  /** Finishes the summaries of closed windows (cheap, from memory) and drops the background queue. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#background.length = 0;
    await this.#worker;
    await Promise.allSettled([...this.#loading.values()].map((l) => l.done));
    await Promise.allSettled([...this.#writes]);
  }

  #kick(): void {
    this.#worker ??= this.#work().finally(() => {
      this.#worker = null;
      if (this.#closing.some((j) => this.#host.stable(j.state, j.ws)) || (!this.#stopped && this.#background.length)) this.#kick();
    });
  }

  async #work(): Promise<void> {
    for (;;) {
      const i = this.#closing.findIndex((j) => this.#host.stable(j.state, j.ws) || j.state.windows.get(j.ws.start) !== j.ws);
      const job = i >= 0 ? this.#closing.splice(i, 1)[0] : this.#stopped ? undefined : this.#background.shift();
      if (!job) return;
      const { state, ws } = job;
      if (state.windows.get(ws.start) !== ws) {
        ws.closingRecords = null;
        continue;
      }
      try {
        if (i >= 0) await this.#fromMemory(state, ws);
        else if ((await this.#sized(state, ws)) && this.#host.stable(state, ws) && (!ws.summaryFile || ws.summaryStale || ws.summaryBytes !== ws.size)) await this.get(state, ws);
      } catch (err) {
        this.#host.log.warn(`history (${this.path(state.name, ws.start)}): could not write the segment summary; queries will read the segment: ${errorMessage(err)}`);
      }
      // Let queries and commits run between segments of a long background pass.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
  }

  async #sized(state: SeriesState, ws: WindowState): Promise<boolean> {
    await this.#host.writer.ensureSize(ws, this.#host.writer.segmentPath(state.name, ws.start));
    return true;
  }

  async #fromMemory(state: SeriesState, ws: WindowState): Promise<void> {
    const records = ws.closingRecords;
    ws.closingRecords = null;
    if (!records) return;
    const builder = new SummaryBuilder(ws.start, this.#host.segmentMs, SUMMARY_RESOLUTION_MS);
    for (const r of records) builder.add(r);
    await this.#store(state, ws, builder.finish(ws.size ?? 0));
  }

  async #load(state: SeriesState, ws: WindowState, size: number): Promise<SegmentSummary> {
    const path = this.path(state.name, ws.start);
    if (ws.summaryFile) {
      try {
        const bytes = await this.#host.disk.readSmall(path, MAX_SUMMARY_BYTES);
        if (!bytes) throw new Error('the file is gone');
        const s = decodeSummary(bytes);
        const why =
          s.start !== ws.start ? `it is for window ${s.start}`
          : s.segmentMs !== this.#host.segmentMs ? `it was made with segmentMs ${s.segmentMs}`
          : s.resolutionMs !== SUMMARY_RESOLUTION_MS ? `its cells are ${s.resolutionMs} ms`
          : null;
        if (why) throw new Error(why);
        if (s.segmentBytes === size) {
          ws.summaryBytes = size;
          return s;
        }
        this.#host.log.debug(() => `history (${path}): summary covers ${s.segmentBytes} of ${size} bytes (rows arrived after it was written); rebuilding`);
      } catch (err) {
        this.#host.log.warn(`history (${path}): summary unusable (${errorMessage(err)}); reading the segment instead and rewriting it`);
      }
    }
    const builder = new SummaryBuilder(ws.start, this.#host.segmentMs, SUMMARY_RESOLUTION_MS);
    const segment = this.#host.writer.segmentPath(state.name, ws.start);
    const corrupt: number[] = [];
    for await (const batch of readSegmentBatches(this.#host.disk, segment, size, (offset) => corrupt.push(offset))) for (const r of batch) builder.add(r);
    this.#host.reportCorrupt(segment, corrupt);
    const summary = builder.finish(size);
    // The answer does not wait for the fsyncs; past a few writes in flight the background pass does it.
    if (this.#writes.size >= MAX_WRITES_IN_FLIGHT || this.#stopped) {
      ws.summaryStale = true;
      return summary;
    }
    const write = this.#store(state, ws, summary)
      .catch((err: unknown) => {
        ws.summaryStale = true;
        this.#host.log.warn(`history (${path}): could not write the segment summary; the background pass tries again: ${errorMessage(err)}`);
      })
      .finally(() => this.#writes.delete(write));
    this.#writes.add(write);
    return summary;
  }

  /** Writes the sidecar unless the window changed meanwhile (pruned, or rows appended). */
  async #store(state: SeriesState, ws: WindowState, summary: SegmentSummary): Promise<void> {
    const bytes = encodeSummary(summary);
    await this.#host.writer.exclusive(async () => {
      if (state.windows.get(ws.start) !== ws || ws.size !== summary.segmentBytes || !this.#host.stable(state, ws)) return;
      await this.#host.disk.replace(this.path(state.name, ws.start), bytes);
      ws.summaryFile = true;
      ws.summaryBytes = summary.segmentBytes;
      ws.summaryStale = false;
    });
  }
}
