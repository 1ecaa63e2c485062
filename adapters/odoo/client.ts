// The real Odoo 14 JSON-RPC client on the runtime's own `fetch` (Node >= 20 and Deno alike):
// session cookie, one re-authentication on expiry, typed errors, per-request deadline.
import { ReplyTooLargeError, readTextLimited } from '../../core/read-limited.ts';
import { linkSignals } from '../../core/abort.ts';
import type { Logger } from '../../core/log.ts';
import { fetchBySearchRead } from './fallback.ts';
import { writeBackMo, type WriteBackRequest, type WriteBackResult } from './write-back.ts';
import { OdooError, clip, mapRpcError, networkCode, type JsonRpcErrorBody } from './errors.ts';
import type {
  OdooCallOptions, OdooClient, OdooDomain, OdooMoBatch, OdooMoListResult, OdooPage, OdooSearchReadOptions, OdooSessionInfo,
} from './types.ts';

export interface OdooClientOptions {
  baseUrl: string;
  db: string;
  username: string;
  password: string;
  /** Deadline of one HTTP request (connect + reply), in ms. */
  timeoutMs: number;
  /** Largest reply body read, in bytes; a bigger one is refused (kind `protocol`). Default 8 MiB. */
  maxReplyBytes?: number;
  /** Called for each reply refused for its size (the peer-limit counter). */
  onReplyLimit?: () => void;
  log?: Logger;
}

export const DEFAULT_MAX_REPLY_BYTES = 8 * 1024 * 1024;

const AUTH_PATH = '/web/session/authenticate';
const MO_LIST_PATH = '/api/scada/mo-list-detailed';

export class OdooJsonRpcClient implements OdooClient {
  readonly #base: string;
  readonly #options: OdooClientOptions;
  readonly #closing = new AbortController();
  #cookie: string | null = null;
  /** Bumped on every successful login, so concurrent calls that saw one expiry re-authenticate once. */
  #generation = 0;
  #login: Promise<OdooSessionInfo> | null = null;
  #nextId = 1;
  #customMissing = false;

  constructor(options: OdooClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error(`odoo adapter: baseUrl "${options.baseUrl}" is not a URL (expected e.g. http://odoo.local:8069)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`odoo adapter: baseUrl "${options.baseUrl}" must start with http:// or https://`);
    url.username = '';
    url.password = '';
    this.#base = url.href.replace(/\/+$/, '');
    this.#options = options;
  }

  get description(): string {
    return `${this.#base} db=${this.#options.db} user=${this.#options.username}`;
  }

  authenticate(options: OdooCallOptions = {}): Promise<OdooSessionInfo> {
    return this.#authenticate(options.signal);
  }

  async moListDetailed(page: OdooPage = {}): Promise<OdooMoListResult> {
    const result = await this.#call<unknown>(MO_LIST_PATH, { limit: page.limit ?? 10, offset: page.offset ?? 0 }, page.signal);
    const r = result as { status?: unknown; message?: unknown; data?: unknown; count?: unknown } | null;
    if (r && typeof r === 'object' && r.status === 'error') {
      throw new OdooError('app', `odoo ${this.#base}: ${MO_LIST_PATH} reported an error: ${clip(this.#scrub(String(r.message ?? 'no message')))}`, { path: MO_LIST_PATH });
    }
    if (!r || typeof r !== 'object' || r.status !== 'success' || !Array.isArray(r.data)) {
      throw new OdooError('protocol', `odoo ${this.#base}: ${MO_LIST_PATH} answered an unexpected result: ${clip(this.#scrub(JSON.stringify(result) ?? 'undefined'), 100)}`, { path: MO_LIST_PATH });
    }
    return { status: 'success', count: typeof r.count === 'number' ? r.count : r.data.length, data: r.data } as OdooMoListResult;
  }

  searchRead<T = Record<string, unknown>>(model: string, domain: OdooDomain, options: OdooSearchReadOptions = {}): Promise<T[]> {
    const kwargs: Record<string, unknown> = {};
    for (const key of ['fields', 'order', 'limit', 'offset'] as const) if (options[key] !== undefined) kwargs[key] = options[key];
    const path = `/web/dataset/call_kw/${model}/search_read`;
    return this.#call<T[]>(path, { model, method: 'search_read', args: [domain], kwargs }, options.signal);
  }

  callRoute<T = unknown>(path: string, params: Record<string, unknown>, options: OdooCallOptions = {}): Promise<T> {
    return this.#call<T>(path, params, options.signal);
  }

  callKw<T = unknown>(model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}, options: OdooCallOptions = {}): Promise<T> {
    return this.#call<T>(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs }, options.signal);
  }

