// A HistoryDisk wrapper that fails on demand with real-looking errno errors, so disk-failure paths
// can be exercised as root (chmod does not stop root) and on tmpfs.
import type { AppendFile, DiskErrorCode, HistoryDisk } from './disk.ts';
import { errnoError, nodeDisk } from './disk.ts';

export interface FaultOptions {
  /** Fail reads too (default: only writes, as a read-only file system does). */
  reads?: boolean;
  /** Let an append write the first half of its bytes before failing: a torn write. */
  partialWrite?: boolean;
}

export class FaultyDisk implements HistoryDisk {
  #fault: (FaultOptions & { code: DiskErrorCode }) | null = null;
  /** Every path read, in order: lets a test see which segment files a query opened. */
  readonly reads: string[] = [];

  constructor(readonly inner: HistoryDisk = nodeDisk) {}

  /** From now on every write (and every read with `reads: true`) rejects with `code`. */
  setFault(code: DiskErrorCode = 'EROFS', options: FaultOptions = {}): void {
    this.#fault = { code, ...options };
  }

  clearFault(): void {
    this.#fault = null;
  }

  get faulty(): boolean {
    return this.#fault !== null;
  }

  #check(syscall: string, path: string, isRead = false): void {
    const f = this.#fault;
    if (f && (!isRead || f.reads)) throw errnoError(f.code, syscall, path);
  }

  async mkdir(path: string): Promise<void> {
    this.#check('mkdir', path);
    await this.inner.mkdir(path);
  }

  async list(path: string): Promise<string[]> {
    this.#check('scandir', path, true);
    return this.inner.list(path);
  }

  async size(path: string): Promise<number | null> {
    this.#check('stat', path, true);
    return this.inner.size(path);
  }

  async *read(path: string, start?: number, end?: number): AsyncIterable<Uint8Array> {
    this.#check('open', path, true);
    this.reads.push(path);
    yield* this.inner.read(path, start, end);
  }

  async readSmall(path: string, maxBytes: number): Promise<Uint8Array | null> {
    this.#check('open', path, true);
    this.reads.push(path);
    return this.inner.readSmall(path, maxBytes);
  }

  async openAppend(path: string): Promise<AppendFile> {
    this.#check('open', path);
    const file = await this.inner.openAppend(path);
    return {
      append: async (data) => {
        const f = this.#fault;
        if (f?.partialWrite) await file.append(data.subarray(0, Math.floor(data.length / 2)));
        this.#check('write', path);
        await file.append(data);
      },
      sync: async () => {
        this.#check('fsync', path);
        await file.sync();
      },
      close: () => file.close(),
    };
  }

  async truncate(path: string, size: number): Promise<void> {
    this.#check('open', path);
    await this.inner.truncate(path, size);
  }

  async replace(path: string, data: Uint8Array): Promise<void> {
    this.#check('open', `${path}.tmp`);
    await this.inner.replace(path, data);
  }

  async remove(path: string): Promise<void> {
    this.#check('unlink', path);
    await this.inner.remove(path);
  }

  async syncDir(path: string): Promise<void> {
    this.#check('fsync', path);
    await this.inner.syncDir(path);
  }
}
