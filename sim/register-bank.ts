// The four Modbus tables of one simulated unit, with 32-bit helpers (big-endian words: high word
// first, as the NJ301 and most PLCs send them). Out-of-range access throws exception 2.
import { checkRange, type ModbusDataModel, type WritableTable } from '../adapters/modbus/server/pdu.ts';
import type { RegisterTableName } from '../adapters/modbus/register-space.ts';

export { ModbusServerException } from '../adapters/modbus/server/pdu.ts';

export interface RegisterBankSizes {
  holding?: number;
  input?: number;
  coil?: number;
  discrete?: number;
}

export class RegisterBank implements ModbusDataModel {
  readonly holding: Uint16Array;
  readonly input: Uint16Array;
  readonly coil: Uint8Array;
  readonly discrete: Uint8Array;

  constructor(sizes: RegisterBankSizes = {}) {
    this.holding = new Uint16Array(sizes.holding ?? 1024);
    this.input = new Uint16Array(sizes.input ?? 1024);
    this.coil = new Uint8Array(sizes.coil ?? 1024);
    this.discrete = new Uint8Array(sizes.discrete ?? 1024);
  }

  /** Every table back to 0, like a PLC whose non-retained memory was lost. */
  clear(): void {
    this.holding.fill(0);
    this.input.fill(0);
    this.coil.fill(0);
    this.discrete.fill(0);
  }

  readRegisters(table: 'holding' | 'input', address: number, count: number): number[] {
    const t = this[table];
    check(t.length, address, count);
    return Array.from(t.subarray(address, address + count));
  }

  writeRegisters(address: number, values: number[]): void {
    check(this.holding.length, address, values.length);
    this.holding.set(values.map((v) => v & 0xffff), address);
  }

  readBits(table: 'coil' | 'discrete', address: number, count: number): boolean[] {
    const t = this[table];
    check(t.length, address, count);
    return Array.from(t.subarray(address, address + count), (b) => b !== 0);
  }

  writeBits(address: number, values: boolean[]): void {
    check(this.coil.length, address, values.length);
    this.coil.set(values.map(Number), address);
  }

  /** ModbusDataModel: registers as 0..65535, bits as 0/1. */
  read(table: RegisterTableName, address: number, count: number): number[] {
    const t = this[table];
    check(t.length, address, count);
    return Array.from(t.subarray(address, address + count));
  }

  write(table: WritableTable, address: number, values: number[]): void {
    if (table === 'coil') this.writeBits(address, values.map((v) => v !== 0));
    else this.writeRegisters(address, values);
  }

  /** REAL at `address` (two registers, high word first). */
  getFloat(address: number, table: 'holding' | 'input' = 'holding'): number {
    scratch.setUint16(0, this[table][address]);
    scratch.setUint16(2, this[table][address + 1]);
    return scratch.getFloat32(0);
  }

  setFloat(address: number, value: number, table: 'holding' | 'input' = 'holding'): void {
    scratch.setFloat32(0, value);
    this[table][address] = scratch.getUint16(0);
    this[table][address + 1] = scratch.getUint16(2);
  }
}

/** One word pair's conversion buffer, shared: the PLC task converts ~10 floats per 40 ms scan. */
const scratch = new DataView(new ArrayBuffer(4));

function check(size: number, address: number, count: number): void {
  checkRange(size, address, count);
}
