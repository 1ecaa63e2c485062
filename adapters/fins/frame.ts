// FINS frames as bytes: the 10-byte header, command codes, request bodies, and end codes with
// their meanings. Pure functions shared by the client and the CJ2M simulator.
import type { FinsArea } from './types.ts';

export interface FinsHeader {
  /** 0x80 = command, response required; responses have bit 0x40 set (0xC0/0xC1). */
  icf: number;
  rsv: number;
  /** Gateway count: 0x02 lets the frame cross up to two bridges. */
  gct: number;
  dna: number;
  da1: number;
  da2: number;
  sna: number;
  sa1: number;
  sa2: number;
  sid: number;
}

export interface FinsFrame {
  header: FinsHeader;
  mrc: number;
  src: number;
  /** Everything after MRC/SRC: the request body, or the end code + data of a response. */
  body: Uint8Array;
}

export const HEADER_LENGTH = 10;
export const ICF_COMMAND = 0x80;
export const ICF_RESPONSE_BIT = 0x40;

/** [MRC, SRC] of the commands fieldgate uses. */
export const COMMANDS = {
  read: [0x01, 0x01],
  write: [0x01, 0x02],
  readMany: [0x01, 0x04],
  run: [0x04, 0x01],
  stop: [0x04, 0x02],
  status: [0x06, 0x01],
} as const;

/** Memory area codes (CS/CJ mode): the word code and the bit code of each area. */
export const AREA_CODES: Record<FinsArea, { word: number; bit: number }> = {
  DM: { word: 0x82, bit: 0x02 },
  CIO: { word: 0xb0, bit: 0x30 },
  W: { word: 0xb1, bit: 0x31 },
  H: { word: 0xb2, bit: 0x32 },
  A: { word: 0xb3, bit: 0x33 },
};

/** The area and access size behind an area code, or undefined for codes fieldgate does not know. */
export function areaOfCode(code: number): { area: FinsArea; bits: boolean } | undefined {
  for (const [area, c] of Object.entries(AREA_CODES) as [FinsArea, { word: number; bit: number }][]) {
    if (c.word === code) return { area, bits: false };
    if (c.bit === code) return { area, bits: true };
  }
  return undefined;
}

export function encodeFrame(frame: FinsFrame): Uint8Array {
  const h = frame.header;
  const out = new Uint8Array(HEADER_LENGTH + 2 + frame.body.length);
  out.set([h.icf, h.rsv, h.gct, h.dna, h.da1, h.da2, h.sna, h.sa1, h.sa2, h.sid, frame.mrc, frame.src]);
  out.set(frame.body, HEADER_LENGTH + 2);
  return out;
}

/** Splits a datagram into header, command and body; null when it is too short to be FINS. */
export function decodeFrame(bytes: Uint8Array): FinsFrame | null {
  if (bytes.length < HEADER_LENGTH + 2) return null;
  const [icf, rsv, gct, dna, da1, da2, sna, sa1, sa2, sid, mrc, src] = bytes;
  return { header: { icf, rsv, gct, dna, da1, da2, sna, sa1, sa2, sid }, mrc, src, body: bytes.slice(HEADER_LENGTH + 2) };
}

/** The header of the response to `request`: source and destination swapped, same SID. */
export function responseHeader(request: FinsHeader): FinsHeader {
  return {
    icf: 0xc0 | (request.icf & 0x01),
    rsv: 0,
    gct: 0x02,
    dna: request.sna,
    da1: request.sa1,
    da2: request.sa2,
    sna: request.dna,
    sa1: request.da1,
    sa2: request.da2,
    sid: request.sid,
  };
}

/** Memory Area Read body: area(1) address(2, BE) bit(1) count(2, BE). Write appends the data. */
export function memoryAreaBody(areaCode: number, address: number, bit: number, count: number, data?: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + (data?.length ?? 0));
  out[0] = areaCode;
  out[1] = address >> 8;
  out[2] = address & 0xff;
  out[3] = bit;
  out[4] = count >> 8;
  out[5] = count & 0xff;
  if (data) out.set(data, 6);
  return out;
}

export function wordsToBytes(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(words.length * 2);
  words.forEach((w, i) => {
    out[2 * i] = (w >> 8) & 0xff;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

export function bytesToWords(bytes: Uint8Array, count: number, offset = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  return out;
}

/**
 * The end code of a response body (bytes 12-13 of the frame) with the flag bits masked out: bit 7
 * of MRES marks a relay (network) error, bits 6-7 of SRES a non-fatal/fatal CPU error that does not
 * stop the command from completing.
 */
export function endCodeOf(body: Uint8Array): number {
  return ((body[0] & 0x7f) << 8) | (body[1] & 0x3f);
}

/** End codes from the FINS Commands Reference Manual (W342), the ones a gateway meets. */
export const END_CODES: Record<number, string> = {
  0x0000: 'normal completion',
  0x0001: 'service canceled',
  0x0101: 'local node not in network',
  0x0102: 'token timeout',
  0x0103: 'retries failed',
  0x0104: 'too many send frames',
  0x0105: 'node address range error',
  0x0106: 'node address duplication',
  0x0201: 'destination node not in network',
  0x0202: 'unit missing',
  0x0203: 'third node missing',
  0x0204: 'destination node busy',
  0x0205: 'response timeout',
  0x0301: 'communications controller error',
  0x0302: 'CPU Unit error',
  0x0303: 'controller error',
  0x0304: 'unit number error',
  0x0401: 'undefined command (not supported)',
  0x0402: 'not supported by model/version',
  0x0501: 'destination address setting error',
  0x0502: 'no routing tables',
  0x0503: 'routing table error',
  0x0504: 'too many relays',
  0x1001: 'command too long',
  0x1002: 'command too short',
  0x1003: 'elements/data do not match',
  0x1004: 'command format error',
  0x1005: 'header error',
  0x1101: 'area classification missing (no such memory area)',
  0x1102: 'access size error',
  0x1103: 'address range error (start address out of range)',
  0x1104: 'address range exceeded (end of the area passed)',
  0x1106: 'program missing',
  0x1109: 'relational error',
  0x110a: 'duplicate data access',
  0x110b: 'response too long',
  0x110c: 'parameter error',
  0x2002: 'protected (program area write-protected)',
  0x2003: 'table missing',
  0x2004: 'data missing',
  0x2005: 'program missing',
  0x2006: 'file missing',
  0x2007: 'data mismatch',
  0x2101: 'read-only area',
  0x2102: 'protected (cannot write data link table)',
  0x2103: 'cannot register',
  0x2201: 'not possible during execution',
  0x2202: 'not possible while running',
  0x2203: 'wrong PLC mode (in PROGRAM mode)',
  0x2204: 'wrong PLC mode (in DEBUG mode)',
  0x2205: 'wrong PLC mode (in MONITOR mode)',
  0x2206: 'wrong PLC mode (in RUN mode)',
  0x2301: 'file device missing',
  0x2302: 'memory missing',
  0x2303: 'clock missing',
  0x2401: 'table missing',
  0x2502: 'memory error',
  0x2503: 'I/O setting error',
  0x2601: 'no protection',
  0x2602: 'incorrect password',
  0x2604: 'protected',
  0x2605: 'service already executing',
  0x2606: 'service stopped',
  0x2607: 'no execution right',
  0x3001: 'no access right',
  0x4001: 'service aborted',
};

export function describeEndCode(code: number): string {
  return END_CODES[code] ?? `unknown end code (main 0x${(code >> 8).toString(16).padStart(2, '0')}, sub 0x${(code & 0xff).toString(16).padStart(2, '0')})`;
}
