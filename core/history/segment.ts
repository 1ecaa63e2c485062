// Segment file format: one file per series and time window, named `<windowStartMs>.seg`, holding
// append-only lines `<crc32 hex> <json>\n` where json is `{"ts":...,"data":{...}}`.
import { FieldgateError } from '../errors.ts';
import { crc32Bytes as crc32 } from '../crc32.ts';
import type { HistoryDisk } from './disk.ts';
import type { HistoryRecord } from './types.ts';

const SERIES_NAME = /^[a-z0-9_-]{1,64}$/;
const FILE_NAME = /^(-?\d+)\.seg$/;
const NL = 0x0a;
const SPACE = 0x20;
const HEX = '0123456789abcdef';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function isSeriesName(series: string): boolean {
  return SERIES_NAME.test(series);
}

/** Series names become folder names, so they are restricted to a safe alphabet. */
export function checkSeriesName(series: unknown): asserts series is string {
  if (typeof series !== 'string' || !isSeriesName(series)) {
    throw new FieldgateError(
      `history: invalid series name ${JSON.stringify(series)}: use 1-64 lowercase letters, digits, '_' or '-' (e.g. "can_messages")`,
    );
  }
}

/** Throws on anything that would not survive the disk round trip as the same record. */
export function checkRecord(record: unknown, series: string, index: number): asserts record is HistoryRecord {
  const r = record as Partial<HistoryRecord> | null;
  if (typeof r !== 'object' || r === null || typeof r.ts !== 'number' || !Number.isFinite(r.ts)) {
    throw new FieldgateError(`history ${series}: record ${index} needs a finite numeric ts (ms since the epoch)`);
  }
  if (typeof r.data !== 'object' || r.data === null || Array.isArray(r.data)) {
    throw new FieldgateError(`history ${series}: record ${index} needs data as a plain object`);
  }
}

export function segmentFileName(window: number): string {
  return `${window}.seg`;
}

const SUMMARY_NAME = /^(-?\d+)\.sum$/;

/** The window start of a segment summary sidecar (`<start>.sum`, see summary.ts), or null. */
export function parseSummaryFileName(name: string): number | null {
  const m = SUMMARY_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/** The window start a segment file name stands for, or null for anything else in the folder. */
export function parseSegmentFileName(name: string): number | null {
  const m = FILE_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Encodes one record as a segment line, and the record exactly as a reader will see it again
 * (JSON drops `undefined` fields and turns NaN into null), so memory and disk always agree.
 */
export function encodeRecord(record: HistoryRecord): { line: Uint8Array; stored: HistoryRecord } {
  const json = JSON.stringify({ ts: record.ts, data: record.data });
  const line = encoder.encode(`00000000 ${json}\n`);
  let crc = crc32(line.subarray(9, line.length - 1));
  for (let i = 7; i >= 0; i--, crc >>>= 4) line[i] = HEX.charCodeAt(crc & 0xf);
  return { line, stored: JSON.parse(json) as HistoryRecord };
}

/** Decodes one line (without its newline); null when it is torn or corrupt. */
export function decodeLine(line: Uint8Array): HistoryRecord | null {
  if (line.length < 10 || line[8] !== SPACE) return null;
  let want = 0;
  for (let i = 0; i < 8; i++) {
    const d = HEX.indexOf(String.fromCharCode(line[i]));
    if (d < 0) return null;
    want = want * 16 + d;
  }
  const body = line.subarray(9);
  if (crc32(body) !== want) return null;
  try {
    const v = JSON.parse(decoder.decode(body)) as Partial<HistoryRecord> | null;
    if (typeof v?.ts !== 'number' || typeof v.data !== 'object' || v.data === null) return null;
    return { ts: v.ts, data: v.data };
  } catch {
    return null;
  }
}

/**
 * Streams the records of a segment file's first `end` bytes, line by line. Torn or corrupt lines
 * are reported through `onCorrupt` with their byte offset and skipped; a missing file is empty.
 */
export async function* readSegment(
  disk: HistoryDisk,
  path: string,
  end: number,
  onCorrupt: (offset: number) => void,
): AsyncGenerator<HistoryRecord> {
  for await (const batch of readSegmentBatches(disk, path, end, onCorrupt)) yield* batch;
}

/** readSegment() one read chunk's records at a time: a long scan pays one await per chunk, not per record. */
export async function* readSegmentBatches(
  disk: HistoryDisk,
  path: string,
  end: number,
  onCorrupt: (offset: number) => void,
): AsyncGenerator<HistoryRecord[]> {
  let carry: Uint8Array | null = null;
  let chunkStart = 0;
  let lineStart = 0;
  for await (const chunk of disk.read(path, 0, end)) {
    const batch: HistoryRecord[] = [];
    let from = 0;
    for (let nl = chunk.indexOf(NL); nl !== -1; nl = chunk.indexOf(NL, from)) {
      let line = chunk.subarray(from, nl);
      if (carry) {
        line = concat(carry, line);
        carry = null;
      }
      if (line.length > 0) {
        const record = decodeLine(line);
        if (record) batch.push(record);
        else onCorrupt(lineStart);
      }
      from = nl + 1;
      lineStart = chunkStart + from;
    }
    if (from < chunk.length) carry = carry ? concat(carry, chunk.subarray(from)) : chunk.slice(from);
    chunkStart += chunk.length;
    if (batch.length) yield batch;
  }
  if (carry && carry.length > 0) {
    // A last line without its newline is a torn write, unless it happens to be complete.
    const record = decodeLine(carry);
    if (record) yield [record];
    else onCorrupt(lineStart);
  }
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
