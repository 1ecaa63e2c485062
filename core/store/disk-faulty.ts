// A Disk wrapper for tests and fault drills: while a fault is set, chosen operations fail with a
// real-looking errno error (EROFS, ENOSPC, ...), and every operation is counted.
import { type Disk, type DiskEntry, type DiskFaultCode, type DiskFile, errnoError } from './disk.ts';

export { type DiskFaultCode, errnoError };

export type DiskOp = 'stat' | 'mkdir' | 'readdir' | 'readFile' | 'openAppend' | 'append' | 'sync' | 'linkCount' | 'close' | 'writeFileSynced' | 'rename' | 'unlink' | 'truncate' | 'syncDir';

/** Writing operations: the ones a read-only or full disk refuses. */
export const WRITE_OPS: readonly DiskOp[] = ['mkdir', 'openAppend', 'append', 'sync', 'writeFileSynced', 'rename', 'unlink', 'truncate', 'syncDir'];

export class FaultyDisk implements Disk {
  #fault: { code: DiskFaultCode; ops: ReadonlySet<DiskOp> } | null = null;
  /** How many times each operation was called (including failed calls). */
  readonly counts = new Map<DiskOp, number>();

  constructor(private readonly inner: Disk) {}

  /** From now on `ops` (default: every writing operation) fail with `code` until heal(). */
  fail(code: DiskFaultCode, ops: readonly DiskOp[] = WRITE_OPS): void {
    this.#fault = { code, ops: new Set(ops) };
  }

  heal(): void {
    this.#fault = null;
  }

  count(op: DiskOp): number {
    return this.counts.get(op) ?? 0;
  }

  /** Counts `op`, and throws the fault's errno error when the fault covers `op` (the caller is async, so it rejects). */
  check(op: DiskOp, path: string): void {
    this.counts.set(op, this.count(op) + 1);
    if (this.#fault?.ops.has(op)) throw errnoError(this.#fault.code, op === 'append' ? 'write' : op === 'sync' ? 'fsync' : op, path);
  }

  async stat(path: string): Promise<DiskEntry | null> {
    this.check('stat', path);
    return this.inner.stat(path);
  }
  async mkdir(path: string): Promise<void> {
    this.check('mkdir', path);
    return this.inner.mkdir(path);
  }
  async readdir(path: string): Promise<string[]> {
    this.check('readdir', path);
    return this.inner.readdir(path);
  }
  async readFile(path: string): Promise<Uint8Array | null> {
    this.check('readFile', path);
    return this.inner.readFile(path);
  }
  async openAppend(path: string): Promise<DiskFile> {
    this.check('openAppend', path);
    return new FaultyFile(this, await this.inner.openAppend(path));
  }
  async writeFileSynced(path: string, data: Uint8Array): Promise<void> {
    this.check('writeFileSynced', path);
    return this.inner.writeFileSynced(path, data);
  }
  async rename(from: string, to: string): Promise<void> {
    this.check('rename', to);
    return this.inner.rename(from, to);
  }
  async unlink(path: string): Promise<void> {
    this.check('unlink', path);
    return this.inner.unlink(path);
  }
  async truncate(path: string, size: number): Promise<void> {
    this.check('truncate', path);
    return this.inner.truncate(path, size);
  }
  async syncDir(path: string): Promise<void> {
    this.check('syncDir', path);
    return this.inner.syncDir(path);
  }
}

class FaultyFile implements DiskFile {
  constructor(private readonly disk: FaultyDisk, private readonly inner: DiskFile) {}
  get path(): string {
    return this.inner.path;
  }
  async append(data: Uint8Array): Promise<void> {
    this.disk.check('append', this.path);
    return this.inner.append(data);
  }
  async sync(): Promise<void> {
    this.disk.check('sync', this.path);
    return this.inner.sync();
  }
  async linkCount(): Promise<number> {
    this.disk.check('linkCount', this.path);
    return this.inner.linkCount();
  }
  async close(): Promise<void> {
    // Closing never fails on purpose: the store must always be able to let go of a handle.
    this.disk.counts.set('close', this.disk.count('close') + 1);
    return this.inner.close();
  }
}
