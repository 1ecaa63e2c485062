// Evaluates one scenario assertion against the running gateway: state, health and history in
// process, alarms and GETs through the real HTTP API, bus messages from a recorder.
import { isDeepStrictEqual } from 'node:util';
import { topicMatches } from '../bus.ts';
import type { Clock } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { Runtime } from '../host/runtime.ts';
import { readTextLimited } from '../read-limited.ts';
import type { Assertion, Comparison } from './schema.ts';

export interface Verdict {
  ok: boolean;
  /** What the assertion wants, in words. */
  expected: string;
  /** What was there when it was last checked. */
  seen: string;
}

export interface Published {
  /** Clock milliseconds (monotonic) when it was published. */
  at: number;
  topic: string;
  payload: unknown;
}

export interface LoggedLine {
  at: number;
  level: string;
  ns: string;
  msg: string;
}

export interface ExpectContext {
  runtime: Runtime;
  clock: Clock;
  /** `http://127.0.0.1:port` of the gateway's API, if it has one. */
  api: string | null;
  apiKey?: string;
  published: readonly Published[];
  /** Messages from the scenario's MQTT broker, when it names one. */
  mqtt: readonly Published[] | null;
  logs: readonly LoggedLine[];
  /**
   * Monotonic clock ms when the previous step began: the default window of `published`, `mqtt`
   * and `log` (what a command causes can happen before its HTTP answer arrives).
   */
  windowStart: number;
}

// Bodies of GETs a scenario reads (alarms, a route): generous for JSON, bounded all the same.
const MAX_BODY = 4 * 1024 * 1024;

