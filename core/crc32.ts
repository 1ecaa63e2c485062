// CRC-32 (IEEE, as in zlib/PNG) for journal and segment lines and summary sidecars. node:zlib.crc32 is
// used for long inputs where present (Node >= 20.15, Deno 2); the table code covers older Node 20 and
// short lines. crc32String works straight from a JS string's UTF-8 so the hot path never allocates a copy.
import * as zlib from 'node:zlib';

/** Native CRC-32 where the runtime has it (absent before Node 20.15). */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
/** Below this a call into native code costs more than the table loop. */
const NATIVE_FROM = 256;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Slicing-by-8 tables: SLICES[k][n] is the CRC state after byte n followed by k zero bytes. */
const SLICES = (() => {
  const t = [TABLE];
  for (let k = 1; k < 8; k++) {
    const prev = t[k - 1];
    const next = new Uint32Array(256);
    for (let n = 0; n < 256; n++) next[n] = (prev[n] >>> 8) ^ TABLE[prev[n] & 0xff];
    t.push(next);
  }
  return t;
})();

export function crc32Bytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (nativeCrc32 && end - start >= NATIVE_FROM) return nativeCrc32(bytes.subarray(start, end)) >>> 0;
  return crc32Table(bytes, start, end);
}

/** The table code alone (what runs without node:zlib.crc32); exported so tests can hold it to zlib. */
export function crc32Table(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = SLICES;
  let c = 0xffffffff;
  let i = start;
  // Eight bytes per step (segment lines and summary sidecars are checked in bulk on every cold query).
  for (; i + 8 <= end; i += 8) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t7[c & 0xff] ^ t6[(c >>> 8) & 0xff] ^ t5[(c >>> 16) & 0xff] ^ t4[c >>> 24] ^ t3[bytes[i + 4]] ^ t2[bytes[i + 5]] ^ t1[bytes[i + 6]] ^ t0[bytes[i + 7]];
  }
  for (; i < end; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 of the UTF-8 encoding of `text` (same result as crc32Bytes(new TextEncoder().encode(text))). */
export function crc32String(text: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      c = TABLE[(c ^ cp) & 0xff] ^ (c >>> 8);
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      } else cp = 0xfffd;
    } else if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate: TextEncoder writes U+FFFD
    const bytes =
      cp < 0x800 ? [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
      : cp < 0x10000 ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
      : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
    for (const b of bytes) c = TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

export function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
