// Odoo 14 simulator: a real JSON-RPC server on loopback with /web/session/authenticate, session
// cookies that expire, call_kw search_read, the grt_scada custom MO endpoint, and injectable faults.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackHttpServer } from './loopback-http.ts';
import { randomBytes } from 'node:crypto';
import { OPEN_MO_STATES, type OdooMoRaw } from '../adapters/odoo/types.ts';
import { defaultMos, moveRows, productionRow, type SimMo } from './odoo-data.ts';
import { markDone, ormCall, updateWithConsumptions, type OdooSimWrite } from './odoo-writes.ts';

export type { OdooSimWrite } from './odoo-writes.ts';
const WRITE_ROUTES = ['/api/scada/mo/update-with-consumptions', '/api/scada/mo/mark-done'];

export interface OdooSimulatorOptions {
  /** 0 picks a free port; the same port is reused when the server comes back up. */
  port?: number;
  db?: string;
  username?: string;
  password?: string;
  /** Idle lifetime of a session in ms; 0 = never expires on its own. */
  sessionTtlMs?: number;
  /** Whether the grt_scada module is installed (else its route answers 404). */
  customModule?: boolean;
  /** Open MOs to start with (see `defaultMos`). */
  moCount?: number;
  /** Milliseconds since the epoch (the runtime clock, so fake time expires sessions). */
  now?: () => number;
}

export interface OdooSimFaults {
  /** Every reply waits this long first. */
  delayMs: number;
  /** Every request answers HTTP 500 with an HTML page. */
  error500: boolean;
  /** Every reply is cut-off JSON. */
  malformed: boolean;
  /** Every reply is JSON but not JSON-RPC (a proxy's error page, say). */
  notJsonRpc: boolean;
  /** The custom endpoint answers `{"status":"error","message": appError}` inside `result`. */
  appError: string | null;
  /** The next N authenticated requests answer "Odoo Session Expired" whatever the cookie. */
  expireNext: number;
  /** The next N requests are applied but their reply is lost (the connection drops): the worst case for a retry. */
  loseReplyNext: number;
  /** Faults above apply only to paths starting with this (null = every path). */
  only: string | null;
}

export interface OdooSimRequest {
  path: string;
  /** Params as received, the password replaced by `***`. */
  params: unknown;
  /** The session_id cookie the request carried, if any. */
  session: string | null;
  /** What the simulator answered: `ok`, `error <code>`, `http <status>`. */
  outcome: string;
}

interface Session {
  uid: number;
  lastSeen: number;
}

type Reply = { status: number; body: unknown; cookie?: string };

const NOT_FOUND_DATA = { name: 'werkzeug.exceptions.NotFound', debug: '', message: '404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.', arguments: [], context: {} };

export class OdooSimulator {
  readonly db: string;
  readonly username: string;
  readonly password: string;
  readonly requests: OdooSimRequest[] = [];
  /** Every write-back write applied (consumption, mark done, ORM writes), in order. */
  readonly writes: OdooSimWrite[] = [];
  /** Whether grt_scada's write routes (update-with-consumptions, mark-done) exist; an older module lacks them. */
  customWrites = true;
  readonly faults: OdooSimFaults = OdooSimulator.#noFaults();
  sessionTtlMs: number;
  customModule: boolean;
  #mos: SimMo[];
  readonly #sessions = new Map<string, Session>();
  readonly #now: () => number;
  readonly #http: LoopbackHttpServer;
  #down = false;

