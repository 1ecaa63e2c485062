// The history store on a real temp directory, driven by a fake clock: segments, queries, retention,
// reopening, torn lines, crash durability and disk failures.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { type HistoryDisk, nodeDisk } from '../../core/history/disk.ts';
import { FaultyDisk } from '../../core/history/disk-fault.ts';
import { type HistoryOptions, openHistory, type SegmentHistory } from '../../core/history/open.ts';
import type { HistoryRecord } from '../../core/history/types.ts';
import { memoryLog } from '../../core/log.ts';

const HOUR = 3_600_000;
const MIN = 60_000;
/** 2026-01-01T00:00:00Z: the FakeClock's default start, and a window boundary. */
const T0 = Date.UTC(2026, 0, 1);

interface Rig {
  dir: string;
  clock: FakeClock;
  lines: Record<string, unknown>[];
  open(options?: Partial<HistoryOptions>): Promise<SegmentHistory>;
  /** Segment files (`.seg`) of a series; sidecars (`.sum`) are listed by `sidecars`. */
  files(series: string): Promise<string[]>;
  sidecars(series: string): Promise<string[]>;
  path(series: string, windowStart: number): string;
}

/** A temp data dir and a fake clock; every store opened on it is closed and the dir removed after the test. */
async function rig(t: TestContext): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-history-'));
  const clock = new FakeClock(T0);
  const { root, lines } = memoryLog('debug');
  const opened: SegmentHistory[] = [];
  t.after(async () => {
    for (const h of opened) await h.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir,
    clock,
    lines,
    async open(options = {}) {
      const h = await openHistory({ dataDir: dir, clock, log: root.logger('history'), commitDelayMs: 0, ...options });
      opened.push(h);
      return h;
    },
    async files(series) {
      return (await readdir(join(dir, 'history', series))).filter((f) => f.endsWith('.seg')).sort();
    },
    async sidecars(series) {
      return (await readdir(join(dir, 'history', series))).filter((f) => !f.endsWith('.seg')).sort();
    },
    path: (series, windowStart) => join(dir, 'history', series, `${windowStart}.seg`),
  };
}

const rec = (ts: number, data: Record<string, unknown> = {}): HistoryRecord => ({ ts, data });
const tss = (records: HistoryRecord[]) => records.map((r) => r.ts);

/** Waits for real file I/O started by a fake-clock timer to finish (polls a condition; no fixed sleeps). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000; // generous: a loaded CI machine, never reached when all is well
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Four hourly segments of three records each; the clock ends in the fourth hour (the open one). */
async function fourHours(r: Rig, h: SegmentHistory): Promise<void> {
  for (let hour = 0; hour < 4; hour++) {
    const base = T0 + hour * HOUR;
    await h.append('can_messages', [0, 1, 2].map((k) => rec(base + k * MIN, { id: hour * 10 + k, bus: k % 2 ? 'b' : 'a' })));
    if (hour < 3) await r.clock.advance(HOUR);
  }
}

test('range queries merge closed and open segments in ts order with from/to, limit, newestFirst and where', async (t) => {
  const r = await rig(t);
  const h = await r.open();
  await fourHours(r, h);
  assert.deepEqual(await r.files('can_messages'), [0, 1, 2, 3].map((i) => `${T0 + i * HOUR}.seg`));

  const all = await h.query('can_messages');
  assert.equal(all.length, 12);
  assert.deepEqual(tss(all), [...tss(all)].sort((a, b) => a - b));
  assert.deepEqual(all[4], { ts: T0 + HOUR + MIN, data: { id: 11, bus: 'b' } });

  const range = await h.query('can_messages', { from: T0 + HOUR + MIN, to: T0 + 2 * HOUR + 2 * MIN });
  assert.deepEqual(range.map((x) => x.data.id), [11, 12, 20, 21, 22], 'from and to are inclusive');
  assert.deepEqual((await h.query('can_messages', { limit: 4 })).map((x) => x.data.id), [0, 1, 2, 10]);
  assert.deepEqual((await h.query('can_messages', { newestFirst: true, limit: 4 })).map((x) => x.data.id), [32, 31, 30, 22]);
  assert.deepEqual((await h.query('can_messages', { where: { bus: 'b' } })).map((x) => x.data.id), [1, 11, 21, 31]);
  assert.deepEqual((await h.query('can_messages', { where: { bus: 'a', id: 20 }, from: T0 + HOUR })).map((x) => x.data.id), [20]);
  assert.deepEqual(await h.query('nothing_here'), []);

  const s = h.status().series.can_messages;
  assert.equal(s.segments, 4);
  assert.equal(s.openRecords, 3, 'only the open hour is held in memory');
  assert.equal(s.oldestTs, T0);
  assert.equal(s.newestTs, T0 + 3 * HOUR + 2 * MIN);
});

