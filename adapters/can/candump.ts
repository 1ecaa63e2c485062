// The candump log format (can-utils `candump -l`, python-can's CanutilsLogWriter):
// `(1734001123.123456) can0 123#AAFF0410`, with an optional direction (` R` received, ` T` sent, as
// python-can and `candump -x` write), remote frames `123#R`, CAN FD `123##<flags><data>` and
// classic 9..15 DLC `_<dlc>` suffixes. Parsing and formatting, plus a buffered writer.
import { open, type FileHandle } from 'node:fs/promises';
import type { CanFrame } from './types.ts';

const CAN_ERR_FLAG = 0x20000000;
const LINE = /^\((\d+)\.(\d{1,9})\)\s+(\S+)\s+([0-9A-Fa-f]{3}|[0-9A-Fa-f]{8})#(#[0-9A-Fa-f])?(R\d{0,2}|[0-9A-Fa-f]*)(?:_[0-9A-Fa-f])?(?:\s+([RT]))?\s*$/;
const FD_LENGTHS = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]);
/** Longer lines are not candump lines (64 data bytes with the longest header fit in ~200). */
export const CANDUMP_MAX_LINE = 512;

export interface CandumpRecord {
  frame: CanFrame;
  iface: string;
  /** `rx`/`tx` when the line carries ` R`/` T`; null otherwise. */
  direction: 'rx' | 'tx' | null;
}

/** Parses one log line; returns null for a line that is not a CAN frame (garbage, too long, odd payload). */
export function parseCandumpLine(line: string): CandumpRecord | null {
  if (line.length > CANDUMP_MAX_LINE) return null;
  const m = LINE.exec(line);
  if (!m) return null;
  const [, sec, frac, iface, idText, fdFlags, payload, dir] = m;
  const direction = dir === 'R' ? 'rx' : dir === 'T' ? 'tx' : null;
  const ts = Number(sec) * 1000 + Number(frac.padEnd(6, '0').slice(0, 6)) / 1000;
  let id = parseInt(idText, 16);
  const ext = idText.length === 8;
  let err = false;
  if (ext && id & CAN_ERR_FLAG) {
    err = true;
    id &= 0x1fffffff;
  }
  if (payload.startsWith('R')) {
    if (fdFlags) return null; // CAN FD has no remote frames
    return { iface, direction, frame: { id, ext, rtr: true, data: new Uint8Array(0), ts } };
  }
  if (payload.length % 2 !== 0) return null;
  const length = payload.length / 2;
  if (fdFlags ? !FD_LENGTHS.has(length) : length > 8) return null;
  const data = new Uint8Array(length);
  for (let i = 0; i < data.length; i++) data[i] = parseInt(payload.slice(i * 2, i * 2 + 2), 16);
  const frame: CanFrame = { id, ext: ext && !err, data, ts };
  if (err) frame.err = true;
  if (fdFlags) frame.fd = true;
  return { iface, direction, frame };
}

/** Formats a frame as candump does (extended and error ids with 8 digits, µs timestamps). */
export function formatCandumpLine(frame: CanFrame, iface = 'can0'): string {
  const us = Math.round(frame.ts * 1000);
  const sec = Math.floor(us / 1e6);
  const frac = String(us - sec * 1e6).padStart(6, '0');
  const idValue = frame.err ? (frame.id | CAN_ERR_FLAG) >>> 0 : frame.id;
  const id = idValue.toString(16).toUpperCase().padStart(frame.ext || frame.err ? 8 : 3, '0');
  let payload = '';
  if (frame.rtr) payload = 'R';
  else if (frame.fd) payload = '#0';
  if (!frame.rtr) for (const b of frame.data) payload += b.toString(16).toUpperCase().padStart(2, '0');
  return `(${sec}.${frac}) ${iface} ${id}#${payload}`;
}

/** Appends frames to a candump log, buffered: lines go to disk every `flushLines` or on `flush()`/`close()`. */
export class CandumpWriter {
  #handle: FileHandle | null = null;
  #lines: string[] = [];
  #written = 0;
  #chain: Promise<void> = Promise.resolve();

  private constructor(readonly path: string, readonly iface: string, readonly flushLines: number) {}

  static async open(path: string, options: { iface?: string; flushLines?: number; append?: boolean } = {}): Promise<CandumpWriter> {
    const w = new CandumpWriter(path, options.iface ?? 'can0', options.flushLines ?? 1000);
    try {
      w.#handle = await open(path, options.append === false ? 'w' : 'a');
    } catch (err) {
      throw new Error(`candump writer: cannot open ${path} (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err });
    }
    return w;
  }

  get framesWritten(): number {
    return this.#written + this.#lines.length;
  }

  write(frame: CanFrame): void {
    if (!this.#handle) throw new Error(`candump writer ${this.path}: closed`);
    this.#lines.push(formatCandumpLine(frame, this.iface));
    if (this.#lines.length >= this.flushLines) void this.flush().catch(() => {});
  }

  /** Writes buffered lines; rejects with the file's error (the lines stay buffered for the next try). */
  flush(): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      if (!this.#handle || this.#lines.length === 0) return;
      const lines = this.#lines;
      this.#lines = [];
      try {
        await this.#handle.write(lines.join('\n') + '\n');
        this.#written += lines.length;
      } catch (err) {
        this.#lines = lines.concat(this.#lines);
        throw err;
      }
    });
    return this.#chain;
  }

  async close(): Promise<void> {
    if (!this.#handle) return;
    await this.flush();
    await this.#handle.close();
    this.#handle = null;
  }
}