export async function evaluate(a: Assertion, ctx: ExpectContext): Promise<Verdict> {
  const { runtime } = ctx;
  if ('state' in a) {
    const entry = runtime.store.getEntry(a.state);
    if (a.exists !== undefined) {
      const exists = entry !== undefined && entry.value !== null;
      return { ok: exists === a.exists, expected: `state ${a.state} ${a.exists ? 'present' : 'absent or null'}`, seen: entry ? show(entry.value) : 'no such key' };
    }
    return compare(`state ${a.state}`, entry === undefined ? undefined : entry.value, a, entry === undefined ? 'no such key' : undefined);
  }
  if ('heartbeat' in a) {
    const hb = runtime.health.report().heartbeats[a.heartbeat];
    const known = Object.keys(runtime.health.report().heartbeats);
    if (!hb) return { ok: false, expected: `heartbeat ${a.heartbeat} ${a.stale ? 'stale' : 'fresh'}`, seen: `no heartbeat "${a.heartbeat}" in /health (known: ${known.join(', ') || 'none'})` };
    return { ok: hb.stale === a.stale, expected: `heartbeat ${a.heartbeat} ${a.stale ? 'stale' : 'fresh'}`, seen: `${hb.stale ? 'stale' : 'fresh'} (age ${hb.ageS === null ? 'never updated' : `${hb.ageS.toFixed(1)} s`}, limit ${hb.maxAgeS} s)` };
  }
  if ('plugin' in a) {
    const want = Array.isArray(a.status) ? a.status : [a.status];
    const statuses = runtime.supervisor.statuses();
    const p = statuses[a.plugin];
    if (!p) return { ok: false, expected: `plugin ${a.plugin} ${want.join(' or ')}`, seen: `no plugin "${a.plugin}" (plugins: ${Object.keys(statuses).join(', ')})` };
    return { ok: want.includes(p.status), expected: `plugin ${a.plugin} ${want.join(' or ')}`, seen: `${p.status}${p.lastError ? ` (last error: ${p.lastError})` : ''}, ${p.restarts} restart(s)` };
  }
  if ('health' in a) {
    const r = runtime.health.report();
    const why = [
      ...Object.values(r.heartbeats).filter((h) => h.stale).map((h) => `${h.key} stale`),
      ...Object.values(r.plugins).filter((p) => p.status !== 'running').map((p) => `${p.id} ${p.status}`),
      ...Object.entries(r.checks).filter(([, c]) => !c.ok).map(([n, c]) => `${n}: ${c.detail ?? 'failing'}`),
    ];
    return { ok: r.status === a.health, expected: `/health status ${a.health}`, seen: `${r.status}${why.length ? ` (${why.slice(0, 5).join('; ')})` : ''}` };
  }
  if ('store' in a) {
    const s = runtime.store.status();
    return { ok: (s.ok ? 'ok' : 'degraded') === a.store, expected: `store ${a.store}`, seen: `${s.ok ? 'ok' : 'degraded'} (mode ${s.mode}, ${s.pendingWrites} write(s) pending${s.lastError ? `, last error: ${s.lastError}` : ''})` };
  }
  if ('history' in a && typeof a.history === 'string' && (a.history === 'ok' || a.history === 'degraded')) {
    const s = runtime.history.status();
    return { ok: (s.ok ? 'ok' : 'degraded') === a.history, expected: `history ${a.history}`, seen: `${s.ok ? 'ok' : 'degraded'} (mode ${s.mode}, ${s.pendingWrites} pending${s.lastError ? `, last error: ${s.lastError}` : ''})` };
  }
  if ('rows' in a) {
    const now = ctx.clock.now();
    const from = now + (a.from ?? -60) * 1000;
    const to = now + (a.to ?? 0) * 1000;
    const what = `records of ${a.rows} from ${a.from ?? -60} s to ${a.to ?? 0} s`;
    const series = runtime.history.listSeries();
    // A series nothing was written to yet has no rows (and may be a typo: say which exist).
    if (!series.includes(a.rows)) return { ...compare(what, 0, withDefaultMin(a)), seen: `0 (no series "${a.rows}" yet; series: ${series.join(', ') || 'none'})` };
    const rows = await runtime.history.query(a.rows, { from, to, where: a.where });
    return compare(what, rows.length, withDefaultMin(a));
  }
  if ('sql' in a) {
    let first: unknown;
    try {
      const rows = runtime.store.query<Record<string, unknown>>(a.sql);
      first = rows.length ? Object.values(rows[0])[0] : null;
    } catch (err) {
      return { ok: false, expected: `query ${a.sql}`, seen: `the query failed: ${errorMessage(err)}` };
    }
    return compare(`${a.sql}`, first, a);
  }
  if ('alarm' in a) return alarm(a, ctx);
  if ('published' in a) return messages(a.published, a, ctx.published, ctx, 'messages');
  if ('mqtt' in a) {
    if (!ctx.mqtt) return { ok: false, expected: `MQTT messages on ${a.mqtt}`, seen: 'the scenario names no MQTT broker (add "mqtt": { "url": ... })' };
    return messages(a.mqtt, a, ctx.mqtt, ctx, 'MQTT messages');
  }
  if ('log' in a) {
    const since = a.from !== undefined ? ctx.clock.monotonic() + a.from * 1000 : ctx.windowStart;
    const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
    const minLevel = levels.indexOf(a.level ?? 'info');
    const re = new RegExp(a.log);
    const hits = ctx.logs.filter((l) => l.at >= since && levels.indexOf(l.level) >= minLevel && re.test(`${l.ns}: ${l.msg}`));
    const v = compare(`log lines matching /${a.log}/`, hits.length, withDefaultMin(a));
    return hits.length ? { ...v, seen: `${v.seen} (last: ${clip(`${hits.at(-1)!.ns}: ${hits.at(-1)!.msg}`, 300)})` } : v;
  }
  if ('get' in a) {
    const r = await request(ctx, 'GET', a.get);
    if ('error' in r) return { ok: false, expected: `GET ${a.get} → ${a.status}`, seen: r.error };
    const bodyOk = a.body === undefined || contains(r.json, a.body);
    return {
      ok: r.status === a.status && bodyOk,
      expected: `GET ${a.get} → ${a.status}${a.body === undefined ? '' : ` with a body containing ${show(a.body)}`}`,
      seen: `${r.status} ${clip(r.text, 300)}`,
    };
  }
  return { ok: false, expected: 'a known assertion', seen: show(a) };
}