test('a query for one hour opens only that hour\'s file', async (t) => {
  const r = await rig(t);
  await fourHours(r, await r.open());
  // Ruin hour 0 entirely; a query that needs only hour 2 must not notice.
  await writeFile(r.path('can_messages', T0), 'garbage\nmore garbage\n');
  const disk = new FaultyDisk();
  const h = await r.open({ disk });
  disk.reads.length = 0;
  const hour2 = await h.query('can_messages', { from: T0 + 2 * HOUR, to: T0 + 3 * HOUR - 1 });
  assert.deepEqual(hour2.map((x) => x.data.id), [20, 21, 22]);
  assert.equal(h.status().corruptLinesSkipped, 0);
  assert.deepEqual(disk.reads, [r.path('can_messages', T0 + 2 * HOUR)]);

  const hour0 = await h.query('can_messages', { to: T0 + HOUR - 1 });
  assert.deepEqual(hour0, []);
  assert.equal(h.status().corruptLinesSkipped, 2);
  const warn = r.lines.find((l) => l.level === 'warn' && String(l.msg).includes('corrupt'));
  assert.match(String(warn?.msg), new RegExp(`${T0}\\.seg\\): skipped 2 torn or corrupt line\\(s\\) at byte offset\\(s\\) 0, 8`));
});

test('retention deletes whole segment files older than retentionMs, on the clock', async (t) => {
  const r = await rig(t);
  const h = await r.open({ retentionMs: 2 * HOUR });
  await fourHours(r, h);
  await r.clock.advance(HOUR); // now T0+4h: hours 0 and 1 end at or before now-2h
  await until(async () => (await r.files('can_messages')).length === 2, 'retention to delete hours 0 and 1');
  assert.deepEqual(await r.files('can_messages'), [`${T0 + 2 * HOUR}.seg`, `${T0 + 3 * HOUR}.seg`]);
  assert.deepEqual((await h.query('can_messages')).map((x) => x.data.id), [20, 21, 22, 30, 31, 32]);
  assert.equal(h.status().series.can_messages.segments, 2);
});

test('setRetention() gives one series its own retention: kept past the store\'s, or dropped sooner', async (t) => {
  const r = await rig(t);
  const h = await r.open({ retentionMs: 2 * HOUR });
  h.setRetention('audit_archive', 0);
  h.setRetention('short', HOUR);
  assert.throws(() => h.setRetention('short', -1), /retentionMs must be 0 \(keep\) or a positive number of ms, got -1/);
  for (let hour = 0; hour < 4; hour++) {
    for (const series of ['can_messages', 'audit_archive', 'short']) await h.append(series, [rec(T0 + hour * HOUR + 1000, { hour })], { durable: false });
    await h.flush();
    if (hour < 3) await r.clock.advance(HOUR);
  }
  await r.clock.advance(HOUR); // now T0+4h
  await until(async () => (await r.files('can_messages')).length === 2 && (await r.files('short')).length === 1, 'retention of can_messages and short');
  assert.deepEqual((await h.query('can_messages')).map((x) => x.data.hour), [2, 3], 'the store\'s 2 h');
  assert.deepEqual((await h.query('short')).map((x) => x.data.hour), [3], 'its own 1 h');
  assert.deepEqual((await h.query('audit_archive')).map((x) => x.data.hour), [0, 1, 2, 3], 'kept: its own retention is 0');
  assert.equal((await r.files('audit_archive')).length, 4);
});

test('prune() deletes segments ending before the given time and reports how many', async (t) => {
  const r = await rig(t);
  const h = await r.open();
  await fourHours(r, h);
  assert.equal(await h.prune('can_messages', T0 + 2 * HOUR + 1), 2, 'hour 2 ends after the cut, so it stays');
  assert.deepEqual((await r.files('can_messages')).length, 2);
  assert.equal(await h.prune('can_messages', T0 + 2 * HOUR + 1), 0);
  assert.equal(await h.prune('unknown_series', T0 + 10 * HOUR), 0);
});

