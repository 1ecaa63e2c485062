// The memory of a simulated S7 CPU: data blocks of fixed size and the I, Q and M areas, addressed by
// area code as on the wire, or by S7 address text (`DB1,REAL0`, `I0.3`) for plant models and tests.
import { decodeS7Value, encodeS7Value, parseS7Address, s7ByteLength } from '../adapters/s7/address.ts';
import type { S7Address, S7Value } from '../adapters/s7/types.ts';

/** Area codes of the S7 protocol. */
export const S7AreaCode = { P: 0x80, I: 0x81, Q: 0x82, M: 0x83, DB: 0x84 } as const;

/** Why an access was refused, as the S7 item return code says it. */
export const S7ReturnCode = { OK: 0xff, HARDWARE: 0x01, ACCESS: 0x03, INVALID_ADDRESS: 0x05, DATA_TYPE: 0x06, NO_OBJECT: 0x0a } as const;

export interface S7MemoryOptions {
  /** Data blocks by number with their size in bytes. Default {1: 256}. */
  dbs?: Record<number, number>;
  /** Size of each of the I, Q and M areas in bytes. Default 256. */
  areaBytes?: number;
}

export class S7Memory {
  readonly #dbs = new Map<number, Uint8Array>();
  readonly #areas = new Map<number, Uint8Array>();

  constructor(o: S7MemoryOptions = {}) {
    for (const [n, size] of Object.entries(o.dbs ?? { 1: 256 })) this.#dbs.set(Number(n), new Uint8Array(size));
    const size = o.areaBytes ?? 256;
    for (const code of [S7AreaCode.I, S7AreaCode.Q, S7AreaCode.M]) this.#areas.set(code, new Uint8Array(size));
  }

  /** Creates DB `n` (or grows it) so it holds at least `size` bytes; contents are kept. */
  ensureDb(n: number, size: number): void {
    const old = this.#dbs.get(n);
    if (old && old.length >= size) return;
    const next = new Uint8Array(size);
    if (old) next.set(old);
    this.#dbs.set(n, next);
  }

  dbNumbers(): number[] {
    return [...this.#dbs.keys()].sort((a, b) => a - b);
  }

  /**
   * The bytes `[byte, byte+length)` of an area, or the return code refusing them. Peripheral
   * accesses (0x80) reach the input image on reads and the output image on writes.
   */
  region(area: number, db: number, byte: number, length: number, forWrite: boolean): Uint8Array | number {
    let bytes: Uint8Array | undefined;
    if (area === S7AreaCode.DB) {
      bytes = this.#dbs.get(db);
      if (!bytes) return S7ReturnCode.NO_OBJECT;
    } else if (area === S7AreaCode.P) {
      bytes = this.#areas.get(forWrite ? S7AreaCode.Q : S7AreaCode.I);
    } else {
      bytes = this.#areas.get(area);
    }
    if (!bytes) return S7ReturnCode.NO_OBJECT;
    if (byte + length > bytes.length) return S7ReturnCode.INVALID_ADDRESS;
    return bytes.subarray(byte, byte + length);
  }

  /** Reads an address in S7 syntax (throws on a bad address or one outside the memory). */
  get(address: string | S7Address): S7Value {
    const a = typeof address === 'string' ? parseS7Address(address) : address;
    return decodeS7Value(a, this.#bytes(a));
  }

  /** Writes an address in S7 syntax, as the PLC program would. */
  set(address: string | S7Address, value: S7Value): void {
    const a = typeof address === 'string' ? parseS7Address(address) : address;
    encodeS7Value(a, value, this.#bytes(a));
  }

  #bytes(a: S7Address): Uint8Array {
    const code = a.area === 'PI' ? S7AreaCode.P : S7AreaCode[a.area];
    const r = this.region(code, a.db ?? 0, a.byte, s7ByteLength(a.type), false);
    if (typeof r === 'number') {
      const where = a.area === 'DB' ? `DB${a.db} (${this.#dbs.get(a.db!)?.length ?? 'missing'} bytes)` : `area ${a.area}`;
      throw new RangeError(`s7 simulator: ${a.text} is outside ${where}; size the DB with the simulator's dbs option`);
    }
    return r;
  }
}
