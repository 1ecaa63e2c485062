// The pure parts of `fieldgate monitor` and the migrate progress bar: feed messages → live table,
// can/signal → tail lines and counts, colors only when asked, the API key only in the socket URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyLive, canSignalsOf, deltasOf, feedUrl, formatCanLine, formatCounts, formatLiveTable, formatTable, keyMatcher, visibleLength, type LiveEntry } from '../../core/cli/monitor.ts';
import { formatProgress, progressReporter } from '../../core/cli/migrate.ts';
import { parseArgs, UsageError } from '../../core/cli/args.ts';

const plain = { color: false };
const color = { color: true };

test('live: snapshot and deltas fill the table, the key pattern filters, stale rows are marked', () => {
  const state = new Map<string, LiveEntry>();
  const match = keyMatcher('dry_bulb_*,co2_f');
  assert.equal(applyLive(state, { type: 'snapshot', values: [
    { type: 'delta', topic: 'state/dry_bulb_b', key: 'dry_bulb_b', value: 21.5, ts: 100 },
    { type: 'delta', topic: 'state/rh_b', key: 'rh_b', value: 60, ts: 100 },
  ] }, match), true);
  assert.equal(applyLive(state, { type: 'delta', topic: 'state/co2_f', key: 'co2_f', value: 812, ts: 95 }, match), true);
  assert.equal(applyLive(state, { type: 'delta', topic: 'can/signal', key: 'signal', value: {} }, match), false);
  assert.deepEqual([...state.keys()].sort(), ['co2_f', 'dry_bulb_b']);
  const lines = formatLiveTable(state, 106, plain, 10);
  assert.deepEqual(lines, [
    'key         value  age',
    '----------  -----  ----------',
    'co2_f       812    11 s stale',
    'dry_bulb_b  21.5   6.0 s',
    '2 key(s)',
  ]);
  const colored = formatLiveTable(state, 106, color, 10);
  assert.ok(colored[2].includes('\x1b[33m11 s stale\x1b[0m'));
  assert.equal(visibleLength(colored[2]), lines[2].length);
});

test('every feed message type: batch deltas count like single deltas, control messages carry none', () => {
  const state = new Map<string, LiveEntry>();
  const batch = { type: 'batch', deltas: [
    { type: 'delta', topic: 'state/pv', key: 'pv', value: 21.5, ts: 10 },
    { type: 'delta', topic: 'can/signal', key: 'signal', value: { message: 'A', values: { x: 1 } } },
    { type: 'delta', topic: 'state/sp', key: 'sp', value: 60, ts: 10 },
    { type: 'delta', topic: 'can/signal', key: 'signal', value: { message: 'B', values: { y: 2 } } },
  ] };
  assert.equal(applyLive(state, batch), true);
  assert.deepEqual(Object.fromEntries([...state].map(([k, v]) => [k, v.value])), { pv: 21.5, sp: 60 });
  assert.deepEqual(canSignalsOf(batch).map((s) => s.message), ['A', 'B']);
  for (const control of [{ type: 'hello', protocol: 1 }, { type: 'pong', ts: 1 }, { type: 'unsubscribed', topics: [] }, { type: 'error', message: 'x' }]) {
    assert.deepEqual(deltasOf(control), []);
    assert.equal(applyLive(state, control), false);
  }
  assert.deepEqual(deltasOf({ type: 'batch', deltas: [null, 3, { type: 'delta', topic: 'state/a' }] as never }).length, 1);
  assert.deepEqual(canSignalsOf({ type: 'snapshot', values: [batch.deltas[1]] }), []);
});

test('formatTable pads by visible width, ignoring ANSI codes', () => {
  assert.deepEqual(formatTable(['a', 'b'], [['\x1b[31mxx\x1b[0m', '1'], ['y', '22']]), ['a   b', '--  --', '\x1b[31mxx\x1b[0m  1', 'y   22']);
});