test('reopening after close sees closed and open segments', async (t) => {
  const r = await rig(t);
  const first = await r.open();
  await fourHours(r, first);
  await first.append('signals', [rec(T0 + 3 * HOUR + 30 * MIN, { v: 1.5 })], { durable: false });
  await first.close();
  await first.close(); // idempotent
  await assert.rejects(first.append('signals', [rec(T0)]), /closed/);

  const again = await r.open();
  assert.deepEqual(again.listSeries(), ['can_messages', 'signals']);
  assert.equal((await again.query('can_messages')).length, 12);
  assert.deepEqual(await again.query('signals'), [rec(T0 + 3 * HOUR + 30 * MIN, { v: 1.5 })]);
  assert.equal(again.status().series.can_messages.openRecords, 3, 'the open hour is loaded into memory');
});

test('records out of order, or for an older window, go to the right file and come back sorted', async (t) => {
  const r = await rig(t);
  await r.clock.advance(2 * HOUR + 30 * MIN);
  const h = await r.open();
  await h.append('can_messages', [rec(T0 + 2 * HOUR + 20 * MIN, { n: 3 }), rec(T0 + 2 * HOUR + 5 * MIN, { n: 1 }), rec(T0 + 2 * HOUR + 10 * MIN, { n: 2 })]);
  await h.append('can_messages', [rec(T0 + 50 * MIN, { n: 0 })]); // a late frame from hour 0
  await h.append('can_messages', [rec(T0 + 2 * HOUR + 5 * MIN, { n: 1.5 })]); // same ts as n:1, arrives later
  assert.deepEqual(await r.files('can_messages'), [`${T0}.seg`, `${T0 + 2 * HOUR}.seg`]);
  const hour0 = (await readFile(r.path('can_messages', T0), 'utf8')).trim().split('\n');
  assert.equal(hour0.length, 1);
  assert.match(hour0[0], /^[0-9a-f]{8} \{"ts":1767228600000,"data":\{"n":0\}\}$/);

  const expected = [0, 1, 1.5, 2, 3];
  assert.deepEqual((await h.query('can_messages')).map((x) => x.data.n), expected);
  await h.close();
  assert.deepEqual((await (await r.open()).query('can_messages')).map((x) => x.data.n), expected);
});

test('a torn tail (and a corrupt line) are skipped, counted and logged; later appends stay readable', async (t) => {
  const r = await rig(t);
  const first = await r.open();
  await first.append('signals', [1, 2, 3].map((i) => rec(T0 + i, { i })));
  await first.close();
  const file = r.path('signals', T0);
  const good = await readFile(file, 'utf8');
  // Flip a byte inside the second line's JSON, then leave a torn half line at the end.
  const lines = good.split('\n');
  lines[1] = lines[1].replace('"i":2', '"i":7');
  await writeFile(file, lines.join('\n'));
  await appendFile(file, '0badc0de {"ts":17672256');

  const second = await r.open();
  assert.deepEqual((await second.query('signals')).map((x) => x.data.i), [1, 3]);
  assert.equal(second.status().corruptLinesSkipped, 2);
  const warn = r.lines.find((l) => l.level === 'warn');
  assert.deepEqual(warn?.file, file);
  assert.deepEqual(warn?.offsets, [good.indexOf('\n') + 1, good.length]);

  await second.append('signals', [rec(T0 + 4, { i: 4 })]);
  await second.close();
  const third = await r.open();
  assert.deepEqual((await third.query('signals')).map((x) => x.data.i), [1, 3, 4]);
  assert.equal(third.status().corruptLinesSkipped, 2, 'the torn line was closed off, not glued to the next record');
});

