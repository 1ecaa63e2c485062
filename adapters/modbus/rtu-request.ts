// Modbus RTU master framing: the request ADU (unit + PDU + CRC-16/MODBUS) for the function codes the
// client uses, how long the reply will be once its first bytes are in, and the checks a reply must
// pass (CRC, unit, function, byte count, write echo) before its data is believed.
import { encodeRtuFrame, RTU_MAX_ADU, rtuCrcOk } from './server/rtu.ts';

export { RTU_MAX_ADU };

/** One request as the client sends it, with what its reply must look like. */
export interface RtuRequest {
  unit: number;
  fc: 1 | 2 | 3 | 4 | 5 | 6 | 15 | 16;
  address: number;
  /** Registers or bits read or written. */
  count: number;
  adu: Uint8Array;
}

export type RtuReply =
  | { kind: 'data'; registers?: number[]; bits?: boolean[] }
  | { kind: 'exception'; code: number }
  | { kind: 'invalid'; reason: string };

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];

function request(unit: number, fc: RtuRequest['fc'], address: number, count: number, body: number[]): RtuRequest {
  if (!Number.isInteger(unit) || unit < 0 || unit > 247) throw new RangeError(`modbus rtu: unit ${unit} is outside 0..247`);
  if (!Number.isInteger(address) || address < 0 || address + count > 0x10000) throw new RangeError(`modbus rtu: address ${address} + ${count} is outside 0..65535`);
  return { unit, fc, address, count, adu: encodeRtuFrame(unit, Uint8Array.from([fc, ...u16(address), ...body])) };
}

function checkCount(count: number, max: number, what: string): void {
  if (!Number.isInteger(count) || count < 1 || count > max) throw new RangeError(`modbus rtu: ${count} ${what} is outside 1..${max}`);
}

/** FC1/2 (max 2000 bits) or FC3/4 (max 125 registers). */
export function readRequest(unit: number, fc: 1 | 2 | 3 | 4, address: number, count: number): RtuRequest {
  checkCount(count, fc <= 2 ? 2000 : 125, fc <= 2 ? 'bits' : 'registers');
  if (unit === 0) throw new RangeError('modbus rtu: unit 0 is the broadcast address, which takes writes only (no slave answers it)');
  return request(unit, fc, address, count, u16(count));
}

/** FC6 for one register, FC16 for up to 123. */
export function writeRegistersRequest(unit: number, address: number, values: number[]): RtuRequest {
  checkCount(values.length, 123, 'registers');
  for (const v of values) if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`modbus rtu: register value ${v} is outside 0..65535`);
  if (values.length === 1) return request(unit, 6, address, 1, u16(values[0]));
  return request(unit, 16, address, values.length, [...u16(values.length), values.length * 2, ...values.flatMap(u16)]);
}

/** FC5 for one coil, FC15 for up to 1968. */
export function writeCoilsRequest(unit: number, address: number, values: boolean[]): RtuRequest {
  checkCount(values.length, 1968, 'coils');
  if (values.length === 1) return request(unit, 5, address, 1, [values[0] ? 0xff : 0, 0]);
  const bytes = new Array<number>(Math.ceil(values.length / 8)).fill(0);
  values.forEach((v, i) => (bytes[i >> 3] |= v ? 1 << (i & 7) : 0));
  return request(unit, 15, address, values.length, [...u16(values.length), bytes.length, ...bytes]);
}

/**
 * The length of the reply frame starting `buf`, from its function byte (and byte count): null while
 * too few bytes are in to tell. An exception reply (function | 0x80) is 5 bytes.
 */
export function replyLength(buf: Uint8Array): number | null {
  if (buf.length < 2) return null;
  const fc = buf[1];
  if (fc & 0x80) return 5;
  if (fc >= 1 && fc <= 4) return buf.length >= 3 ? 5 + buf[2] : null;
  if (fc === 5 || fc === 6 || fc === 15 || fc === 16) return 8;
  return null;
}

/** Checks a whole reply frame (length from replyLength) against the request and decodes it. */
export function parseReply(req: RtuRequest, frame: Uint8Array): RtuReply {
  if (!rtuCrcOk(frame)) return { kind: 'invalid', reason: `CRC mismatch in a ${frame.length}-byte reply` };
  if (frame[0] !== req.unit) return { kind: 'invalid', reason: `reply from unit ${frame[0]}, not ${req.unit}` };
  const fc = frame[1];
  if (fc === (req.fc | 0x80)) return { kind: 'exception', code: frame[2] };
  if (fc !== req.fc) return { kind: 'invalid', reason: `reply with function ${fc}, not ${req.fc}` };
  if (fc <= 4) {
    const expected = fc <= 2 ? Math.ceil(req.count / 8) : req.count * 2;
    if (frame[2] !== expected) return { kind: 'invalid', reason: `reply byte count ${frame[2]}, expected ${expected}` };
    const data = frame.subarray(3, 3 + expected);
    if (fc <= 2) return { kind: 'data', bits: Array.from({ length: req.count }, (_, i) => (data[i >> 3] & (1 << (i & 7))) !== 0) };
    return { kind: 'data', registers: Array.from({ length: req.count }, (_, i) => (data[2 * i] << 8) | data[2 * i + 1]) };
  }
  // Writes echo address and value (FC5/6) or address and quantity (FC15/16): the request's bytes 2..5.
  for (let i = 2; i < 6; i++) {
    if (frame[i] !== req.adu[i]) return { kind: 'invalid', reason: 'reply does not echo the write (address or value differ)' };
  }
  return { kind: 'data' };
}
