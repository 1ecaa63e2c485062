// The Modbus application layer of a server, independent of the transport (TCP, RTU): decodes a
// request PDU, checks it in the order the specification gives (function → quantity → address),
// runs it against a data model and encodes the answer or the exception response.
import type { RegisterTableName } from '../register-space.ts';

/** Exception codes a server answers with. */
export const ModbusExceptionCode = {
  illegalFunction: 1,
  illegalDataAddress: 2,
  illegalDataValue: 3,
  serverDeviceFailure: 4,
  gatewayTargetFailed: 11,
} as const;

/** Thrown by a data model or the decoder to answer with a Modbus exception code. */
export class ModbusServerException extends Error {
  override name = 'ModbusServerException';
  constructor(readonly code: number, message = `exception ${code}`) {
    super(message);
  }
}

export const LIMITS = { readRegisters: 125, writeRegisters: 123, readBits: 2000, writeBits: 1968, rwWriteRegisters: 121 } as const;

export type WritableTable = 'holding' | 'coil';

/** One decoded request: what it reads, what it writes (coils as 0/1), or the diagnostics echo. */
export interface ModbusRequest {
  fc: number;
  read?: { table: RegisterTableName; address: number; count: number };
  write?: { table: WritableTable; address: number; values: number[] };
  /** FC 8 sub-function 0: the PDU to echo. */
  echo?: Uint8Array;
}

/**
 * What a request runs against. `read` returns registers (0..65535) or bits (0/1); both methods
 * throw ModbusServerException(2) for addresses outside the table, before changing anything. `write`
 * applies at once and may return a promise (persistence): the answer is sent once it settles.
 */
export interface ModbusDataModel {
  read(table: RegisterTableName, address: number, count: number): number[];
  write(table: WritableTable, address: number, values: number[]): void | Promise<unknown>;
}

const READ_TABLES: Record<number, RegisterTableName> = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' };

/** Decodes and checks a request PDU; throws ModbusServerException 1 (function) or 3 (quantity, length, value). */
export function decodeRequest(pdu: Uint8Array): ModbusRequest {
  if (pdu.length < 1) throw new ModbusServerException(3, 'empty PDU');
  const fc = pdu[0];
  const v = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const need = (n: number) => {
    if (pdu.length < n) throw new ModbusServerException(3, `function ${fc}: PDU of ${pdu.length} bytes, at least ${n} needed`);
  };
  const quantity = (count: number, max: number) => {
    if (count < 1 || count > max) throw new ModbusServerException(3, `function ${fc}: quantity ${count} outside 1..${max}`);
  };
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      need(5);
      const count = v.getUint16(3);
      quantity(count, fc <= 2 ? LIMITS.readBits : LIMITS.readRegisters);
      return { fc, read: { table: READ_TABLES[fc], address: v.getUint16(1), count } };
    }
    case 5: {
      need(5);
      const raw = v.getUint16(3);
      if (raw !== 0xff00 && raw !== 0x0000) throw new ModbusServerException(3, `function 5: coil value 0x${raw.toString(16)} is neither 0xFF00 nor 0x0000`);
      return { fc, write: { table: 'coil', address: v.getUint16(1), values: [raw === 0xff00 ? 1 : 0] } };
    }
    case 6:
      need(5);
      return { fc, write: { table: 'holding', address: v.getUint16(1), values: [v.getUint16(3)] } };
    case 8:
      need(3);
      if (v.getUint16(1) !== 0) throw new ModbusServerException(1, 'function 8: only sub-function 0 (return query data)');
      return { fc, echo: pdu.slice() };
    case 15: {
      need(6);
      const count = v.getUint16(3);
      const byteCount = pdu[5];
      quantity(count, LIMITS.writeBits);
      if (byteCount !== Math.ceil(count / 8) || pdu.length < 6 + byteCount) throw new ModbusServerException(3, `function 15: byte count ${byteCount} does not match ${count} coils`);
      return { fc, write: { table: 'coil', address: v.getUint16(1), values: unpackBits(pdu.subarray(6, 6 + byteCount), count) } };
    }
    case 16: {
      need(6);
      const count = v.getUint16(3);
      const byteCount = pdu[5];
      quantity(count, LIMITS.writeRegisters);
      if (byteCount !== count * 2 || pdu.length < 6 + byteCount) throw new ModbusServerException(3, `function 16: byte count ${byteCount} does not match ${count} registers`);
      return { fc, write: { table: 'holding', address: v.getUint16(1), values: words(v, 6, count) } };
    }
    case 23: {
      need(10);
      const count = v.getUint16(3);
      const writeCount = v.getUint16(7);
      const byteCount = pdu[9];
      quantity(count, LIMITS.readRegisters);
      quantity(writeCount, LIMITS.rwWriteRegisters);
      if (byteCount !== writeCount * 2 || pdu.length < 10 + byteCount) throw new ModbusServerException(3, `function 23: byte count ${byteCount} does not match ${writeCount} registers`);
      return {
        fc,
        read: { table: 'holding', address: v.getUint16(1), count },
        write: { table: 'holding', address: v.getUint16(5), values: words(v, 10, writeCount) },
      };
    }
    default:
      throw new ModbusServerException(1, `function ${fc} is not supported`);
  }
}

