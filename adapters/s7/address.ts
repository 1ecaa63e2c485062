// The S7 address syntax of nodes7 (`DB1,REAL0`, `DB1,X14.0`, `I0.0`, `MW4`, `PIW30`) plus the Siemens
// spelling of DB addresses (`DB1.DBX14.0`, `DB1.DBW2`): parsing with errors that say what is wrong,
// and the byte codec shared by the client and the simulator.
import { FieldgateError } from '../../core/errors.ts';
import type { S7Address, S7Area, S7Type, S7Value } from './types.ts';

/** An address the parser refuses; `address` is the text as given, `reason` what is wrong with it. */
export class S7AddressError extends FieldgateError {
  override name = 'S7AddressError';
  constructor(readonly address: string, readonly reason: string) {
    super(`S7 address "${address}": ${reason}`);
  }
}

const TYPE_NAMES: Record<string, S7Type> = {
  X: 'X', B: 'BYTE', BYTE: 'BYTE', C: 'CHAR', CHAR: 'CHAR', I: 'INT', INT: 'INT', W: 'WORD', WORD: 'WORD',
  DI: 'DINT', DINT: 'DINT', D: 'DWORD', DW: 'DWORD', DWORD: 'DWORD', R: 'REAL', REAL: 'REAL',
};
// Suffixes after I/Q/M/PI: `MB1`, `MW4`, `MD8` (DWORD, as in nodes7), `MDI8`, `MI4` (INT), `MR8`, `MC2`.
const AREA_SUFFIX: Record<string, S7Type> = { B: 'BYTE', C: 'CHAR', W: 'WORD', I: 'INT', D: 'DWORD', DI: 'DINT', R: 'REAL' };
const AREA_NAMES: Record<string, S7Area> = { I: 'I', E: 'I', Q: 'Q', A: 'Q', M: 'M', PI: 'PI', PE: 'PI' };
const SIEMENS_DB: Record<string, S7Type> = { DBX: 'X', DBB: 'BYTE', DBW: 'WORD', DBD: 'DWORD' };

/** Largest byte offset the 24-bit S7 bit address can carry. */
export const S7_MAX_BYTE = (1 << 21) - 1;
const TYPE_LIST = 'X, BYTE, CHAR, INT, WORD, DINT, DWORD or REAL';
const FORMS = 'expected DB<n>,<type><byte> (DB1,REAL0, DB1,X14.0), an I/Q/M bit (I0.0), an I/Q/M byte, word or double word (MB1, MW4, MD8) or a peripheral input (PIW30)';