  writeBack(request: WriteBackRequest, options: OdooCallOptions = {}): Promise<WriteBackResult> {
    return writeBackMo(this, request, { ...options, log: this.#options.log });
  }

  async fetchManufacturingOrders(page: OdooPage = {}): Promise<OdooMoBatch> {
    try {
      const result = await this.moListDetailed(page);
      if (this.#customMissing) this.#options.log?.info(`odoo ${this.#base}: ${MO_LIST_PATH} is back; using the custom endpoint again`);
      this.#customMissing = false;
      return { source: 'custom-endpoint', mos: result.data };
    } catch (err) {
      if (!(err instanceof OdooError) || err.kind !== 'not-found') throw err;
      if (!this.#customMissing) this.#options.log?.warn(`odoo ${this.#base}: ${MO_LIST_PATH} not found (grt_scada module not installed?); reading mrp.production with search_read, without equipment data`);
      this.#customMissing = true;
    }
    const mos = await fetchBySearchRead((model, domain, options) => this.searchRead(model, domain, options), {
      limit: page.limit ?? 10,
      offset: page.offset ?? 0,
      signal: page.signal,
    });
    return { source: 'search-read', mos };
  }

  close(): Promise<void> {
    this.#closing.abort(new Error('odoo client closed'));
    this.#cookie = null;
    return Promise.resolve();
  }

  /** Logs in once for all concurrent callers. */
  #authenticate(signal?: AbortSignal): Promise<OdooSessionInfo> {
    this.#login ??= this.#doAuthenticate(signal).finally(() => {
      this.#login = null;
    });
    return this.#login;
  }

  async #doAuthenticate(signal?: AbortSignal): Promise<OdooSessionInfo> {
    const { db, username, password } = this.#options;
    this.#cookie = null;
    const { result, cookie } = await this.#rpc<OdooSessionInfo | null>(AUTH_PATH, { db, login: username, password }, signal);
    if (!result || typeof result !== 'object' || typeof result.uid !== 'number') {
      throw new OdooError('auth', `odoo ${this.#base}: ${AUTH_PATH}: wrong login or password for database "${db}" (no uid in the answer); check ODOO_USERNAME and ODOO_PASSWORD`, { path: AUTH_PATH });
    }
    if (!cookie) throw new OdooError('protocol', `odoo ${this.#base}: ${AUTH_PATH} set no session_id cookie (a proxy stripping cookies?)`, { path: AUTH_PATH });
    this.#cookie = cookie;
    this.#generation++;
    this.#options.log?.debug(() => `odoo ${this.#base}: authenticated as ${username} (uid ${result.uid}) on ${db}`);
    return result;
  }

