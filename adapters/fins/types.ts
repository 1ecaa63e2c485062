// The FINS client boundary the plugins use: one FINS/UDP link to one Omron CPU (CJ2M, CS1, CP1...).
// Every method returns a promise; a refused command rejects with FinsEndCodeError, a link that
// does not answer (after the retries) with FinsLinkError. Both name the link and the request.

/** Memory areas by their Omron names: DM = D words, CIO, W (work), H (holding), A (auxiliary). */
export type FinsArea = 'DM' | 'CIO' | 'W' | 'H' | 'A';

export interface FinsWordAddress {
  area: FinsArea;
  address: number;
}

/** CPU Unit Status Read (06 01), the parts a gateway acts on. */
export interface FinsCpuStatus {
  /** `run` when the program executes; `stop`; `standby` (CPU waiting, e.g. for I/O). */
  status: 'stop' | 'run' | 'standby';
  mode: 'program' | 'monitor' | 'run';
  /** Fatal / non-fatal error flag words (0 = none). */
  fatalError: number;
  nonFatalError: number;
  /** The CPU's error message (FAL/FALS text), trimmed; '' when none. */
  errorMessage: string;
}

export interface FinsClient {
  /** The link, for messages: `fins 192.168.250.1:9600 node 2`. */
  readonly description: string;
  /** Memory Area Read (01 01): `count` words (1..999) from `address`. */
  readWords(area: FinsArea, address: number, count: number): Promise<number[]>;
  /** Memory Area Write (01 02): words 0..65535 (1..996 of them) from `address`. */
  writeWords(area: FinsArea, address: number, values: readonly number[]): Promise<void>;
  /** Memory Area Read of bits (01 01, bit area code): `count` bits from `address.bit`, crossing words. */
  readBits(area: FinsArea, address: number, bit: number, count: number): Promise<boolean[]>;
  /** Memory Area Write of bits (01 02, bit area code). The A area is read-only on a CJ2M. */
  writeBits(area: FinsArea, address: number, bit: number, values: readonly boolean[]): Promise<void>;
  /** Multiple Memory Area Read (01 04): one word from each of scattered addresses, in one frame. */
  readMany(items: readonly FinsWordAddress[]): Promise<number[]>;
  /** CPU Unit Status Read (06 01). */
  status(): Promise<FinsCpuStatus>;
  /** RUN (04 01): puts the CPU in `mode` (default `monitor`, which still accepts writes). */
  run(mode?: 'monitor' | 'run'): Promise<void>;
  /** STOP (04 02): program mode. */
  stop(): Promise<void>;
  /** Closes the socket; the request in flight and the queued ones reject. */
  close(): Promise<void>;
}

/** `D7000..D7076`, `CIO100`, `W3.04`: Omron notation for messages. */
export function describeAddress(area: FinsArea, address: number, count = 1, bit?: number): string {
  const prefix = area === 'DM' ? 'D' : area === 'CIO' ? 'CIO' : area;
  if (bit !== undefined) return `${prefix}${address}.${String(bit).padStart(2, '0')}${count > 1 ? ` (${count} bits)` : ''}`;
  return count === 1 ? `${prefix}${address}` : `${prefix}${address}..${prefix}${address + count - 1}`;
}

/** The CPU answered and refused the command: the end code says why. */
export class FinsEndCodeError extends Error {
  override name = 'FinsEndCodeError';
  constructor(readonly link: string, readonly request: string, readonly endCode: number, readonly meaning: string) {
    super(`${link}: ${request} refused with end code 0x${endCode.toString(16).padStart(4, '0')} (${meaning})`);
  }
}

/** The link failed rather than the CPU refusing: no (valid) answer within the deadline, or no socket. */
export class FinsLinkError extends Error {
  override name = 'FinsLinkError';
  constructor(
    readonly link: string,
    readonly request: string,
    readonly kind: 'timeout' | 'connection' | 'malformed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${link}: ${message} ${request}`, options);
  }
}
