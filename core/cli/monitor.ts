// `fieldgate monitor live|can <api-url>`: live views of a running gateway over its WebSocket feed
// (docs/http-api.md, `/ws`). The formatting is pure (tested in test/unit/monitor.test.ts); the
// network part only connects, subscribes and feeds messages in. The API key is sent as `?apiKey=`
// (the WebSocket accepts it there) and never printed.
import { errorMessage } from '../errors.ts';
import type { MonitorArgs } from './args.ts';
import { formatDisplayValue, type DisplayMap } from '../display.ts';

// ---------------------------------------------------------------------------------------------
// ANSI helpers

export interface Style {
  color: boolean;
}

const CODES = { reset: 0, bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36 } as const;
export type ColorName = keyof typeof CODES;
const PALETTE: ColorName[] = ['cyan', 'green', 'yellow', 'magenta', 'blue'];

export function paint(style: Style, color: ColorName, text: string): string {
  return style.color ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
}

/** Text width without ANSI escapes. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** A stable color per name (the same message type always gets the same color). */
export function colorFor(name: string): ColorName {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/** Left-aligned columns padded to the widest cell; a header row and a rule under it. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - visibleLength(c)))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** A value for one table cell / tail line: numbers as they are, objects as compact JSON, clipped. */
export function formatValue(v: unknown, max = 40): string {
  const s = typeof v === 'string' ? v : typeof v === 'number' ? String(Math.round(v * 1e6) / 1e6) : JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** `12:00:01.250` in UTC from epoch seconds. */
export function formatTime(epochSeconds: number): string {
  if (!Number.isFinite(epochSeconds)) return '--:--:--.---';
  return new Date(epochSeconds * 1000).toISOString().slice(11, 23);
}

/** `*` matches any run of characters; everything else literally. Undefined/empty → everything. */
export function keyMatcher(pattern: string | undefined): (key: string) => boolean {
  if (!pattern) return () => true;
  const alternatives = pattern.split(',').map((p) => new RegExp(`^${p.trim().split('*').map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  return (key) => alternatives.some((r) => r.test(key));
}

// ---------------------------------------------------------------------------------------------
// monitor live: a table of live keys

export interface LiveEntry {
  value: unknown;
  /** Epoch seconds of the last update. */
  ts: number;
}

/**
 * A WebSocket feed message (docs/http-api.md, "WebSocket protocol"): `hello`, `snapshot` (with
 * `values`), `delta`, `batch` (with `deltas`), `unsubscribed`, `pong`, `error`.
 */
export interface FeedMessage {
  type: string;
  topic?: string;
  key?: string;
  value?: unknown;
  ts?: number;
  values?: FeedMessage[];
  deltas?: FeedMessage[];
  message?: string;
  protocol?: number;
}

/** The feed protocol version this monitor understands (the hub's `hello.protocol`). */
export const FEED_PROTOCOL = 1;

/**
 * The deltas a feed message carries, in order: a `delta` itself, a `batch`'s `deltas`, a
 * `snapshot`'s `values`; none for control messages (hello, pong, unsubscribed, error).
 */
export function deltasOf(msg: FeedMessage): FeedMessage[] {
  if (msg.type === 'delta') return [msg];
  const inner = msg.type === 'batch' ? msg.deltas : msg.type === 'snapshot' ? msg.values : undefined;
  return Array.isArray(inner) ? inner.filter((d): d is FeedMessage => d !== null && typeof d === 'object' && d.type === 'delta') : [];
}

/** Applies a feed message (any type) to the live-key map; returns true when it changed it. */
export function applyLive(state: Map<string, LiveEntry>, msg: FeedMessage, match: (key: string) => boolean = () => true): boolean {
  let changed = false;
  for (const d of deltasOf(msg)) {
    if (!d.topic?.startsWith('state/')) continue;
    const key = d.key ?? d.topic.slice('state/'.length);
    if (!match(key)) continue;
    state.set(key, { value: d.value, ts: typeof d.ts === 'number' ? d.ts : Date.now() / 1000 });
    changed = true;
  }
  return changed;
}

/**
 * The live table: key, value, age; rows older than `staleAfterS` dimmed and marked. With the
 * gateway's display section (GET /api/display) a label column is added and values carry their
 * unit, decimals and enum names (`21.5 °C`, `auto`).
 */
export function formatLiveTable(state: Map<string, LiveEntry>, nowS: number, style: Style, staleAfterS = 10, display: DisplayMap = {}): string[] {
  const keys = [...state.keys()].sort();
  const labelled = keys.some((k) => display[k]?.label);
  const rows = keys.map((k) => {
    const e = state.get(k)!;
    const age = Math.max(0, nowS - e.ts);
    const stale = age > staleAfterS;
    const ageText = `${age < 10 ? age.toFixed(1) : Math.round(age)} s${stale ? ' stale' : ''}`;
    const d = display[k];
    const value = d ? formatValue(formatDisplayValue(d, e.value)) : formatValue(e.value);
    const row = [k, stale ? paint(style, 'dim', value) : value, stale ? paint(style, 'yellow', ageText) : ageText];
    return labelled ? [k, d?.label ?? '', ...row.slice(1)] : row;
  });
  return [...formatTable(labelled ? ['key', 'label', 'value', 'age'] : ['key', 'value', 'age'], rows), `${keys.length} key(s)`];
}

/** The gateway's display section, or {} when it has none (an older gateway) or cannot be read. */
export async function fetchDisplay(base: string, apiKey: string | undefined): Promise<DisplayMap> {
  try {
    const u = new URL(base);
    u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/display`;
    const r = await fetch(u, { headers: apiKey ? { 'x-api-key': apiKey } : {}, signal: AbortSignal.timeout(3000) });
    if (!r.ok) return {};
    const body = (await r.json()) as unknown;
    return body && typeof body === 'object' && !Array.isArray(body) ? (body as DisplayMap) : {};
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------------
// monitor can: a colored tail of can/signal with counts per message type

/** A `can/signal` payload: `{message, node, ts, values, invalid}` (docs/can.md). */
export interface CanSignal {
  message?: string;
  node?: string;
  ts?: number;
  values?: Record<string, unknown>;
  invalid?: string[] | Record<string, unknown> | boolean;
}

/** The can/signal payloads in a feed message (a delta, or every one in a batch), in order. */
export function canSignalsOf(msg: FeedMessage): CanSignal[] {
  if (msg.type === 'snapshot') return []; // a snapshot holds state keys, not past frames
  return deltasOf(msg)
    .filter((d) => d.topic === 'can/signal' && d.value !== null && typeof d.value === 'object')
    .map((d) => d.value as CanSignal);
}

function invalidNames(inv: CanSignal['invalid']): string[] {
  if (Array.isArray(inv)) return inv.map(String);
  if (inv && typeof inv === 'object') return Object.keys(inv);
  return inv === true ? ['*'] : [];
}

/** One tail line: time, message type (its own color), node, values; invalid values in red. */
export function formatCanLine(sig: CanSignal, style: Style): string {
  const type = sig.message ?? '?';
  const bad = new Set(invalidNames(sig.invalid));
  const values = Object.entries(sig.values ?? {}).map(([k, v]) => {
    const text = `${k}=${formatValue(v, 24)}`;
    return bad.has(k) || bad.has('*') ? paint(style, 'red', `${text}!`) : text;
  });
  const ts = typeof sig.ts === 'number' ? (sig.ts > 1e11 ? sig.ts / 1000 : sig.ts) : Date.now() / 1000;
  return `${paint(style, 'dim', formatTime(ts))} ${paint(style, colorFor(type), type.padEnd(22))} ${(sig.node ?? '').padEnd(12)} ${values.join(' ')}`.trimEnd();
}

/** `counts: 3 type(s), 120 frame(s): FlowerBack_Psychro=60 FlowerBack_SCD30=60` sorted by name. */
export function formatCounts(counts: Map<string, number>, style: Style): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const parts = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => `${paint(style, colorFor(k), k)}=${n}`);
  return `${paint(style, 'bold', 'counts:')} ${counts.size} type(s), ${total} frame(s)${parts.length ? `: ${parts.join(' ')}` : ''}`;
}

/** The /ws address for an API base URL, with topics and the key as query parameters. */
export function feedUrl(base: string, topics: string[], apiKey?: string): string {
  const u = new URL(base);
  u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws`;
  u.search = '';
  u.searchParams.set('topics', topics.join(','));
  if (apiKey) u.searchParams.set('apiKey', apiKey);
  return u.toString();
}

// ---------------------------------------------------------------------------------------------
// The network part

interface MinimalSocket {
  addEventListener(type: string, fn: (ev: { data?: unknown; code?: number; reason?: string; message?: string }) => void): void;
  close(): void;
}

async function openSocket(url: string): Promise<MinimalSocket> {
  const G = (globalThis as { WebSocket?: new (url: string) => MinimalSocket }).WebSocket;
  if (G) return new G(url);
  const { default: WS } = await import('ws');
  return new WS(url) as unknown as MinimalSocket;
}

export async function monitorCommand(args: MonitorArgs, io: { out: (line: string) => void; env: Record<string, string | undefined> }): Promise<number> {
  const apiKey = args.apiKey ?? io.env.FIELDGATE_API_KEY;
  const isTty = Boolean(process.stdout.isTTY);
  const style: Style = { color: isTty && !io.env.NO_COLOR };
  const topics = args.action === 'live' ? ['state/#'] : ['can/#'];
  const url = feedUrl(args.url, topics, apiKey);
  const shown = feedUrl(args.url, topics); // without the key
  // Before the socket: its 'open' event must not fire while this awaits.
  const display = args.action === 'live' ? await fetchDisplay(args.url, apiKey) : {};
  const socket = await openSocket(url);
  const live = new Map<string, LiveEntry>();
  const counts = new Map<string, number>();
  const match = keyMatcher(args.keys);
  let dirty = true;

  const render = () => {
    if (args.action === 'live') {
      if (!dirty && !isTty) return;
      dirty = false;
      const lines = formatLiveTable(live, Date.now() / 1000, style, 10, display);
      if (isTty) io.out(`\x1b[H\x1b[2J${paint(style, 'bold', `fieldgate monitor live ${new URL(args.url).host}`)}\n${lines.join('\n')}`);
      else io.out(lines.join('\n') + '\n');
    } else if (counts.size) {
      io.out(formatCounts(counts, style));
    }
  };

  return await new Promise<number>((resolveExit) => {
    let opened = false;
    const timer = setInterval(render, args.intervalMs);
    const finish = (code: number) => {
      clearInterval(timer);
      resolveExit(code);
    };
    const stop = () => {
      render();
      socket.close();
      finish(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    socket.addEventListener('open', () => {
      opened = true;
      process.stderr.write(`monitor: connected to ${shown.replace(/\?.*$/, '')} (topics ${topics.join(', ')}); Ctrl-C to stop\n`);
    });
    socket.addEventListener('message', (ev) => {
      let msg: FeedMessage;
      try {
        msg = JSON.parse(String(ev.data)) as FeedMessage;
      } catch {
        return;
      }
      if (msg.type === 'error') process.stderr.write(`monitor: server says: ${msg.message ?? JSON.stringify(msg)}\n`);
      if (msg.type === 'hello' && msg.protocol !== FEED_PROTOCOL) {
        process.stderr.write(`monitor: the gateway speaks feed protocol ${String(msg.protocol)}, this monitor ${FEED_PROTOCOL}; values may be missing (update fieldgate on one side)\n`);
      }
      if (args.action === 'live') {
        if (applyLive(live, msg, match)) dirty = true;
        return;
      }
      for (const sig of canSignalsOf(msg)) {
        const type = sig.message ?? '?';
        counts.set(type, (counts.get(type) ?? 0) + 1);
        io.out(formatCanLine(sig, style));
      }
    });
    socket.addEventListener('error', (ev) => {
      if (!opened) process.stderr.write(`monitor: cannot connect to ${shown.replace(/\?.*$/, '')}: ${ev.message ?? 'connection failed'}${apiKey ? '' : ' (does the API need --api-key?)'}\n`);
    });
    socket.addEventListener('close', (ev) => {
      process.stderr.write(`monitor: connection closed${ev.code ? ` (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})` : ''}\n`);
      finish(opened ? 0 : 1);
    });
  }).catch((e: unknown) => {
    process.stderr.write(`monitor: ${errorMessage(e)}\n`);
    return 1;
  });
}
