// The Siemens S7 boundary the plugins use: named addresses in S7 syntax (`DB1,REAL0`, `DB1,X14.0`,
// `I0.0`, `Q0.0`, `MW4`, `PIW30`), read in batches. Every method returns a promise; a failure
// rejects with an error naming the PLC and the addresses.

export type S7Value = number | boolean;

export interface S7Client {
  /** The PLC, for messages: `s7 127.0.0.1:102 rack 0 slot 1`. */
  readonly description: string;
  readonly connected: boolean;
  /** Connects (idempotent); rejects with the reason when the PLC cannot be reached. */
  connect(): Promise<void>;
  /** Reads every address in as few PDUs as the protocol allows; the result is keyed by address as given. */
  read(addresses: readonly string[]): Promise<Record<string, S7Value>>;
  write(values: Record<string, S7Value>): Promise<void>;
  close(): Promise<void>;
}

export type S7Area = 'DB' | 'I' | 'Q' | 'M' | 'PI';
export type S7Type = 'X' | 'BYTE' | 'CHAR' | 'INT' | 'WORD' | 'DINT' | 'DWORD' | 'REAL';

/** A parsed address: `DB1,REAL0` → {area: 'DB', db: 1, type: 'REAL', byte: 0}. */
export interface S7Address {
  text: string;
  area: S7Area;
  db?: number;
  type: S7Type;
  byte: number;
  /** Bit 0..7 for `X` (bool) addresses. */
  bit?: number;
}