  /** An authenticated call: logs in first if needed; on session expiry re-authenticates once and retries once. */
  async #call<T>(path: string, params: unknown, signal?: AbortSignal): Promise<T> {
    if (!this.#cookie) await this.#authenticate(signal);
    const generation = this.#generation;
    try {
      return (await this.#rpc<T>(path, params, signal)).result;
    } catch (err) {
      if (!(err instanceof OdooError) || err.kind !== 'session') throw err;
      // Another call may have logged in again already; then just retry on its session.
      if (this.#generation === generation) {
        this.#options.log?.info(`odoo ${this.#base}: session expired on ${path}; authenticating again`);
        this.#cookie = null;
        await this.#authenticate(signal);
      }
    }
    try {
      return (await this.#rpc<T>(path, params, signal)).result;
    } catch (err) {
      if (!(err instanceof OdooError) || err.kind !== 'session') throw err;
      throw new OdooError('session', `odoo ${this.#base}: ${path}: session expired again right after authenticating; not retrying (check the Odoo server's session store and clock, or a proxy dropping cookies)`, {
        code: err.code, odooName: err.odooName, path, cause: err,
      });
    }
  }

  /** One JSON-RPC exchange. Resolves with `result` and the session cookie the server set, if any. */
  async #rpc<T>(path: string, params: unknown, signal?: AbortSignal): Promise<{ result: T; cookie: string | null }> {
    if (this.#closing.signal.aborted) throw new OdooError('connection', `odoo ${this.#base}: ${path}: client closed`, { path });
    const timeoutMs = this.#options.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.#cookie && path !== AUTH_PATH) headers.cookie = `session_id=${this.#cookie}`;
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'call', params, id: this.#nextId++ });
    const started = performance.now();
    let res: Response;
    let text: string;
    const linked = linkSignals([timeout, this.#closing.signal, ...(signal ? [signal] : [])]);
    try {
      res = await fetch(this.#base + path, {
        method: 'POST',
        headers,
        body,
        signal: linked.signal,
      });
      text = await readTextLimited(res, this.#options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof ReplyTooLargeError) {
        this.#options.onReplyLimit?.();
        throw new OdooError('protocol', `odoo ${this.#base}: ${path} answered more than ${err.limit} bytes; refused (maxReplyBytes raises the limit)`, { path });
      }
      if (timeout.aborted) throw new OdooError('timeout', `odoo ${this.#base}: ${path} timed out after ${timeoutMs} ms; is the server overloaded? (timeoutMs raises the deadline)`, { path, cause: err });
      if (this.#closing.signal.aborted) throw new OdooError('connection', `odoo ${this.#base}: ${path} aborted: client closed`, { path, cause: err });
      throw new OdooError('connection', `odoo ${this.#base}: ${path} failed: cannot connect (${networkCode(err)}); check ODOO_BASE_URL and that Odoo is running`, { path, cause: err });
    } finally {
      linked.dispose();
    }
    this.#options.log?.debug(() => `odoo ${this.#base}: POST ${path} → ${res.status} in ${Math.round(performance.now() - started)} ms`);
    const cookie = sessionCookie(res.headers);
    const parsed = parseJson(text);
    const rpcError = rpcErrorOf(parsed);
    const ctx = { server: this.#base, db: this.#options.db, path, httpStatus: res.status === 200 ? undefined : res.status };
    if (res.status === 404) {
      if (rpcError) throw this.#scrubbed(mapRpcError(rpcError, ctx));
      throw new OdooError('not-found', `odoo ${this.#base}: ${path} answered HTTP 404 (is the module that provides it installed?)`, { path, httpStatus: 404 });
    }
    if (!res.ok) {
      const snippet = clip(this.#scrub(text), 120);
      throw new OdooError('protocol', `odoo ${this.#base}: ${path} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? ` (${snippet})` : ''}`, { path, httpStatus: res.status });
    }
    if (parsed === NOT_JSON) {
      throw new OdooError('protocol', `odoo ${this.#base}: ${path} answered malformed JSON: ${JSON.stringify(clip(this.#scrub(text), 80))}`, { path });
    }
    if (rpcError) throw this.#scrubbed(mapRpcError(rpcError, ctx));
    const envelope = parsed as { jsonrpc?: unknown; result?: unknown } | null;
    if (!envelope || typeof envelope !== 'object' || envelope.jsonrpc !== '2.0' || !('result' in envelope)) {
      throw new OdooError('protocol', `odoo ${this.#base}: ${path} answered JSON that is not a JSON-RPC 2.0 response: ${clip(this.#scrub(text), 80)}`, { path });
    }
    if (cookie && path !== AUTH_PATH) this.#cookie = cookie;
    return { result: envelope.result as T, cookie };
  }

  /** Defence in depth: a server echoing the password must not put it in our messages. */
  #scrub(text: string): string {
    const secrets = [this.#options.password, this.#cookie].filter((s): s is string => typeof s === 'string' && s.length >= 3);
    return secrets.reduce((t, s) => t.split(s).join('***'), text);
  }

  #scrubbed(err: OdooError): OdooError {
    const clean = this.#scrub(err.message);
    if (clean === err.message) return err;
    return new OdooError(err.kind, clean, { code: err.code, odooName: err.odooName, httpStatus: err.httpStatus, path: err.path });
  }
}

const NOT_JSON = Symbol('not json');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function rpcErrorOf(parsed: unknown): JsonRpcErrorBody | null {
  if (!parsed || typeof parsed !== 'object') return null;
  const error = (parsed as { error?: unknown }).error;
  return error && typeof error === 'object' ? error as JsonRpcErrorBody : null;
}

/** The `session_id` value from the response's Set-Cookie headers, if the server set one. */
export function sessionCookie(headers: Headers): string | null {
  const all = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [headers.get('set-cookie') ?? ''];
  for (const line of all) {
    const match = /(?:^|[,;]\s*)session_id=([^;,\s]*)/.exec(line);
    if (match && match[1]) return match[1];
  }
  return null;
}
