// The filesystem layer under the store: a small async interface so tests can inject faults, and
// the real node:fs implementation (works on Node and Deno) that production uses.
import * as fsp from 'node:fs/promises';

/** A file opened for appending: every method is async and rejects with the errno error (EROFS, ENOSPC, EIO...). */
export interface DiskFile {
  readonly path: string;
  /** Writes all of `data` at the end of the file. */
  append(data: Uint8Array): Promise<void>;
  /** fsync: resolves once the appended data is on stable storage. */
  sync(): Promise<void>;
  /** Hard-link count: 0 once the file was deleted from under us (writes would then reach no file). */
  linkCount(): Promise<number>;
  close(): Promise<void>;
}

export interface DiskEntry {
  kind: 'file' | 'dir' | 'other';
  size: number;
}

export interface Disk {
  /** null when the path does not exist. */
  stat(path: string): Promise<DiskEntry | null>;
  /** Creates the directory and its parents; no error if it exists. */
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  /** null when the file does not exist. */
  readFile(path: string): Promise<Uint8Array | null>;
  /** Opens (creating if needed) for appending. */
  openAppend(path: string): Promise<DiskFile>;
  /** Creates or replaces `path` with `data` and fsyncs it before resolving. */
  writeFileSynced(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  truncate(path: string, size: number): Promise<void>;
  /** fsyncs a directory so a rename or unlink inside it survives a power cut. */
  syncDir(path: string): Promise<void>;
}

export type DiskFaultCode = 'EROFS' | 'ENOSPC' | 'EIO' | 'EACCES' | 'ENOENT';

const MESSAGES: Record<DiskFaultCode, [errno: number, text: string]> = {
  EROFS: [-30, 'read-only file system'],
  ENOSPC: [-28, 'no space left on device'],
  EIO: [-5, 'i/o error'],
  EACCES: [-13, 'permission denied'],
  ENOENT: [-2, 'no such file or directory'],
};

/** Builds an error shaped like the one node:fs throws (code, errno, syscall, path). */
export function errnoError(code: DiskFaultCode, syscall: string, path: string): NodeJS.ErrnoException {
  const [errno, text] = MESSAGES[code];
  const err: NodeJS.ErrnoException = new Error(`${code}: ${text}, ${syscall} '${path}'`);
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  err.path = path;
  return err;
}

function isCode(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | null)?.code === code;
}

class NodeDiskFile implements DiskFile {
  constructor(readonly path: string, private readonly fh: fsp.FileHandle) {}

  async append(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
  }

  sync(): Promise<void> {
    // fdatasync is enough: the file size (metadata it needs) is covered, mtime is not needed.
    return this.fh.datasync();
  }

  async linkCount(): Promise<number> {
    return (await this.fh.stat()).nlink;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** The production disk: plain node:fs/promises. */
export class NodeDisk implements Disk {
  async stat(path: string): Promise<DiskEntry | null> {
    try {
      const s = await fsp.stat(path);
      return { kind: s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other', size: s.size };
    } catch (err) {
      if (isCode(err, 'ENOENT')) return null;
      throw err;
    }
  }

  async mkdir(path: string): Promise<void> {
    await fsp.mkdir(path, { recursive: true });
  }

  readdir(path: string): Promise<string[]> {
    return fsp.readdir(path);
  }

  async readFile(path: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await fsp.readFile(path));
    } catch (err) {
      if (isCode(err, 'ENOENT')) return null;
      throw err;
    }
  }

  async openAppend(path: string): Promise<DiskFile> {
    return new NodeDiskFile(path, await fsp.open(path, 'a'));
  }

  async writeFileSynced(path: string, data: Uint8Array): Promise<void> {
    const fh = await fsp.open(path, 'w');
    try {
      let off = 0;
      while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  rename(from: string, to: string): Promise<void> {
    return fsp.rename(from, to);
  }

  unlink(path: string): Promise<void> {
    return fsp.unlink(path);
  }

  truncate(path: string, size: number): Promise<void> {
    return fsp.truncate(path, size);
  }

  async syncDir(path: string): Promise<void> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(path, 'r');
    } catch (err) {
      // Platforms that cannot open a directory (Windows) have no directory fsync to do.
      if (isCode(err, 'EISDIR') || isCode(err, 'EPERM')) return;
      throw err;
    }
    try {
      await fh.sync();
    } catch (err) {
      if (!isCode(err, 'EINVAL') && !isCode(err, 'EBADF') && !isCode(err, 'ENOTSUP')) throw err;
    } finally {
      await fh.close();
    }
  }
}

export const nodeDisk: Disk = new NodeDisk();