test('a query running while a commit appends to the same file shows each record once', async (t) => {
  const r = await rig(t);
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  // Reads wait at the gate, so the commit below lands between the query's snapshot and its read.
  const disk: HistoryDisk = { ...nodeDisk, read: async function* (path, start, end) {
    await gate;
    yield* nodeDisk.read(path, start, end);
  } };
  const h = await r.open({ disk });
  await h.append('can_messages', [rec(T0 + 1, { id: 1 })]);
  await r.clock.advance(HOUR); // hour 0 is closed now: queries read its file
  const late = h.append('can_messages', [rec(T0 + 2, { id: 2 })]);
  const reading = h.query('can_messages');
  assert.deepEqual(await late, { durable: true });
  openGate();
  assert.deepEqual((await reading).map((x) => x.data.id), [1, 2]);
  assert.deepEqual((await h.query('can_messages')).map((x) => x.data.id), [1, 2]);
});

test('an awaited durable append survives a crash (reopen without close)', async (t) => {
  const r = await rig(t);
  const h = await r.open({ commitDelayMs: 5 });
  const a = h.append('can_messages', [rec(T0 + 1, { id: 1 })]);
  const b = h.append('can_messages', [rec(T0 + 2, { id: 2 })]);
  await r.clock.advance(5); // the group commit window
  assert.deepEqual(await Promise.all([a, b]), [{ durable: true }, { durable: true }]);

  const lazy = await h.append('can_messages', [rec(T0 + 3, { id: 3 })], { durable: false });
  assert.deepEqual(lazy, { durable: false });
  const crashed = await r.open(); // h was never closed: only what reached the disk is visible
  assert.deepEqual((await crashed.query('can_messages')).map((x) => x.data.id), [1, 2]);

  await r.clock.advance(1000); // lazyFlushMs
  await until(() => h.status().pendingWrites === 0, 'the lazy flush');
  const crashedLater = await r.open();
  assert.deepEqual((await crashedLater.query('can_messages')).map((x) => x.data.id), [1, 2, 3]);
});

test('disk failure: records stay in memory, status says so, and the backlog is written when the disk returns', async (t) => {
  const r = await rig(t);
  const disk = new FaultyDisk();
  const h = await r.open({ disk, diskRetryMs: 5000 });
  assert.deepEqual(await h.append('can_messages', [rec(T0 + 1, { id: 1 })]), { durable: true });
  await r.clock.advance(2 * HOUR); // so the late record below targets a closed window

  disk.setFault('EROFS');
  assert.deepEqual(await h.append('can_messages', [rec(T0 + 2 * HOUR + 1, { id: 2 })]), { durable: false });
  assert.deepEqual(await h.append('can_messages', [rec(T0 + 2, { id: 3 })]), { durable: false }, 'no commit is even tried');
  let status = h.status();
  assert.equal(status.mode, 'memory');
  assert.equal(status.ok, false);
  assert.match(status.lastError ?? '', /EROFS: read-only file system/);
  assert.equal(status.pendingWrites, 2);
  assert.ok(r.lines.some((l) => l.level === 'error' && /EROFS.*retrying every 5000 ms/.test(String(l.msg))));
  assert.deepEqual((await h.query('can_messages')).map((x) => x.data.id), [1, 3, 2], 'queries still see everything');

  await r.clock.advance(5000);
  assert.equal(h.status().mode, 'memory', 'still failing: a retry changes nothing');
  disk.clearFault();
  await r.clock.advance(5000);
  await until(() => h.status().mode === 'disk', 'recovery');
  status = h.status();
  assert.equal(status.ok, true);
  assert.equal(status.pendingWrites, 0);
  assert.ok(r.lines.some((l) => l.level === 'info' && /writable again; wrote 2 record/.test(String(l.msg))));
  assert.deepEqual(await h.append('can_messages', [rec(T0 + 2 * HOUR + 2, { id: 4 })]), { durable: true });

  const reopened = await r.open();
  assert.deepEqual((await reopened.query('can_messages')).map((x) => x.data.id), [1, 3, 2, 4]);
  assert.equal(reopened.status().corruptLinesSkipped, 0);
});

test('a write torn by a failing disk is truncated before the retry: no duplicates, no corrupt lines', async (t) => {
  const r = await rig(t);
  const disk = new FaultyDisk();
  const h = await r.open({ disk, diskRetryMs: 1000 });
  await h.append('signals', [rec(T0 + 1, { i: 1 })]);
  disk.setFault('ENOSPC', { partialWrite: true });
  assert.deepEqual(await h.append('signals', [rec(T0 + 2, { i: 2 }), rec(T0 + 3, { i: 3 })]), { durable: false });
  assert.ok((await stat(r.path('signals', T0))).size > 0);
  disk.clearFault();
  await r.clock.advance(1000);
  await until(() => h.status().mode === 'disk', 'recovery');
  const reopened = await r.open();
  assert.deepEqual((await reopened.query('signals')).map((x) => x.data.i), [1, 2, 3]);
  assert.equal(reopened.status().corruptLinesSkipped, 0);
});

