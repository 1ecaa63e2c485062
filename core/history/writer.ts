// The history store's file writer: appends queued records to their segment files with fsync,
// undoes torn writes before retrying, and serialises everything that changes files.
import { join } from 'node:path';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { AppendFile, HistoryDisk } from './disk.ts';
import { segmentFileName } from './segment.ts';
import { insertSorted, type SeriesState, type WindowState } from './series.ts';

interface OpenHandle {
  file: AppendFile;
  state: SeriesState;
  window: number;
}

export interface BatchResult {
  /** Records confirmed on disk by this batch. */
  written: number;
  /** The first error when some window could not be written (its records are queued again). */
  failure?: unknown;
}

const NL = 0x0a;
const PROBE = new TextEncoder().encode('fieldgate history probe\n');

export class SegmentWriter {
  readonly #handles = new Map<string, OpenHandle>();
  #lock: Promise<void> = Promise.resolve();

  constructor(
    readonly disk: HistoryDisk,
    /** `<dataDir>/history` */
    readonly root: string,
    readonly log: Logger,
  ) {}

  segmentPath(series: string, start: number): string {
    return join(this.root, series, segmentFileName(start));
  }

  /** Serialises the writers (commits, retention, recovery); readers do not need it. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#lock;
    let release!: () => void;
    this.#lock = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Learns a segment's size once; commits and queries share the probe so both see the pre-write size. */
  async ensureSize(ws: WindowState, path: string): Promise<void> {
    if (ws.size !== undefined) return;
    ws.sizeProbe ??= this.disk
      .size(path)
      .then((size) => {
        ws.size ??= size ?? 0;
      })
      .finally(() => {
        ws.sizeProbe = undefined;
      });
    await ws.sizeProbe;
  }

  /** Writes every pending record of every series to its segment (files in parallel). */
  writeBatch(series: Iterable<SeriesState>): Promise<BatchResult> {
    return this.exclusive(async () => {
      const jobs: { state: SeriesState; ws: WindowState }[] = [];
      for (const state of series) {
        for (const ws of state.windows.values()) {
          if (ws.pending.length === 0) continue;
          ws.inflight = ws.pending;
          ws.pending = [];
          jobs.push({ state, ws });
        }
      }
      const result: BatchResult = { written: 0 };
      if (jobs.length === 0) return result;
      const settled = await Promise.allSettled(jobs.map(({ state, ws }) => this.#writeWindow(state, ws)));
      const failed = new Set<WindowState>();
      settled.forEach((outcome, i) => {
        const { state, ws } = jobs[i];
        if (outcome.status === 'fulfilled') {
          result.written += confirm(state, ws, outcome.value);
          return;
        }
        result.failure ??= outcome.reason;
        failed.add(ws);
        ws.dirty = true;
        ws.pending = ws.inflight.concat(ws.pending);
        ws.inflight = [];
        state.dirReady = false;
      });
      await this.closeHandles((h) => h.window !== h.state.openWindow || failed.has(h.state.windows.get(h.window)!));
      return result;
    });
  }

  /** Appends a window's in-flight records to its file and fsyncs; resolves with the bytes written. */
  async #writeWindow(state: SeriesState, ws: WindowState): Promise<number> {
    const dir = join(this.root, state.name);
    const path = join(dir, segmentFileName(ws.start));
    let handle = this.#handles.get(path);
    let prefix = false;
    let fresh = false;
    if (!handle) {
      if (!state.dirReady) {
        await this.disk.mkdir(dir);
        await this.disk.syncDir(this.root);
        state.dirReady = true;
      }
      if (ws.dirty) {
        // Undo whatever a failed write left past the last confirmed byte.
        const actual = await this.disk.size(path);
        if (actual === null) ws.onDisk = false;
        if (actual !== null && ws.size !== undefined && actual > ws.size) await this.disk.truncate(path, ws.size);
        else ws.size = actual ?? 0;
      } else {
        await this.ensureSize(ws, path);
      }
      const size = ws.size ?? 0;
      fresh = size === 0;
      // A torn last line (crash mid-write) gets its newline, so the next record starts clean.
      if (size > 0) prefix = await this.#endsTorn(path, size);
      handle = { file: await this.disk.openAppend(path), state, window: ws.start };
      this.#handles.set(path, handle);
    }
    const bytes = joinLines(ws.inflight.map((p) => p.line), prefix);
    await handle.file.append(bytes);
    await handle.file.sync();
    if (fresh) await this.disk.syncDir(dir);
    return bytes.length;
  }

  async #endsTorn(path: string, size: number): Promise<boolean> {
    for await (const chunk of this.disk.read(path, size - 1, size)) return chunk[chunk.length - 1] !== NL;
    return false;
  }

  async closeHandles(which: (h: OpenHandle) => boolean): Promise<void> {
    for (const [path, h] of [...this.#handles]) {
      if (!which(h)) continue;
      this.#handles.delete(path);
      await h.file.close().catch((err: unknown) => this.log.debug(() => `history (${path}): close failed: ${errorMessage(err)}`));
    }
  }

  /** With no backlog to test a recovered disk with, writes, fsyncs and removes a small file. */
  async probe(): Promise<void> {
    const path = join(this.root, '.probe');
    const file = await this.disk.openAppend(path);
    try {
      await file.append(PROBE);
      await file.sync();
    } finally {
      await file.close().catch(() => undefined);
    }
    await this.disk.remove(path);
  }
}

/** Marks a window's in-flight records as on disk; returns how many. */
function confirm(state: SeriesState, ws: WindowState, bytes: number): number {
  ws.size = (ws.size ?? 0) + bytes;
  ws.onDisk = true;
  ws.dirty = false;
  if (ws.start === state.openWindow && state.cache) for (const p of ws.inflight) insertSorted(state.cache, p.record);
  else if (ws.closingRecords) for (const p of ws.inflight) insertSorted(ws.closingRecords, p.record);
  else if (ws.start !== state.openWindow) ws.summaryStale = true;
  const n = ws.inflight.length;
  ws.inflight = [];
  return n;
}

function joinLines(lines: Uint8Array[], newlineFirst: boolean): Uint8Array {
  let size = newlineFirst ? 1 : 0;
  for (const line of lines) size += line.length;
  const out = new Uint8Array(size);
  let at = 0;
  if (newlineFirst) out[at++] = NL;
  for (const line of lines) {
    out.set(line, at);
    at += line.length;
  }
  return out;
}
