// Start-up recovery: check the data dir, load the snapshot (moving a corrupt one aside), replay the
// journal records newer than it, and cut torn tails off so later appends start clean.
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import type { Clock } from '../clock.ts';
import { StorageError, errorMessage } from '../errors.ts';
import type { Disk } from './disk.ts';
import { scanJournal } from './journal-format.ts';
import { type JournalFileInfo, listJournals } from './journal.ts';
import { type Mutation, applyMutation } from './mutations.ts';
import { SNAPSHOT_FILE, moveAside, readSnapshot } from './snapshot.ts';
import { StoreSql } from './sqlite.ts';
import type { StoreStatus } from './types.ts';

export const SNAPSHOT_SEQ_KEY = 'snapshot_seq';
export const SNAPSHOT_AT_KEY = 'snapshot_at';

export interface Recovered {
  sql: StoreSql;
  /** Last sequence number applied (snapshot or journal). */
  seq: number;
  snapshotSeq: number;
  /** Epoch ms the loaded snapshot was taken, if it says. */
  snapshotAt: number | null;
  journals: JournalFileInfo[];
  recovery: StoreStatus['recovery'];
  /** Data-losing problems found; any makes status().ok false. */
  problems: string[];
  /** Set when the disk refused a repair write (truncating a torn tail): start in memory mode. */
  writeError: unknown;
}

interface Ctx {
  disk: Disk;
  dir: string;
  clock: Clock;
  log: Logger;
}

/** Makes sure `dir` is a usable directory, creating it on first start. */
export async function checkDataDir({ disk, dir }: Ctx): Promise<void> {
  const hint = 'check that the path is a directory this user can read and write, or point dataDir elsewhere';
  let entry;
  try {
    entry = await disk.stat(dir);
    if (!entry) await disk.mkdir(dir);
    else if (entry.kind !== 'dir') throw new StorageError(`store data dir ${dir} is not a directory (it is a ${entry.kind}); ${hint}`);
    await disk.readdir(dir);
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError(`store data dir ${dir} cannot be used: ${errorMessage(err)}; ${hint}`, { cause: err });
  }
}

async function loadSnapshot(ctx: Ctx, out: Recovered): Promise<StoreSql | null> {
  const path = join(ctx.dir, SNAPSHOT_FILE);
  let bytes: Uint8Array | null;
  try {
    bytes = await readSnapshot(ctx.disk, ctx.dir);
  } catch (err) {
    throw new StorageError(`store snapshot ${path} cannot be read: ${errorMessage(err)}; check the disk and file permissions`, { cause: err });
  }
  if (!bytes) return null;
  try {
    const sql = await StoreSql.fromSnapshot(bytes);
    out.snapshotSeq = Number(sql.getMeta(SNAPSHOT_SEQ_KEY) ?? 0);
    const at = sql.getMeta(SNAPSHOT_AT_KEY);
    out.snapshotAt = typeof at === 'number' ? at : null;
    return sql;
  } catch (err) {
    let movedTo: string;
    try {
      movedTo = await moveAside(ctx.disk, path, ctx.clock.now());
    } catch (moveErr) {
      // Starting anyway would overwrite the damaged file at the next snapshot: refuse instead.
      throw new StorageError(`store snapshot ${path} is corrupt (${errorMessage(err)}) and could not be moved aside: ${errorMessage(moveErr)}; move it away by hand and restart`, { cause: moveErr });
    }
    out.recovery.corruptSnapshotMovedTo = movedTo;
    const msg = `store snapshot ${path} is corrupt (${errorMessage(err)}); moved it to ${movedTo} and recovered what the journal holds — state written before the last snapshot is missing`;
    out.problems.push(msg);
    ctx.log.error(msg, { path, movedTo });
    return null;
  }
}

async function replayFile(ctx: Ctx, file: JournalFileInfo, out: Recovered): Promise<void> {
  const bytes = (await ctx.disk.readFile(file.path)) ?? new Uint8Array(0);
  const scan = scanJournal(bytes);
  for (const rec of scan.records) {
    if (rec.s <= out.seq) continue; // already inside the snapshot (or a duplicate)
    if (out.seq > 0 && rec.s !== out.seq + 1 && !out.recovery.corruptSnapshotMovedTo) {
      const msg = `store journal ${file.path}: records ${out.seq + 1}..${rec.s - 1} are missing; state may be incomplete`;
      out.problems.push(msg);
      ctx.log.error(msg, { path: file.path });
    }
    try {
      applyMutation(out.sql, rec as unknown as Mutation);
    } catch (err) {
      const msg = `store journal ${file.path}: record ${rec.s} (${rec.o}) could not be replayed: ${errorMessage(err)}`;
      out.problems.push(msg);
      ctx.log.error(msg, { path: file.path, seq: rec.s });
    }
    out.seq = rec.s;
    out.recovery.journalRecordsReplayed++;
  }
  if (scan.validBytes === bytes.length) {
    out.journals.push(file);
    return;
  }
  const garbage = bytes.length - scan.validBytes;
  out.recovery.tornRecordsSkipped += Math.max(1, scan.badLines);
  try {
    if (scan.intactAfterDamage) {
      // Damage in the middle is not a torn write: keep the whole file for inspection before cutting it.
      const copy = `${file.path}.corrupt-${new Date(ctx.clock.now()).toISOString().replace(/[:.]/g, '-')}`;
      await ctx.disk.writeFileSynced(copy, bytes);
      const msg = `store journal ${file.path}: damaged record at byte ${scan.validBytes} followed by intact ones; copied the file to ${copy} and dropped everything after the damage`;
      out.problems.push(msg);
      ctx.log.error(msg, { path: file.path, offset: scan.validBytes, copy });
    } else {
      ctx.log.warn(`store journal ${file.path}: skipped a torn record at byte ${scan.validBytes} (${garbage} bytes, left by a crash mid-write); truncating it`, {
        path: file.path,
        offset: scan.validBytes,
        bytes: garbage,
      });
    }
    await ctx.disk.truncate(file.path, scan.validBytes);
    out.journals.push({ ...file, size: scan.validBytes });
  } catch (err) {
    out.writeError ??= err;
    out.journals.push(file);
  }
}

export async function recover(ctx: Ctx): Promise<Recovered> {
  await checkDataDir(ctx);
  const out: Recovered = {
    sql: null as unknown as StoreSql, // set just below, before anything reads it
    seq: 0,
    snapshotSeq: 0,
    snapshotAt: null,
    journals: [],
    recovery: { journalRecordsReplayed: 0, tornRecordsSkipped: 0, corruptSnapshotMovedTo: null },
    problems: [],
    writeError: null,
  };
  out.sql = (await loadSnapshot(ctx, out)) ?? (await StoreSql.create());
  out.seq = out.snapshotSeq;
  try {
    for (const file of await listJournals(ctx.disk, ctx.dir)) await replayFile(ctx, file, out);
  } catch (err) {
    out.sql.close();
    throw new StorageError(`store journal in ${ctx.dir} cannot be read: ${errorMessage(err)}; check the disk and file permissions`, { cause: err });
  }
  if (out.recovery.journalRecordsReplayed || out.recovery.tornRecordsSkipped) {
    ctx.log.info(`store recovered ${out.recovery.journalRecordsReplayed} journal record(s) after the snapshot at seq ${out.snapshotSeq}`, { ...out.recovery });
  }
  return out;
}
