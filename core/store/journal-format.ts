// The journal's on-disk record format: one line per mutation, `<crc32 hex> <json>\n`, where the
// JSON carries the sequence number `s`. Scanning stops at the first record that fails its CRC.

import { crc32Bytes, crc32String, hex8 } from '../crc32.ts';

export interface JournalRecord {
  /** Sequence number, strictly increasing across the whole journal. */
  s: number;
  /** Operation; the rest of the fields depend on it (see mutations.ts). */
  o: string;
  [field: string]: unknown;
}

export interface ScanResult {
  records: JournalRecord[];
  /** Bytes of intact records from the start of the file; everything after is garbage. */
  validBytes: number;
  /** Damaged or half-written lines after validBytes (0 when the file is clean). */
  badLines: number;
  /** True when intact records follow the damage: that is corruption, not a torn write. */
  intactAfterDamage: boolean;
}

const NL = 0x0a;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** One line for `json` (a serialised JournalRecord). */
export function encodeLine(json: string): string {
  return `${hex8(crc32String(json))} ${json}\n`;
}

function parseLine(bytes: Uint8Array, start: number, end: number): JournalRecord | null {
  // 8 hex digits, a space, then at least "{}".
  if (end - start < 11 || bytes[start + 8] !== 0x20) return null;
  const crc = Number.parseInt(decoder.decode(bytes.subarray(start, start + 8)), 16);
  if (!Number.isFinite(crc) || crc32Bytes(bytes, start + 9, end) !== crc) return null;
  try {
    const rec = JSON.parse(decoder.decode(bytes.subarray(start + 9, end))) as JournalRecord;
    return typeof rec === 'object' && rec !== null && typeof rec.s === 'number' && typeof rec.o === 'string' ? rec : null;
  } catch {
    return null;
  }
}

export function scanJournal(bytes: Uint8Array): ScanResult {
  const records: JournalRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(NL, pos);
    // A line without its newline is a write the crash cut short, even if its CRC happens to match.
    const rec = nl < 0 ? null : parseLine(bytes, pos, nl);
    if (!rec) break;
    records.push(rec);
    pos = nl + 1;
  }
  const validBytes = pos;
  let badLines = 0;
  let intactAfterDamage = false;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(NL, pos);
    const end = nl < 0 ? bytes.length : nl;
    if (end > pos || nl < 0) {
      if (nl >= 0 && parseLine(bytes, pos, end)) intactAfterDamage = true;
      else badLines++;
    }
    pos = end + 1;
  }
  return { records, validBytes, badLines, intactAfterDamage };
}
