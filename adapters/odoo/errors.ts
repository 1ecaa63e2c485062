// Odoo failures as one typed error, and the mapping from what came over the wire to it.

export { networkCode } from '../http/network-code.ts';

/**
 * - `auth`: wrong login/password or unknown database (AccessDenied): fix the credentials.
 * - `session`: the session expired again right after re-authenticating.
 * - `not-found`: route or model missing (404), e.g. the grt_scada module is not installed.
 * - `server`: Odoo raised (code 200 "Odoo Server Error"), `odooName` holds `data.name`.
 * - `protocol`: not a JSON-RPC answer (HTTP 500, malformed JSON, another body).
 * - `timeout`, `connection`: no answer in time, or no connection at all.
 * - `app`: the custom endpoint answered `{"status":"error","message"}` inside `result`.
 */
export type OdooErrorKind = 'auth' | 'session' | 'not-found' | 'server' | 'protocol' | 'timeout' | 'connection' | 'app';

export interface OdooErrorDetails {
  /** JSON-RPC error code (100, 200, 404) when there was one. */
  code?: number;
  /** `data.name` of an Odoo error, e.g. `odoo.exceptions.AccessDenied`. */
  odooName?: string;
  /** HTTP status when it was not 200. */
  httpStatus?: number;
  /** The path called, e.g. `/api/scada/mo-list-detailed`. */
  path?: string;
  cause?: unknown;
}

export class OdooError extends Error {
  override name = 'OdooError';
  readonly code?: number;
  readonly odooName?: string;
  readonly httpStatus?: number;
  readonly path?: string;

  constructor(readonly kind: OdooErrorKind, message: string, details: OdooErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.odooName = details.odooName;
    this.httpStatus = details.httpStatus;
    this.path = details.path;
  }

  /** Worth retrying later with backoff (the server or the network may come back). */
  get transient(): boolean {
    return this.kind === 'timeout' || this.kind === 'connection' || this.kind === 'protocol' || this.kind === 'server';
  }
}

/** The `error` member of a JSON-RPC response as Odoo 14 sends it. */
export interface JsonRpcErrorBody {
  code?: unknown;
  message?: unknown;
  data?: { name?: unknown; message?: unknown; arguments?: unknown } | null;
}

export interface RpcErrorContext {
  /** `http://odoo:8069`. */
  server: string;
  db: string;
  path: string;
  httpStatus?: number;
}

const SESSION_MESSAGES = /session (expired|invalid)/i;

/** Whether a JSON-RPC error is Odoo's "Session Expired"/"Session Invalid" (code 100). */
export function isSessionError(error: JsonRpcErrorBody): boolean {
  const name = typeof error.data?.name === 'string' ? error.data.name : '';
  return error.code === 100 || SESSION_MESSAGES.test(String(error.message ?? '')) || /SessionExpiredException/.test(name);
}

/** Maps a JSON-RPC `error` to an `OdooError` with a message that says what to do. Never includes request params. */
export function mapRpcError(error: JsonRpcErrorBody, ctx: RpcErrorContext): OdooError {
  const code = typeof error.code === 'number' ? error.code : undefined;
  const odooName = typeof error.data?.name === 'string' ? error.data.name : undefined;
  const detail = clip(typeof error.data?.message === 'string' && error.data.message ? error.data.message : String(error.message ?? 'no message'));
  const where = `odoo ${ctx.server}: ${ctx.path}`;
  const details = { code, odooName, httpStatus: ctx.httpStatus, path: ctx.path };
  if (isSessionError(error)) {
    return new OdooError('session', `${where}: session expired (${String(error.message ?? 'code 100')})`, details);
  }
  if (code === 404 || odooName === 'werkzeug.exceptions.NotFound') {
    return new OdooError('not-found', `${where}: not found on the server (is the module that provides it installed?)`, details);
  }
  if (odooName === 'odoo.exceptions.AccessDenied') {
    return new OdooError('auth', `${where}: wrong login or password for database "${ctx.db}"; check ODOO_USERNAME and ODOO_PASSWORD`, details);
  }
  if (ctx.path === '/web/session/authenticate' && /database .*not found|database not found/i.test(detail)) {
    return new OdooError('auth', `${where}: database "${ctx.db}" not found on the server; check ODOO_DB`, details);
  }
  if (odooName === 'odoo.exceptions.AccessError' && ctx.path === '/web/session/authenticate') {
    return new OdooError('auth', `${where}: access refused for database "${ctx.db}": ${detail}`, details);
  }
  const name = odooName ? ` ${odooName}` : '';
  return new OdooError('server', `${where}: Odoo raised${name}: ${detail}`, details);
}


export function clip(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