/** Parses one address; throws S7AddressError naming the address and what is wrong. */
export function parseS7Address(text: string): S7Address {
  if (typeof text !== 'string') throw new S7AddressError(String(text), 'must be a string');
  const s = text.trim().toUpperCase();
  if (s === '') throw new S7AddressError(text, `empty; ${FORMS}`);
  if (s.startsWith('DB')) return parseDb(text, s);
  const m = /^(PI|PE|PQ|PA|I|E|Q|A|M|T|C)(DI|B|C|W|I|D|R|X)?(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new S7AddressError(text, `not an S7 address; ${FORMS}`);
  const [, areaName, suffix, byteText, bitText] = m;
  if (areaName === 'PQ' || areaName === 'PA') throw new S7AddressError(text, 'peripheral outputs (PQ) are not supported; read the process image (QW..) instead');
  if (areaName === 'T' || areaName === 'C') throw new S7AddressError(text, 'timers and counters (T, C) are not supported; read the value the program copies into a DB or marker');
  const area = AREA_NAMES[areaName];
  const type: S7Type = suffix === undefined || suffix === 'X' ? 'X' : AREA_SUFFIX[suffix];
  if (area === 'PI' && type === 'X') throw new S7AddressError(text, 'peripheral inputs have no bit access; use PIB, PIW or PID (or the process image bit I<byte>.<bit>)');
  return finish(text, { area, type }, byteText, bitText);
}

function parseDb(text: string, s: string): S7Address {
  const siemens = /^DB(\d+)\.(DBX|DBB|DBW|DBD)(\d+)(?:\.(\d+))?$/.exec(s);
  if (siemens) return finish(text, { area: 'DB', db: dbNumber(text, siemens[1]), type: SIEMENS_DB[siemens[2]] }, siemens[3], siemens[4]);
  const m = /^DB(\d*)\s*,\s*([A-Z]*)(\d*)(?:\.(\d+))?(\.\d+)?$/.exec(s);
  if (!m) throw new S7AddressError(text, `not a DB address; expected DB<n>,<type><byte> such as DB1,REAL0, DB1,INT12 or DB1,X14.0`);
  const [, dbText, typeName, byteText, second, third] = m;
  const db = dbNumber(text, dbText);
  if (typeName === 'S' || typeName === 'STRING') throw new S7AddressError(text, 'STRING is not supported; read the bytes with BYTE addresses');
  if (typeName === '') throw new S7AddressError(text, `missing the type after the comma (${TYPE_LIST}), e.g. DB${db},REAL0`);
  const type = TYPE_NAMES[typeName];
  if (!type) throw new S7AddressError(text, `unknown type "${typeName}" (use ${TYPE_LIST}, e.g. DB${db},REAL0)`);
  if (byteText === '') throw new S7AddressError(text, `missing the byte offset after ${typeName}, e.g. DB${db},${typeName}0`);
  if (third !== undefined) throw new S7AddressError(text, 'arrays (a third part) are not supported; list each element');
  if (type !== 'X' && second !== undefined) throw new S7AddressError(text, `arrays ("${typeName}${byteText}.${second}") are not supported; a bit number belongs to X only`);
  return finish(text, { area: 'DB', db, type }, byteText, second);
}

function dbNumber(text: string, digits: string): number {
  if (digits === '') throw new S7AddressError(text, 'missing the DB number, e.g. DB1,REAL0');
  const db = Number(digits);
  if (db < 1 || db > 65535) throw new S7AddressError(text, `DB number must be 1..65535, got ${db}`);
  return db;
}

function finish(text: string, a: { area: S7Area; db?: number; type: S7Type }, byteText: string, bitText: string | undefined): S7Address {
  const byte = Number(byteText);
  if (byte > S7_MAX_BYTE) throw new S7AddressError(text, `byte offset must be 0..${S7_MAX_BYTE}, got ${byte}`);
  const out: S7Address = { text, area: a.area, type: a.type, byte };
  if (a.db !== undefined) out.db = a.db;
  if (a.type === 'X') {
    if (bitText === undefined) throw new S7AddressError(text, `a bit address needs the bit number, e.g. ${text.trim()}.0`);
    const bit = Number(bitText);
    if (bit > 7) throw new S7AddressError(text, `bit must be 0..7, got ${bit}`);
    out.bit = bit;
  } else if (bitText !== undefined) {
    throw new S7AddressError(text, `a bit number is only valid for bit addresses, not ${a.type}`);
  }
  return out;
}

/** Bytes an address occupies (a bit occupies its byte). */
export function s7ByteLength(type: S7Type): number {
  return type === 'REAL' || type === 'DINT' || type === 'DWORD' ? 4 : type === 'INT' || type === 'WORD' ? 2 : 1;
}

/** The canonical text: `DB1,REAL0`, `I0.0`, `MW4`, `PIW30`. */
export function formatS7Address(a: S7Address): string {
  if (a.area === 'DB') return `DB${a.db},${a.type}${a.byte}${a.type === 'X' ? `.${a.bit}` : ''}`;
  if (a.type === 'X') return `${a.area}${a.byte}.${a.bit}`;
  const suffix = { BYTE: 'B', CHAR: 'C', WORD: 'W', INT: 'I', DWORD: 'D', DINT: 'DI', REAL: 'R' }[a.type];
  return `${a.area}${suffix}${a.byte}`;
}

/** Checks a value before it is written: booleans for bits, numbers in range for the rest. Returns a message or null. */
export function checkS7Value(a: S7Address, value: unknown): string | null {
  if (a.type === 'X') return typeof value === 'boolean' ? null : `a bit takes true or false, got ${JSON.stringify(value)}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${a.type} takes a finite number, got ${JSON.stringify(value)}`;
  if (a.type === 'REAL') return null;
  const [min, max] = INT_RANGES[a.type];
  if (!Number.isInteger(value) || value < min || value > max) return `${a.type} takes an integer ${min}..${max}, got ${value}`;
  return null;
}

const INT_RANGES: Record<Exclude<S7Type, 'X' | 'REAL'>, [number, number]> = {
  BYTE: [0, 255], CHAR: [0, 255], INT: [-32768, 32767], WORD: [0, 65535],
  DINT: [-2147483648, 2147483647], DWORD: [0, 4294967295],
};

/** Decodes a value from `bytes` at `offset` (big-endian, as the PLC stores it). */
export function decodeS7Value(a: S7Address, bytes: Uint8Array, offset = 0): S7Value {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, s7ByteLength(a.type));
  switch (a.type) {
    case 'X': return (v.getUint8(0) & (1 << (a.bit ?? 0))) !== 0;
    case 'BYTE': case 'CHAR': return v.getUint8(0);
    case 'INT': return v.getInt16(0);
    case 'WORD': return v.getUint16(0);
    case 'DINT': return v.getInt32(0);
    case 'DWORD': return v.getUint32(0);
    case 'REAL': return v.getFloat32(0);
  }
}

/** Encodes a checked value into `bytes` at `offset`; a bit changes only its own bit of the byte. */
export function encodeS7Value(a: S7Address, value: S7Value, bytes: Uint8Array, offset = 0): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, s7ByteLength(a.type));
  const n = Number(value);
  switch (a.type) {
    case 'X': {
      const mask = 1 << (a.bit ?? 0);
      v.setUint8(0, value ? v.getUint8(0) | mask : v.getUint8(0) & ~mask);
      return;
    }
    case 'BYTE': case 'CHAR': v.setUint8(0, n); return;
    case 'INT': v.setInt16(0, n); return;
    case 'WORD': v.setUint16(0, n); return;
    case 'DINT': v.setInt32(0, n); return;
    case 'DWORD': v.setUint32(0, n); return;
    case 'REAL': v.setFloat32(0, n); return;
  }
}