test('can: tail line with invalid values flagged, counts per message type', () => {
  const msg = { type: 'delta', topic: 'can/signal', key: 'signal', value: { message: 'FlowerBack_Psychro', node: 'FLOWER_BACK', ts: 1767225600.25, values: { DryBulb: 21.5, WetBulb: 180 }, invalid: ['WetBulb'] } };
  const [sig] = canSignalsOf(msg);
  assert.deepEqual(canSignalsOf({ type: 'delta', topic: 'state/x', value: 1 }), []);
  assert.equal(formatCanLine(sig, plain), '00:00:00.250 FlowerBack_Psychro     FLOWER_BACK  DryBulb=21.5 WetBulb=180!');
  assert.ok(formatCanLine(sig, color).includes('\x1b[31mWetBulb=180!\x1b[0m'));
  assert.equal(formatCanLine({ ...sig, ts: 1767225600250 }, plain).slice(0, 12), '00:00:00.250'); // ms accepted too
  const counts = new Map([['SCD30_V', 3], ['FlowerBack_Psychro', 5]]);
  assert.equal(formatCounts(counts, plain), 'counts: 2 type(s), 8 frame(s): FlowerBack_Psychro=5 SCD30_V=3');
  assert.equal(formatCounts(new Map(), plain), 'counts: 0 type(s), 0 frame(s)');
});

test('feedUrl: ws(s) scheme, /ws path, topics, the key only as a query parameter', () => {
  assert.equal(feedUrl('http://gw:8080', ['can/#']), 'ws://gw:8080/ws?topics=can%2F%23');
  assert.equal(feedUrl('https://gw/base/', ['state/#'], 'k1'), 'wss://gw/base/ws?topics=state%2F%23&apiKey=k1');
});

test('progress: bar text, TTY redraws in place, plain lines are throttled', () => {
  assert.equal(formatProgress({ done: 500, total: 1000, startedAt: 0 }, 2000, 10), '[#####.....]  50.0%  500/1,000 rows  250 rows/s');
  const tty: string[] = [];
  let now = 0;
  const t = progressReporter((s) => tty.push(s), true, () => now);
  now = 1000;
  t({ done: 1, total: 2, startedAt: 0 });
  t({ done: 2, total: 2, startedAt: 0 }, true);
  assert.ok(tty[0].startsWith('\r\x1b[2K['));
  assert.ok(tty[1].endsWith('\n'));
  const lines: string[] = [];
  const p = progressReporter((s) => lines.push(s), false, () => now, 2000);
  now = 2500;
  p({ done: 1, total: 3, startedAt: 0 });
  now = 3000;
  p({ done: 2, total: 3, startedAt: 0 }); // within 2 s: skipped
  p({ done: 3, total: 3, startedAt: 0 }, true);
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.startsWith('migrate: [') && !l.includes('\r')));
});

test('args: migrate and monitor', () => {
  assert.deepEqual(parseArgs(['migrate', 'sqlite-to-postgres', 'a.db', 'postgres://u@h/db', '--batch', '200']), { command: 'migrate', action: 'sqlite-to-postgres', sqliteFile: 'a.db', url: 'postgres://u@h/db', batch: 200, table: 'can_messages', sourceTable: 'can_messages' });
  assert.throws(() => parseArgs(['migrate', 'sqlite-to-postgres', 'a.db']), UsageError);
  assert.throws(() => parseArgs(['migrate', 'sqlite-to-postgres', 'a.db', 'postgres://h/db', '--table', 'Bad-Name']), UsageError);
  assert.deepEqual(parseArgs(['monitor', 'live', 'http://gw:8080', '--keys', 'co2_*', '--api-key=K']), { command: 'monitor', action: 'live', url: 'http://gw:8080', keys: 'co2_*', apiKey: 'K', intervalMs: 1000 });
  assert.equal((parseArgs(['monitor', 'can', 'http://gw']) as { intervalMs: number }).intervalMs, 5000);
  assert.throws(() => parseArgs(['monitor', 'can', 'http://gw', '--keys', 'x']), UsageError);
  assert.throws(() => parseArgs(['monitor', 'tail', 'http://gw']), UsageError);
});
