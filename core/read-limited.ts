// Reads a fetch Response body with a byte limit: a peer that answers an endless or huge body is cut
// off (the download cancelled) instead of growing the gateway's memory.

export class ReplyTooLargeError extends Error {
  override name = 'ReplyTooLargeError';
  constructor(readonly limit: number) {
    super(`reply over ${limit} bytes`);
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
