// The Modbus client boundary the plugins use: one link (TCP or RTU), requests addressed by unit.
// Every method returns a promise; a request that fails rejects with an error naming the link,
// the request and the cause (ModbusExceptionError for exception responses).

export type RegisterTable = 'holding' | 'input';
export type BitTable = 'coil' | 'discrete';
export type ModbusTable = RegisterTable | BitTable;

export interface ModbusClient {
  /** The link, for messages: `tcp 127.0.0.1:1502` or `rtu /dev/ttyUSB0@38400`. */
  readonly description: string;
  readonly connected: boolean;
  /**
   * Connections opened so far (optional). A change tells the user of the link that it now talks to
   * a new session, perhaps a restarted device, even when the reconnect happened without an error.
   */
  readonly connections?: number;
  /** Opens the link (idempotent). Rejects with the reason when the peer cannot be reached. */
  connect(): Promise<void>;
  /** FC3 (holding) / FC4 (input): `count` 1..125 registers from `address`. */
  readRegisters(table: RegisterTable, unit: number, address: number, count: number): Promise<number[]>;
  /** FC1 (coil) / FC2 (discrete): `count` 1..2000 bits. */
  readBits(table: BitTable, unit: number, address: number, count: number): Promise<boolean[]>;
  /** FC16 (FC6 when one register). Values are 0..65535. */
  writeRegisters(unit: number, address: number, values: number[]): Promise<void>;
  /** FC15 (FC5 when one coil). */
  writeCoils(unit: number, address: number, values: boolean[]): Promise<void>;
  /** Closes the link; pending requests reject. */
  close(): Promise<void>;
}

/** Modbus exception codes and what they mean to a person. */
export const MODBUS_EXCEPTIONS: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export class ModbusExceptionError extends Error {
  override name = 'ModbusExceptionError';
  constructor(readonly link: string, readonly request: string, readonly code: number) {
    super(`modbus ${link}: ${request} refused with exception ${code} (${MODBUS_EXCEPTIONS[code] ?? 'unknown exception'})`);
  }
}

/** The link failed rather than the device refusing: no answer in time, or no connection at all. */
export class ModbusLinkError extends Error {
  override name = 'ModbusLinkError';
  constructor(
    readonly link: string,
    readonly request: string,
    readonly kind: 'timeout' | 'connection',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`modbus ${link}: ${message} ${request}`, options);
  }
}

/** `HR 0..16`, `coil 3`: a request's table and address range (inclusive) for messages. */
export function describeRange(table: ModbusTable, address: number, count: number): string {
  const name = { holding: 'HR', input: 'IR', coil: 'coil', discrete: 'DI' }[table];
  return count === 1 ? `${name} ${address}` : `${name} ${address}..${address + count - 1}`;
}
