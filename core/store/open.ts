// Opens the state store: recovers from the data dir (or starts empty in memory) and wires the
// database, the journal and the snapshot schedule together.
import { resolve } from 'node:path';
import type { Bus } from '../bus.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { type Disk, nodeDisk } from './disk.ts';
import { Persistence } from './persistence.ts';
import { SNAPSHOT_AT_KEY, SNAPSHOT_SEQ_KEY, recover } from './recovery.ts';
import { StoreSql } from './sqlite.ts';
import { SqlJsStore } from './store.ts';

export { SqlJsStore };

export interface StoreOptions {
  /** Directory for `state.db` and the journal; null = pure in-memory store (tests, demo). */
  dataDir: string | null;
  clock: Clock;
  log: Logger;
  /** set()/setMany()/delete() publish `state/<key>` with a StateChange. */
  bus?: Bus;
  /** Group-commit window: durable writes arriving within it share one write + fsync. Default 2. Real time, not the injected clock (it batches real fsyncs). */
  commitDelayMs?: number;
  /** Non-durable writes reach the disk at least this often. Default 1000. */
  lazyFlushMs?: number;
  /** Snapshot period. Default 300000 (5 min). */
  snapshotIntervalMs?: number;
  /** Snapshot as soon as the journal grows past this. Default 4 MiB. */
  snapshotJournalBytes?: number;
  /** While the disk is down, try it again this often. Default 5000. */
  diskRetryMs?: number;
  /** Filesystem layer; default the real node:fs one. Tests pass a FaultyDisk. */
  disk?: Disk;
}

export async function openStore(options: StoreOptions): Promise<SqlJsStore> {
  const disk = options.disk ?? nodeDisk;
  const dataDir = options.dataDir === null ? null : resolve(options.dataDir);
  const { clock, log } = options;
  const recovered = dataDir === null ? null : await recover({ disk, dir: dataDir, clock, log });
  const sql = recovered?.sql ?? (await StoreSql.create());
  const persistence = new Persistence({
    disk,
    dir: dataDir,
    clock,
    log,
    commitDelayMs: options.commitDelayMs ?? 2,
    lazyFlushMs: options.lazyFlushMs ?? 1000,
    snapshotIntervalMs: options.snapshotIntervalMs ?? 300_000,
    snapshotJournalBytes: options.snapshotJournalBytes ?? 4 * 1024 * 1024,
    diskRetryMs: options.diskRetryMs ?? 5000,
    seq: recovered?.seq ?? 0,
    snapshotSeq: recovered?.snapshotSeq ?? 0,
    exportDb(seq) {
      sql.setMeta(SNAPSHOT_SEQ_KEY, seq);
      sql.setMeta(SNAPSHOT_AT_KEY, clock.now());
      return sql.export();
    },
  });
  persistence.lastSnapshotAt = recovered?.snapshotAt ?? null;
  await persistence.start(recovered?.journals ?? [], recovered?.writeError ?? null);
  return new SqlJsStore({
    sql,
    persistence,
    clock,
    bus: options.bus,
    dataDir,
    recovery: recovered?.recovery ?? { journalRecordsReplayed: 0, tornRecordsSkipped: 0, corruptSnapshotMovedTo: null },
    problems: recovered?.problems ?? [],
  });
}