  constructor(options: OdooSimulatorOptions = {}) {
    this.db = options.db ?? 'fieldgate';
    this.username = options.username ?? 'admin';
    this.password = options.password ?? 'admin';
    this.sessionTtlMs = options.sessionTtlMs ?? 0;
    this.customModule = options.customModule ?? true;
    this.#mos = defaultMos(options.moCount ?? 5);
    this.#now = options.now ?? Date.now;
    this.#http = new LoopbackHttpServer({
      port: options.port,
      maxBody: 1_000_000,
      delayMs: (req) => (this.#faulty(pathOf(req)) ? this.faults.delayMs : 0),
      respond: (req, res, raw) => {
        const path = pathOf(req);
        this.#respond(req, res, path, raw, this.#faulty(path));
      },
    });
  }

  static #noFaults(): OdooSimFaults {
    return { delayMs: 0, error500: false, malformed: false, notJsonRpc: false, appError: null, expireNext: 0, loseReplyNext: 0, only: null };
  }

  /** Starts listening on 127.0.0.1; resolves with the base URL. */
  start(): Promise<string> {
    return this.#http.start();
  }

  get url(): string {
    return this.#http.url;
  }

  get port(): number {
    return this.#http.port;
  }

  get down(): boolean {
    return this.#down;
  }

  /** Down: the port stops listening (connections refused) until `setDown(false)`, on the same port. */
  async setDown(down: boolean): Promise<void> {
    if (down === this.#down) return;
    this.#down = down;
    if (down) await this.#http.stop();
    else await this.start();
  }

  /** Every session ends now (an Odoo restart, a cleared session store): next calls get code 100. */
  expireSessions(): void {
    this.#sessions.clear();
  }

  /** Ids of the live sessions. */
  get sessions(): string[] {
    return [...this.#sessions.keys()];
  }

  /** All MOs the simulated Odoo holds (any state), in id order. */
  get mos(): OdooMoRaw[] {
    return this.#mos.map((m) => m.mo);
  }

  /** Adds an MO (or replaces the one with the same `mo_id`); returns its ORM id. */
  upsertMo(mo: OdooMoRaw): number {
    const existing = this.#mos.find((m) => m.mo.mo_id === mo.mo_id);
    if (existing) {
      existing.mo = mo;
      return existing.id;
    }
    const id = Math.max(0, ...this.#mos.map((m) => m.id)) + 1;
    this.#mos.push({ id, mo });
    return id;
  }

  /** Replaces every MO (ids are assigned in order from 1). */
  replaceMos(mos: OdooMoRaw[]): void {
    this.#mos = mos.map((mo, i) => ({ id: i + 1, mo }));
  }

  /** Moves an MO to another state (`done` takes it out of the open list). Throws naming known MOs. */
  setMoState(moId: string, state: string): void {
    const found = this.#mos.find((m) => m.mo.mo_id === moId);
    if (!found) throw new Error(`odoo simulator: no MO "${moId}" (known: ${this.#mos.map((m) => m.mo.mo_id).join(', ') || 'none'}); add it with upsertMo() first`);
    found.mo = { ...found.mo, state };
  }

  /** Clears faults, brings the server up, keeps MOs and sessions. */
  async reset(): Promise<void> {
    Object.assign(this.faults, OdooSimulator.#noFaults());
    await this.setDown(false);
  }

  async close(): Promise<void> {
    await this.#http.stop();
  }

  /** Whether injected faults apply to `path` (`faults.only` limits them to a path prefix). */
  #faulty(path: string): boolean {
    return this.faults.only === null || path.startsWith(this.faults.only);
  }

  #respond(req: IncomingMessage, res: ServerResponse, path: string, raw: string, faulty: boolean): void {
    if (res.destroyed) return;
    const session = readCookie(req.headers.cookie, 'session_id');
    let request: { id?: unknown; params?: unknown } = {};
    try {
      request = JSON.parse(raw) as typeof request;
    } catch { /* answered below */ }
    const entry: OdooSimRequest = { path, params: redact(request.params), session, outcome: 'ok' };
    this.requests.push(entry);
    const send = (status: number, text: string, type = 'application/json', cookie?: string) => {
      const headers: Record<string, string> = { 'content-type': type, connection: 'close' };
      if (cookie) headers['set-cookie'] = `session_id=${cookie}; Expires=${new Date(this.#now() + 90 * 86_400_000).toUTCString()}; Max-Age=7776000; HttpOnly; Path=/`;
      res.writeHead(status, headers);
      res.end(text);
    };
    if (faulty && this.faults.error500) {
      entry.outcome = 'http 500';
      return send(500, '<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>', 'text/html');
    }
    if (req.method !== 'POST') {
      entry.outcome = 'http 405';
      return send(405, '<h1>Method Not Allowed</h1>', 'text/html');
    }
    const reply = this.#route(path, raw === '' ? null : request, session);
    const envelope = (reply.body as { error?: { code?: number } }).error;
    entry.outcome = reply.status !== 200 ? `http ${reply.status}` : envelope ? `error ${envelope.code}` : 'ok';
    if (faulty && this.faults.loseReplyNext > 0) {
      // Applied above; the answer never reaches the client.
      this.faults.loseReplyNext--;
      entry.outcome = `${entry.outcome}, reply lost`;
      res.destroy();
      return;
    }
    const body = { jsonrpc: '2.0', id: request.id ?? null, ...(reply.body as object) };
    if (faulty && this.faults.notJsonRpc) return send(200, JSON.stringify({ ok: false, detail: 'upstream proxy error' }));
    const text = JSON.stringify(body);
    send(reply.status, faulty && this.faults.malformed ? text.slice(0, Math.max(1, text.length - 7)) : text, 'application/json', reply.cookie);
  }

  #route(path: string, request: { params?: unknown } | null, session: string | null): Reply {
    if (!request) return serverError('werkzeug.exceptions.BadRequest', '400 Bad Request: invalid JSON-RPC request');
    const params = (request.params && typeof request.params === 'object' ? request.params : {}) as Record<string, unknown>;
    if (path === '/web/session/authenticate') return this.#authenticate(params);
    const known = path.startsWith('/web/dataset/call_kw') || (path === '/api/scada/mo-list-detailed' && this.customModule) ||
      (WRITE_ROUTES.includes(path) && this.customModule && this.customWrites);
    if (!known) return { status: 404, body: { error: { code: 404, message: '404: Not Found', data: NOT_FOUND_DATA } } };
    if (!this.#sessionOk(session)) {
      return { status: 200, body: { error: { code: 100, message: 'Odoo Session Expired', data: { name: 'odoo.http.SessionExpiredException', debug: '', message: 'Session expired', arguments: ['Session expired'], context: {} } } } };
    }
    if (path === '/api/scada/mo-list-detailed') return { status: 200, body: { result: this.#moList(params) } };
    if (path === WRITE_ROUTES[0]) return { status: 200, body: { result: updateWithConsumptions(this.#mos, params, this.writes) } };
    if (path === WRITE_ROUTES[1]) return { status: 200, body: { result: markDone(this.#mos, params, this.writes) } };
    return this.#callKw(params);
  }

  #authenticate(params: Record<string, unknown>): Reply {
    if (params.db !== this.db) return serverError('odoo.exceptions.AccessError', 'Database not found.');
    if (params.login !== this.username || params.password !== this.password) return serverError('odoo.exceptions.AccessDenied', 'Access Denied');
    const sid = randomBytes(20).toString('hex');
    this.#sessions.set(sid, { uid: 2, lastSeen: this.#now() });
    return {
      status: 200,
      cookie: sid,
      body: {
        result: {
          uid: 2, is_system: true, is_admin: true, db: this.db, username: this.username, name: 'SCADA Middleware',
          partner_display_name: 'YourCompany, SCADA Middleware', company_id: 1, partner_id: 3, server_version: '14.0',
          server_version_info: [14, 0, 0, 'final', 0, ''], user_context: { lang: 'en_US', tz: 'Asia/Jakarta', uid: 2 },
          'web.base.url': this.url,
        },
      },
    };
  }

  #sessionOk(sid: string | null): boolean {
    if (this.faults.expireNext > 0) {
      this.faults.expireNext--;
      return false;
    }
    const session = sid ? this.#sessions.get(sid) : undefined;
    if (!session || !sid) return false;
    const now = this.#now();
    if (this.sessionTtlMs > 0 && now - session.lastSeen > this.sessionTtlMs) {
      this.#sessions.delete(sid);
      return false;
    }
    session.lastSeen = now;
    return true;
  }

  #moList(params: Record<string, unknown>): unknown {
    if (this.faults.appError !== null) return { status: 'error', message: this.faults.appError };
    const limit = Number.isInteger(Number(params.limit)) ? Number(params.limit) : 10;
    const offset = Number.isInteger(Number(params.offset)) ? Number(params.offset) : 0;
    let states: string[] = [...OPEN_MO_STATES];
    if (typeof params.states === 'string' && params.states.trim()) states = params.states.split(',').map((s) => s.trim()).filter(Boolean);
    else if (Array.isArray(params.states) && params.states.length) states = params.states.map(String);
    const rows = sortMos(this.#mos.filter((m) => states.includes(m.mo.state))).slice(offset, offset + limit);
    return { status: 'success', count: rows.length, data: rows.map((m) => structuredClone(m.mo)) };
  }

  #callKw(params: Record<string, unknown>): Reply {
    const { model, method } = params;
    if (method !== 'search_read') {
      const r = ormCall(this.#mos, model, method, Array.isArray(params.args) ? params.args : [], this.writes);
      return r.ok ? { status: 200, body: { result: r.result } } : serverError(r.name, r.message);
    }
    const table = model === 'mrp.production' ? this.#mos.map(productionRow)
      : model === 'stock.move' ? this.#mos.flatMap(moveRows)
      : null;
    if (!table) return serverError('builtins.KeyError', `'${String(model)}'`);
    const args = Array.isArray(params.args) ? params.args : [];
    const kwargs = (params.kwargs && typeof params.kwargs === 'object' ? params.kwargs : {}) as Record<string, unknown>;
    const domain = args[0] ?? kwargs.domain ?? [];
    let rows: Array<Record<string, unknown>>;
    try {
      rows = table.filter((row) => matches(row, domain));
    } catch (err) {
      return serverError('builtins.ValueError', (err as Error).message);
    }
    if (typeof kwargs.order === 'string') rows = sortRows(rows, kwargs.order);
    const offset = typeof kwargs.offset === 'number' ? kwargs.offset : 0;
    rows = rows.slice(offset, typeof kwargs.limit === 'number' ? offset + kwargs.limit : undefined);
    const fields = Array.isArray(kwargs.fields) && kwargs.fields.length ? ['id', ...kwargs.fields.map(String)] : null;
    return { status: 200, body: { result: fields ? rows.map((r) => Object.fromEntries(fields.map((f) => [f, r[f] ?? false]))) : rows } };
  }
}

function serverError(name: string, message: string): Reply {
  return { status: 200, body: { error: { code: 200, message: 'Odoo Server Error', data: { name, debug: `Traceback (most recent call last):\n  ...\n${name}: ${message}\n`, message, arguments: [message], context: {} } } } };
}

/** Custom endpoint order: `date_planned_start asc, id desc` (an MO without a date sorts last, like NULLs in PostgreSQL). */
function sortMos(mos: SimMo[]): SimMo[] {
  return [...mos].sort((a, b) => {
    const da = a.mo.schedule_start || '\uffff';
    const db = b.mo.schedule_start || '\uffff';
    return da < db ? -1 : da > db ? 1 : b.id - a.id;
  });
}

function sortRows(rows: Array<Record<string, unknown>>, order: string): Array<Record<string, unknown>> {
  const keys = order.split(',').map((part) => {
    const [field, dir] = part.trim().split(/\s+/);
    return { field: field!, desc: /^desc$/i.test(dir ?? '') };
  });
  const value = (v: unknown) => (v === false || v === null || v === undefined ? '\uffff' : Array.isArray(v) ? v[1] : v) as string | number;
  return [...rows].sort((a, b) => {
    for (const { field, desc } of keys) {
      const va = value(a[field]);
      const vb = value(b[field]);
      if (va === vb) continue;
      return (va < vb ? -1 : 1) * (desc ? -1 : 1);
    }
    return 0;
  });
}

/** A domain of leaves joined by implicit AND, with `=`, `!=`, `in`, `not in`, `<`, `>` (what fieldgate sends). */
function matches(row: Record<string, unknown>, domain: unknown): boolean {
  if (!Array.isArray(domain)) throw new Error(`invalid domain ${JSON.stringify(domain)}`);
  return domain.every((leaf) => {
    if (leaf === '&') return true;
    if (!Array.isArray(leaf) || leaf.length !== 3) throw new Error(`the simulator supports only AND-ed [field, op, value] leaves, got ${JSON.stringify(leaf)}`);
    const [field, op, value] = leaf as [string, string, unknown];
    if (!(field in row)) throw new Error(`Invalid field '${field}' in leaf "${JSON.stringify(leaf)}"`);
    const raw = row[field];
    const v = Array.isArray(raw) ? raw[0] : raw;
    switch (op) {
      case '=': return v === value;
      case '!=': return v !== value;
      case 'in': return Array.isArray(value) && value.includes(v);
      case 'not in': return Array.isArray(value) && !value.includes(v);
      case '<': return (v as number) < (value as number);
      case '>': return (v as number) > (value as number);
      default: throw new Error(`the simulator does not support operator ${JSON.stringify(op)}`);
    }
  });
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=') || null;
  }
  return null;
}

function redact(params: unknown): unknown {
  if (!params || typeof params !== 'object' || !('password' in params)) return params;
  return { ...(params as Record<string, unknown>), password: '***' };
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://odoo').pathname;
}
