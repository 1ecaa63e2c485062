// Opens the history store (see segment-history.ts for the on-disk design): long append-only series
// in time-sharded segment files under `<dataDir>/history/`, or in memory when dataDir is null.
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { type HistoryDisk, nodeDisk } from './disk.ts';
import { MemoryDisk } from './disk-memory.ts';
import { SegmentHistory } from './segment-history.ts';

export { SegmentHistory, type SegmentHistoryStatus } from './segment-history.ts';

export interface HistoryOptions {
  /** Where `history/` lives; null keeps everything in memory (nothing survives the process). */
  dataDir: string | null;
  clock: Clock;
  log: Logger;
  /** Shard width in ms, default 3600000 (1 h). Do not change it for an existing dataDir. */
  segmentMs?: number;
  /** 0 keeps forever; otherwise segments older than this are deleted every segmentMs/4. */
  retentionMs?: number;
  /** Group commit window in ms, default 5; 0 starts a commit at once (appends made meanwhile ride the next). */
  commitDelayMs?: number;
  /** Non-durable appends reach the disk at least this often, default 1000 ms. */
  lazyFlushMs?: number;
  /** How often a failed disk is tried again, default 5000 ms. */
  diskRetryMs?: number;
  /** Records kept in memory while the disk cannot take them before the oldest are dropped, default 100000. */
  maxBacklogRecords?: number;
  /** The file layer: node:fs by default, in memory when dataDir is null; FaultyDisk in tests. */
  disk?: HistoryDisk;
}

export async function openHistory(options: HistoryOptions): Promise<SegmentHistory> {
  const segmentMs = options.segmentMs ?? 3_600_000;
  if (!Number.isInteger(segmentMs) || segmentMs <= 0) throw new RangeError(`history: segmentMs must be a positive integer, got ${segmentMs}`);
  const history = new SegmentHistory({
    dataDir: options.dataDir,
    disk: options.disk ?? (options.dataDir === null ? new MemoryDisk() : nodeDisk),
    clock: options.clock,
    log: options.log,
    segmentMs,
    retentionMs: options.retentionMs ?? 0,
    commitDelayMs: options.commitDelayMs ?? 5,
    lazyFlushMs: options.lazyFlushMs ?? 1000,
    diskRetryMs: options.diskRetryMs ?? 5000,
    maxBacklogRecords: options.maxBacklogRecords ?? 100_000,
  });
  await history.start();
  return history;
}
