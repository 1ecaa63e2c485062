// Errors of the S7 client. Each names the PLC (`s7 10.0.0.5:102 rack 0 slot 1`), the addresses and
// what to do; `S7AddressError` (a malformed address) lives in address.ts.
import { FieldgateError } from '../../core/errors.ts';

/** The link failed: the PLC is unreachable, the connection dropped, or it did not answer in time. */
export class S7LinkError extends FieldgateError {
  override name = 'S7LinkError';
  constructor(readonly plc: string, readonly kind: 'timeout' | 'connection', message: string, options?: { cause?: unknown }) {
    super(`${plc}: ${message}`, options);
  }
}

/** The PLC answered but refused some addresses (return code per address); the link is fine. */
export class S7RefusedError extends FieldgateError {
  override name = 'S7RefusedError';
  constructor(readonly plc: string, readonly refused: Record<string, string>, verb: 'reading' | 'writing') {
    const list = Object.entries(refused).map(([a, why]) => `${a} (${why})`).join(', ');
    super(`${plc}: the PLC refused ${verb} ${list}; check the DB exists, is large enough and is not optimised (S7-1200/1500: PUT/GET enabled)`);
  }
}

/** A value that cannot be written to its address (wrong type or out of range). */
export class S7ValueError extends FieldgateError {
  override name = 'S7ValueError';
}
