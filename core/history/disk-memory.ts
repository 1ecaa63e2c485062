// A HistoryDisk held in memory: the history store's backing for `dataDir: null` (nothing survives
// the process, but segments, queries and retention behave exactly as on disk).
import type { AppendFile, HistoryDisk } from './disk.ts';
import { errnoError } from './disk.ts';

export class MemoryDisk implements HistoryDisk {
  readonly #files = new Map<string, Uint8Array[]>();
  readonly #dirs = new Set<string>(['/']);

  async mkdir(path: string): Promise<void> {
    for (let p = trim(path); p && p !== '/' && !this.#dirs.has(p); p = parent(p)) this.#dirs.add(p);
  }

  async list(path: string): Promise<string[]> {
    const dir = trim(path);
    if (!this.#dirs.has(dir)) throw errnoError('ENOENT', 'scandir', path);
    const names = new Set<string>();
    for (const p of [...this.#dirs, ...this.#files.keys()]) if (p !== dir && parent(p) === dir) names.add(p.slice(dir.length + 1));
    return [...names].sort();
  }

  async size(path: string): Promise<number | null> {
    const chunks = this.#files.get(trim(path));
    return chunks ? chunks.reduce((n, c) => n + c.length, 0) : null;
  }

  async *read(path: string, start = 0, end = Infinity): AsyncIterable<Uint8Array> {
    let pos = 0;
    for (const chunk of this.#files.get(trim(path)) ?? []) {
      const from = Math.max(start - pos, 0);
      const to = Math.min(end - pos, chunk.length);
      if (to > from) yield chunk.slice(from, to);
      pos += chunk.length;
      if (pos >= end) return;
    }
  }

  async readSmall(path: string, maxBytes: number): Promise<Uint8Array | null> {
    const chunks = this.#files.get(trim(path));
    if (!chunks) return null;
    const size = chunks.reduce((n, c) => n + c.length, 0);
    if (size > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes`);
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  async openAppend(path: string): Promise<AppendFile> {
    const p = trim(path);
    if (!this.#dirs.has(parent(p))) throw errnoError('ENOENT', 'open', path);
    if (!this.#files.has(p)) this.#files.set(p, []);
    return {
      append: async (data) => {
        // A file removed while open keeps its data in the removed inode, like POSIX.
        this.#files.get(p)?.push(data.slice());
      },
      sync: async () => {},
      close: async () => {},
    };
  }

  async truncate(path: string, size: number): Promise<void> {
    const p = trim(path);
    const chunks = this.#files.get(p);
    if (!chunks) throw errnoError('ENOENT', 'open', path);
    const kept: Uint8Array[] = [];
    let left = size;
    for (const c of chunks) {
      if (left <= 0) break;
      kept.push(c.length <= left ? c : c.slice(0, left));
      left -= c.length;
    }
    this.#files.set(p, kept);
  }

  async replace(path: string, data: Uint8Array): Promise<void> {
    const p = trim(path);
    if (!this.#dirs.has(parent(p))) throw errnoError('ENOENT', 'open', path);
    this.#files.set(p, [data.slice()]);
  }

  async remove(path: string): Promise<void> {
    this.#files.delete(trim(path));
  }

  async syncDir(): Promise<void> {}
}

function trim(path: string): string {
  const p = path.replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

function parent(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
