// Vector ASCII logs (.asc) as python-can's ASCWriter and CANalyzer/CANoe write them: a header
// (`base hex|dec  timestamps absolute|relative`, `Begin Triggerblock <date>`), then one event per
// line — classic frames `0.001 1  123x  Rx  d 8 11 22 ...`, remote `r`, `ErrorFrame`, and `CANFD`
// lines. Other events (statistics, status, comments) are skipped; the reader is stateful per file.
import type { CandumpRecord } from './candump.ts';
import type { CanFrame } from './types.ts';

const CLASSIC = /^\s*(\d+(?:\.\d+)?)\s+(\d+)\s+([0-9A-Fa-f]+)(x?)\s+(Rx|Tx)\s+([dDrR])\s+([0-9A-Fa-f]{1,2})((?:\s+[0-9A-Fa-f]{1,3})*)/;
const FD = /^\s*(\d+(?:\.\d+)?)\s+CANFD\s+(\d+)\s+(Rx|Tx)\s+([0-9A-Fa-f]+)(x?)\s+(?:([A-Za-z_]\w*)\s+)?([01])\s+([01])\s+([0-9A-Fa-f])\s+(\d{1,2})((?:\s+[0-9A-Fa-f]{2})*)/;
const ERROR = /^\s*(\d+(?:\.\d+)?)\s+(\d+)\s+ErrorFrame\b/;
const EVENT = /^\s*\d+(?:\.\d+)?\s/;
const HEADER = /^\s*(date\b|base\b|internal events|no internal events|\/\/|Begin Triggerblock|End TriggerBlock|$)/i;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const FD_LENGTHS = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]);

/** `Thu Dec 12 10:58:43.001 AM 2024` (or 24 h without AM/PM) → ms since the epoch, read as UTC. */
export function ascDate(text: string): number | null {
  const m = /([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s*(AM|PM)?\s+(\d{4})/i.exec(text);
  if (!m) return null;
  const month = MONTHS.indexOf(m[1].toLowerCase());
  if (month < 0) return null;
  let hour = Number(m[3]) % (m[7] ? 12 : 24);
  if (m[7]?.toUpperCase() === 'PM') hour += 12;
  return Date.UTC(Number(m[8]), month, Number(m[2]), hour, Number(m[4]), Number(m[5])) + Number((m[6] ?? '0').padEnd(3, '0').slice(0, 3));
}

/** Reads one .asc file line by line. */
export class AscReader {
  #radix = 16;
  #relative = false;
  #startMs = 0;
  #lastS = 0;

  /** A frame; `skip` for header and non-frame events; null for a line that is not ASC at all. */
  parse(line: string): CandumpRecord | 'skip' | null {
    if (HEADER.test(line)) {
      const base = /^\s*base\s+(hex|dec)\s+timestamps\s+(absolute|relative)/i.exec(line);
      if (base) {
        this.#radix = base[1].toLowerCase() === 'dec' ? 10 : 16;
        this.#relative = base[2].toLowerCase() === 'relative';
      }
      const trigger = /^\s*Begin Triggerblock\s+(.*)$/i.exec(line);
      if (trigger) {
        this.#startMs = ascDate(trigger[1]) ?? this.#startMs;
        this.#lastS = 0;
      }
      return 'skip';
    }
    let m = CLASSIC.exec(line);
    if (m) {
      const [, t, ch, idText, x, dir, kind, dlcText, bytes] = m;
      const remote = kind.toLowerCase() === 'r';
      const dlc = parseInt(dlcText, 16);
      const tokens = bytes.trim() ? bytes.trim().split(/\s+/) : [];
      if (!remote && (dlc > 8 || tokens.length < dlc)) return null;
      const data = remote ? new Uint8Array(0) : Uint8Array.from(tokens.slice(0, dlc), (b) => parseInt(b, this.#radix));
      if (data.some((b) => !(b >= 0 && b <= 255))) return null;
      return this.#record(t, ch, dir, { id: parseInt(idText, this.#radix), ext: x === 'x', data, ...(remote ? { rtr: true } : {}), ts: 0 });
    }
    m = FD.exec(line);
    if (m) {
      const [, t, ch, dir, idText, x, , , , , lenText, bytes] = m;
      const length = Number(lenText);
      const tokens = bytes.trim() ? bytes.trim().split(/\s+/) : [];
      if (!FD_LENGTHS.has(length) || tokens.length < length) return null;
      const data = Uint8Array.from(tokens.slice(0, length), (b) => parseInt(b, 16));
      return this.#record(t, ch, dir, { id: parseInt(idText, 16), ext: x === 'x', fd: true, data, ts: 0 });
    }
    m = ERROR.exec(line);
    if (m) return this.#record(m[1], m[2], 'Rx', { id: 0, ext: false, err: true, data: new Uint8Array(0), ts: 0 });
    // Statistics, status and other timed events are not frames, but they are ASC.
    return EVENT.test(line) ? 'skip' : null;
  }

  #record(t: string, ch: string, dir: string, frame: CanFrame): CandumpRecord {
    const s = Number(t) + (this.#relative ? this.#lastS : 0);
    this.#lastS = s;
    frame.ts = this.#startMs + Math.round(s * 1e6) / 1e3;
    return { iface: ch, direction: dir === 'Tx' ? 'tx' : 'rx', frame };
  }
}
