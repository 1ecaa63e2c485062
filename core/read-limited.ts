// Reads a fetch Response body, or a file, with a byte limit: a peer that answers an endless or huge
// body is cut off (the download cancelled) instead of growing the gateway's memory.

export class ReplyTooLargeError extends Error {
  override name = 'ReplyTooLargeError';
  /** `size`: the size when it was known before reading (a file's size on disk). */
  constructor(readonly limit: number, readonly size?: number) {
    super(size === undefined ? `reply over ${limit} bytes` : `${size} bytes, over the ${limit}-byte limit`);
  }
}

/** The body as UTF-8 text; rejects with `ReplyTooLargeError` past `limit` bytes (declared or received). */
export async function readTextLimited(res: Response, limit: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw new ReplyTooLargeError(limit);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new ReplyTooLargeError(limit);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/**
 * A file's bytes, refusing past `limit` bytes without reading further: checked while reading, not
 * by the size on disk alone, so a device or FIFO that never ends (`/dev/zero`) is refused too.
 */
export async function readFileLimited(path: string, limit: number): Promise<Uint8Array> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r');
  try {
    const st = await handle.stat();
    if (st.isFile() && st.size > limit) throw new ReplyTooLargeError(limit, st.size);
    const buf = new Uint8Array(Math.min(st.isFile() ? st.size + 1 : 65536, limit + 1));
    let out = buf;
    let size = 0;
    for (;;) {
      if (size === out.length) {
        if (size > limit) throw new ReplyTooLargeError(limit);
        const bigger = new Uint8Array(Math.min(out.length * 2, limit + 1));
        bigger.set(out);
        out = bigger;
      }
      const { bytesRead } = await handle.read(out, size, out.length - size, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size > limit) throw new ReplyTooLargeError(limit);
    }
    return out.subarray(0, size);
  } finally {
    await handle.close();
  }
}