test('the in-memory backlog is bounded: the oldest records are dropped, logged and counted', async (t) => {
  const r = await rig(t);
  const disk = new FaultyDisk();
  const h = await r.open({ disk, maxBacklogRecords: 5 });
  disk.setFault('ENOSPC');
  for (let i = 1; i <= 8; i++) await h.append('can_messages', [rec(T0 + i, { i })]);
  const status = h.status();
  assert.equal(status.droppedRecords, 3);
  assert.equal(status.pendingWrites, 5);
  assert.deepEqual((await h.query('can_messages')).map((x) => x.data.i), [4, 5, 6, 7, 8]);
  assert.ok(r.lines.some((l) => l.level === 'error' && /backlog full \(5 records not on disk\); dropped 1 oldest/.test(String(l.msg))));

  disk.clearFault();
  await r.clock.advance(5000);
  await until(() => h.status().mode === 'disk', 'recovery');
  assert.equal(h.status().ok, false, 'data was lost, so the store is not ok');
});

test('a fault at start (read-only data dir) starts in memory and catches up later', async (t) => {
  const r = await rig(t);
  const disk = new FaultyDisk();
  disk.setFault('EROFS');
  const h = await r.open({ disk });
  assert.equal(h.status().mode, 'memory');
  await h.append('signals', [rec(T0, { v: 1 })]);
  disk.clearFault();
  await r.clock.advance(5000);
  await until(() => h.status().mode === 'disk', 'recovery');
  assert.deepEqual(await r.files('signals'), [`${T0}.seg`]);
});

test('series names are checked and unsafe ones refused with a clear error', async (t) => {
  const r = await rig(t);
  const h = await r.open();
  for (const bad of ['Can', '../etc', 'a/b', '', 'x'.repeat(65), 'sp ace']) {
    await assert.rejects(h.append(bad, [rec(T0)]), /invalid series name .*lowercase letters, digits/);
  }
  await assert.rejects(h.query('../x'), /invalid series name/);
  await assert.rejects(h.append('ok_name', [{ ts: Number.NaN, data: {} }]), /finite numeric ts/);
  await assert.rejects(h.append('ok_name', [{ ts: 1, data: [] as unknown as Record<string, unknown> }]), /plain object/);
  assert.deepEqual(h.listSeries(), []);
  assert.deepEqual(await readdir(join(r.dir, 'history')), []);
});

test('dataDir null keeps history in memory, with segments and retention', async (t) => {
  const clock = new FakeClock(T0);
  const h = await openHistory({ dataDir: null, clock, log: memoryLog().root.logger('history'), retentionMs: HOUR });
  t.after(() => h.close());
  assert.deepEqual(await h.append('signals', [rec(T0 + 1, { v: 1 })]), { durable: false });
  await clock.advance(HOUR);
  await h.append('signals', [rec(T0 + HOUR + 1, { v: 2 })]);
  assert.deepEqual((await h.query('signals')).map((x) => x.data.v), [1, 2]);
  const s = h.status();
  assert.deepEqual([s.mode, s.ok, s.series.signals.segments, s.series.signals.openRecords], ['memory', true, 2, 1]);
  await clock.advance(HOUR);
  await until(async () => (await h.query('signals')).length === 1, 'retention');
  assert.deepEqual((await h.query('signals')).map((x) => x.data.v), [2]);
});

test('close flushes pending appends and leaves no timers behind', async (t) => {
  const r = await rig(t);
  const h = await r.open({ commitDelayMs: 5, retentionMs: HOUR });
  await h.append('signals', [rec(T0, { v: 1 })], { durable: false });
  await h.close();
  assert.equal(r.clock.pendingTimers(), 0);
  const reopened = await openHistory({ dataDir: r.dir, clock: new FakeClock(T0), log: memoryLog().root.logger('h') });
  assert.equal((await reopened.query('signals')).length, 1);
  await reopened.close();
});