function messages(filter: string, a: { from?: number; payload?: unknown } & Comparison, list: readonly Published[], ctx: ExpectContext, what: string): Verdict {
  const since = a.from !== undefined ? ctx.clock.monotonic() + a.from * 1000 : ctx.windowStart;
  const matching = list.filter((m) => m.at >= since && topicMatches(filter, m.topic) && (a.payload === undefined || contains(m.payload, a.payload)));
  const last = matching.at(-1);
  const v = compare(`${what} on ${filter}${a.payload === undefined ? '' : ` with ${show(a.payload)}`}`, matching.length, withDefaultMin(a));
  if (last) return { ...v, seen: `${v.seen} (last: ${last.topic} ${show(last.payload)})` };
  // Nothing matched: say what did arrive in the window, so a wrong topic or payload is visible.
  const other = list.filter((m) => m.at >= since).slice(-5).map((m) => `${m.topic} ${show(m.payload)}`);
  return { ...v, seen: `${v.seen}${other.length ? ` (other messages: ${other.join('; ')})` : ` (no ${what} at all in the window)`}` };
}

async function alarm(a: { alarm: string; active: boolean }, ctx: ExpectContext): Promise<Verdict> {
  const expected = `alarm ${a.alarm} ${a.active ? 'active' : 'not active'}`;
  const r = await request(ctx, 'GET', '/api/alarms');
  if ('error' in r) return { ok: false, expected, seen: r.error };
  if (r.status !== 200) return { ok: false, expected, seen: `GET /api/alarms answered ${r.status} ${clip(r.text, 200)}` };
  const body = r.json as { active?: Array<{ id: string; message: string }> };
  const pattern = new RegExp(`^${a.alarm.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const active = body.active ?? [];
  const hit = active.filter((x) => pattern.test(x.id));
  return { ok: (hit.length > 0) === a.active, expected, seen: active.length ? `active: ${active.map((x) => `${x.id} (${x.message})`).join('; ')}` : 'no active alarm' };
}

type Answer = { status: number; text: string; json: unknown } | { error: string };

/** A request to the gateway's own API with the scenario's key; shared with the command and http steps. */
export async function request(ctx: Pick<ExpectContext, 'api' | 'apiKey'>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  if (!ctx.api) return { error: 'the manifest has no HTTP API (no plugin registered an address)' };
  const h: Record<string, string> = { ...headers };
  if (ctx.apiKey) h['x-api-key'] ??= ctx.apiKey;
  if (body !== undefined) h['content-type'] ??= 'application/json';
  try {
    const res = await fetch(`${ctx.api}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    const text = await readTextLimited(res, MAX_BODY);
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: compared as text only
    }
    return { status: res.status, text, json };
  } catch (err) {
    return { error: `${method} ${path} failed: ${errorMessage(err)}` };
  }
}

function withDefaultMin<T extends Comparison>(c: T): T {
  return ['equals', 'approx', 'min', 'max'].some((k) => k in c) ? c : { ...c, min: 1 };
}

/** Applies equals / approx / min / max to a value. */
export function compare(what: string, value: unknown, c: Comparison, missing?: string): Verdict {
  const wants: string[] = [];
  let ok = true;
  if ('equals' in c) {
    wants.push(`= ${show(c.equals)}`);
    ok &&= isDeepStrictEqual(value, c.equals);
  }
  const n = typeof value === 'number' ? value : NaN;
  if (c.approx !== undefined) {
    const tol = c.tolerance ?? Math.max(Math.abs(c.approx) * 0.01, 1e-9);
    wants.push(`≈ ${c.approx} ± ${tol}`);
    ok &&= Math.abs(n - c.approx) <= tol;
  }
  if (c.min !== undefined) {
    wants.push(`>= ${c.min}`);
    ok &&= n >= c.min;
  }
  if (c.max !== undefined) {
    wants.push(`<= ${c.max}`);
    ok &&= n <= c.max;
  }
  return { ok: ok && missing === undefined, expected: `${what} ${wants.join(' and ')}`, seen: missing ?? show(value) };
}

/** Whether `value` contains `part`: equal scalars, arrays element by element, objects key by key. */
export function contains(value: unknown, part: unknown): boolean {
  if (part === null || typeof part !== 'object') return isDeepStrictEqual(value, part);
  if (Array.isArray(part)) return Array.isArray(value) && part.every((p, i) => contains(value[i], p));
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(part).every(([k, v]) => contains((value as Record<string, unknown>)[k], v));
}

export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  return clip(JSON.stringify(v) ?? String(v), 300);
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
