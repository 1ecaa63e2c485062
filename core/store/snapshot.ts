// Atomic snapshot files: write a temp file, fsync, rename over `state.db`, fsync the directory —
// so a crash at any point leaves either the old snapshot or the new one, never half of one.
import { join } from 'node:path';
import type { Disk } from './disk.ts';

export const SNAPSHOT_FILE = 'state.db';
const TEMP_FILE = 'state.db.tmp';

export async function writeSnapshot(disk: Disk, dir: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, TEMP_FILE);
  await disk.writeFileSynced(tmp, bytes);
  await disk.rename(tmp, join(dir, SNAPSHOT_FILE));
  await disk.syncDir(dir);
}

/** The current snapshot's bytes, or null when there is none yet. A leftover temp file is discarded. */
export async function readSnapshot(disk: Disk, dir: string): Promise<Uint8Array | null> {
  if (await disk.stat(join(dir, TEMP_FILE))) await disk.unlink(join(dir, TEMP_FILE));
  return disk.readFile(join(dir, SNAPSHOT_FILE));
}

/** Renames a damaged file to `<name>.corrupt-<timestamp>` (kept for inspection, never overwritten). */
export async function moveAside(disk: Disk, path: string, now: number): Promise<string> {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  let target = `${path}.corrupt-${stamp}`;
  for (let i = 1; await disk.stat(target); i++) target = `${path}.corrupt-${stamp}-${i}`;
  await disk.rename(path, target);
  return target;
}
