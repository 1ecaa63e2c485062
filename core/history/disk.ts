// The file layer under the history store: a small async interface, so the store can run on the
// real file system, in memory (`dataDir: null`) or on a disk that fails on demand (tests).
import { dirname } from 'node:path';
import { mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';

/** A file opened for appending. Every method may reject with a Node-style errno error. */
export interface AppendFile {
  /** Writes all of `data` at the end of the file (it may be partly written when this rejects). */
  append(data: Uint8Array): Promise<void>;
  /** Flushes the file's data to stable storage (fsync). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What the history store needs from a file system. Errors carry `code` (`EROFS`, `ENOSPC`, ...)
 * like node:fs errors; the store treats any rejection from a write path as a disk failure.
 */
export interface HistoryDisk {
  /** Creates a directory and its parents; resolves when it already exists. */
  mkdir(path: string): Promise<void>;
  /** Entry names in a directory; rejects with `ENOENT` when it does not exist. */
  list(path: string): Promise<string[]>;
  /** Size in bytes, or null when the file does not exist. */
  size(path: string): Promise<number | null>;
  /** Streams bytes [start, end) in chunks; yields nothing when the file does not exist. */
  read(path: string, start?: number, end?: number): AsyncIterable<Uint8Array>;
  /** A whole small file in one read, or null when it does not exist; rejects when it is larger than `maxBytes`. */
  readSmall(path: string, maxBytes: number): Promise<Uint8Array | null>;
  /** Opens (creating when missing) a file for appending. */
  openAppend(path: string): Promise<AppendFile>;
  truncate(path: string, size: number): Promise<void>;
  /**
   * Replaces a whole small file atomically: writes `<path>.tmp`, fsyncs it, renames it over `path`
   * and fsyncs the folder, so a crash leaves the old file or the new one, never a mix.
   */
  replace(path: string, data: Uint8Array): Promise<void>;
  /** Removes a file; resolves when it is already gone. */
  remove(path: string): Promise<void>;
  /** Makes created or removed entries in a directory durable (fsync on the directory), where supported. */
  syncDir(path: string): Promise<void>;
}

export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export type DiskErrorCode = 'EROFS' | 'ENOSPC' | 'ENOENT' | 'EIO';

const MESSAGES: Record<DiskErrorCode, [errno: number, text: string]> = {
  EROFS: [-30, 'read-only file system'],
  ENOSPC: [-28, 'no space left on device'],
  ENOENT: [-2, 'no such file or directory'],
  EIO: [-5, 'i/o error'],
};

/** An error shaped like the ones node:fs rejects with (`code`, `errno`, `syscall`, `path`). */
export function errnoError(code: DiskErrorCode, syscall: string, path: string): NodeJS.ErrnoException {
  const [errno, text] = MESSAGES[code];
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${path}'`), { code, errno, syscall, path });
}

const CHUNK = 64 * 1024;
/** Directory fsync is not possible everywhere (some file systems, Deno's node:fs on some OSes). */
const DIR_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF']);

/** The production disk: node:fs/promises (also what Deno 2 provides under node:fs). */
export const nodeDisk: HistoryDisk = {
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },

  list: (path) => readdir(path),

  async size(path) {
    try {
      return (await stat(path)).size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null;
      throw err;
    }
  },

  async *read(path, start = 0, end = Infinity) {
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    try {
      let pos = start;
      while (pos < end) {
        const buf = new Uint8Array(Math.min(CHUNK, end - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
        pos += bytesRead;
      }
    } finally {
      await fh.close();
    }
  },

  async readSmall(path, maxBytes) {
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null;
      throw err;
    }
    try {
      // Usually one read; the buffer grows only for a larger file, up to one byte past the limit.
      let buf = new Uint8Array(Math.min(CHUNK, maxBytes + 1));
      let got = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
        got += bytesRead;
        if (got > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes`);
        if (bytesRead === 0 || got < buf.length) return buf.subarray(0, got);
        const bigger = new Uint8Array(Math.min(buf.length * 4, maxBytes + 1));
        bigger.set(buf);
        buf = bigger;
      }
    } finally {
      await fh.close();
    }
  },

  async openAppend(path) {
    const fh = await open(path, 'a');
    return {
      async append(data) {
        let off = 0;
        while (off < data.length) {
          const { bytesWritten } = await fh.write(data, off, data.length - off);
          off += bytesWritten;
        }
      },
      sync: () => fh.sync(),
      close: () => fh.close(),
    };
  },

  truncate: (path, size) => truncate(path, size),

  async replace(path, data) {
    const tmp = `${path}.tmp`;
    try {
      const fh = await open(tmp, 'w');
      try {
        let off = 0;
        while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    await nodeDisk.syncDir(dirname(path));
  },

  async remove(path) {
    await rm(path, { force: true });
  },

  async syncDir(path) {
    let fh;
    try {
      fh = await open(path, 'r');
      await fh.sync();
    } catch (err) {
      if (!DIR_SYNC_UNSUPPORTED.has(errnoCode(err) ?? '')) throw err;
    } finally {
      await fh?.close();
    }
  },
};