/**
 * Runs a decoded request: the answer PDU, or a promise of it when the model's write is asynchronous.
 * FC 23 checks its read range before writing and reads after the write, as the specification says.
 */
export function executeRequest(req: ModbusRequest, model: ModbusDataModel): Uint8Array | Promise<Uint8Array> {
  if (req.echo) return req.echo;
  if (req.read && req.write) model.read(req.read.table, req.read.address, req.read.count);
  const pending = req.write ? model.write(req.write.table, req.write.address, req.write.values) : undefined;
  const answer = req.read ? readResponse(req.fc, model.read(req.read.table, req.read.address, req.read.count)) : writeResponse(req);
  if (pending && typeof (pending as Promise<unknown>).then === 'function') return (pending as Promise<unknown>).then(() => answer);
  return answer;
}

/** Decode + execute; every ModbusServerException (and any other error, as 4) becomes an exception response. */
export function handlePdu(pdu: Uint8Array, model: ModbusDataModel): Uint8Array | Promise<Uint8Array> {
  const fc = pdu.length ? pdu[0] : 0;
  try {
    const answer = executeRequest(decodeRequest(pdu), model);
    if (answer instanceof Uint8Array) return answer;
    return answer.then(undefined, (err: unknown) => exceptionResponse(fc, exceptionCode(err)));
  } catch (err) {
    return exceptionResponse(fc, exceptionCode(err));
  }
}

export function exceptionCode(err: unknown): number {
  return err instanceof ModbusServerException ? err.code : ModbusExceptionCode.serverDeviceFailure;
}

export function exceptionResponse(fc: number, code: number): Uint8Array {
  return Uint8Array.of((fc | 0x80) & 0xff, code);
}

/** The exception code of an answer PDU, or null when it is a normal answer. */
export function responseException(answer: Uint8Array): number | null {
  return answer.length === 2 && (answer[0] & 0x80) !== 0 ? answer[1] : null;
}

/** Throws exception 2 unless [address, address+count) lies within a table of `size`. */
export function checkRange(size: number, address: number, count: number): void {
  if (!Number.isInteger(address) || address < 0 || count < 1 || address + count > size) {
    throw new ModbusServerException(2, `addresses ${address}..${address + count - 1} outside 0..${size - 1}`);
  }
}

function writeResponse(req: ModbusRequest): Uint8Array {
  const w = req.write!;
  const out = new Uint8Array(5);
  const v = new DataView(out.buffer);
  out[0] = req.fc;
  v.setUint16(1, w.address);
  if (req.fc === 5) v.setUint16(3, w.values[0] ? 0xff00 : 0);
  else if (req.fc === 6) v.setUint16(3, w.values[0]);
  else v.setUint16(3, w.values.length);
  return out;
}

function readResponse(fc: number, values: number[]): Uint8Array {
  if (fc === 1 || fc === 2) {
    const bytes = packBits(values);
    const out = new Uint8Array(2 + bytes.length);
    out[0] = fc;
    out[1] = bytes.length;
    out.set(bytes, 2);
    return out;
  }
  const out = new Uint8Array(2 + values.length * 2);
  out[0] = fc;
  out[1] = values.length * 2;
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint16(2 + 2 * i, x));
  return out;
}

function words(v: DataView, offset: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => v.getUint16(offset + 2 * i));
}

export function packBits(bits: ArrayLike<number | boolean>): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i]) bytes[i >> 3] |= 1 << (i & 7);
  return bytes;
}

export function unpackBits(bytes: Uint8Array, count: number): number[] {
  return Array.from({ length: count }, (_, i) => ((bytes[i >> 3] & (1 << (i & 7))) !== 0 ? 1 : 0));
}
