// The append-only journal on disk: numbered files (`journal-00000001.log`), appends serialised and
// fsynced, rotated at each snapshot so records that arrive while a snapshot is written are never lost.
import { join } from 'node:path';
import { type Disk, type DiskFile, errnoError } from './disk.ts';

export interface JournalFileInfo {
  gen: number;
  path: string;
  size: number;
}

const NAME = /^journal-(\d{8,})\.log$/;

export function journalName(gen: number): string {
  return `journal-${String(gen).padStart(8, '0')}.log`;
}

/** The journal files in `dir`, oldest first. */
export async function listJournals(disk: Disk, dir: string): Promise<JournalFileInfo[]> {
  const out: JournalFileInfo[] = [];
  for (const name of await disk.readdir(dir)) {
    const m = NAME.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    const st = await disk.stat(path);
    if (st?.kind === 'file') out.push({ gen: Number(m[1]), path, size: st.size });
  }
  return out.sort((a, b) => a.gen - b.gen);
}

export class JournalWriter {
  #file: DiskFile | null = null;
  #gen = 0;
  /** Set after a failed append: the file may end in a partial record, so nothing more goes into it. */
  #broken = false;
  readonly #sizes = new Map<number, number>();
  #chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly disk: Disk, private readonly dir: string) {}

  /** Bytes in every journal file not yet dropped by a snapshot. */
  get bytes(): number {
    let n = 0;
    for (const s of this.#sizes.values()) n += s;
    return n;
  }

  get currentPath(): string {
    return join(this.dir, journalName(this.#gen));
  }

  /** Continues the newest existing file (already cleaned of any torn tail), or starts generation 1. */
  start(existing: readonly JournalFileInfo[]): Promise<void> {
    return this.#serial(async () => {
      for (const f of existing) this.#sizes.set(f.gen, f.size);
      this.#gen = existing.length ? existing[existing.length - 1].gen : 1;
      if (!this.#sizes.has(this.#gen)) this.#sizes.set(this.#gen, 0);
      this.#file = await this.disk.openAppend(this.currentPath);
      this.#broken = false;
    });
  }

  /** Writes `data` at the end of the current file and fsyncs it; resolves only once it is durable. */
  append(data: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      const file = this.#file;
      if (!file || this.#broken) throw errnoError('EIO', 'write', this.currentPath);
      try {
        await file.append(data);
        this.#sizes.set(this.#gen, (this.#sizes.get(this.#gen) ?? 0) + data.length);
        await file.sync();
        // An fsync into a file someone deleted succeeds but saves nothing: that is a disk failure too.
        if ((await file.linkCount()) === 0) {
          const err = errnoError('ENOENT', 'fsync', file.path);
          err.message = `${file.path} was deleted while the store had it open (is the data dir still there?)`;
          throw err;
        }
      } catch (err) {
        this.#broken = true;
        throw err;
      }
    });
  }

  /**
   * Closes the current file (ignoring errors: it may be on a dead disk) and opens a new generation
   * numbered after every file present. Resolves with the new generation; everything older can be
   * dropped once a snapshot taken after this call is durable.
   */
  rotate(): Promise<number> {
    return this.#serial(async () => {
      await this.#closeQuietly();
      const listed = await listJournals(this.disk, this.dir);
      const gen = Math.max(this.#gen, ...listed.map((f) => f.gen)) + 1;
      this.#sizes.clear();
      for (const f of listed) this.#sizes.set(f.gen, f.size);
      this.#file = await this.disk.openAppend(join(this.dir, journalName(gen)));
      this.#gen = gen;
      this.#sizes.set(gen, 0);
      this.#broken = false;
      return gen;
    });
  }

  /** Deletes every journal file older than `gen` (their records are all inside a durable snapshot). */
  dropBefore(gen: number): Promise<void> {
    return this.#serial(async () => {
      for (const f of await listJournals(this.disk, this.dir)) {
        if (f.gen >= gen) continue;
        await this.disk.unlink(f.path);
        this.#sizes.delete(f.gen);
      }
      await this.disk.syncDir(this.dir);
    });
  }

  close(): Promise<void> {
    return this.#serial(() => this.#closeQuietly());
  }

  async #closeQuietly(): Promise<void> {
    const file = this.#file;
    this.#file = null;
    try {
      await file?.close();
    } catch {
      // The handle is gone either way; a close error on a failed disk adds nothing to what the caller already knows.
    }
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(op);
    this.#chain = p.catch(() => undefined);
    return p;
  }
}
