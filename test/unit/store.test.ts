import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bus, type StateChange } from '../../core/bus.ts';
import { FakeClock } from '../../core/clock-fake.ts';
import { StorageError } from '../../core/errors.ts';
import { openStore, type StoreOptions } from '../../core/store/open.ts';
import { FaultyDisk } from '../../core/store/disk-faulty.ts';
import { nodeDisk } from '../../core/store/disk.ts';
import { crashImage, tempDir, testLog, waitFor } from '../fixtures/store-helpers.ts';

function memStore(extra: Partial<StoreOptions> = {}) {
  const clock = new FakeClock();
  return { clock, ...testLog(), open: () => openStore({ dataDir: null, clock, log: testLog().log, ...extra }) };
}

test('get/set/getEntry/getAll/delete, updatedAt from the injected clock', async () => {
  const { clock, open } = memStore();
  const store = await open();
  assert.equal(store.get('missing'), undefined);
  assert.deepEqual(await store.set('setpoint', 72.5), { durable: false });
  await store.set('mode', { auto: true, list: [1, 'two', null] });
  assert.equal(store.get('setpoint'), 72.5);
  assert.deepEqual(store.get('mode'), { auto: true, list: [1, 'two', null] });
  assert.deepEqual(store.getEntry('setpoint'), { value: 72.5, updatedAt: clock.now() / 1000 });
  await clock.advance(1500);
  await store.set('setpoint', 80);
  assert.equal(store.getEntry('setpoint')?.updatedAt, clock.now() / 1000);
  assert.deepEqual(Object.keys(store.getAll()), ['mode', 'setpoint']);
  assert.deepEqual(store.getAll(['setpoint', 'nope']), { setpoint: { value: 80, updatedAt: clock.now() / 1000 } });
  await store.delete('mode');
  assert.equal(store.get('mode'), undefined);
  await assert.rejects(store.set('bad', undefined), /not JSON; use delete/);
  const s = store.status();
  assert.equal(s.mode, 'memory');
  assert.equal(s.ok, true, 'a store without a data dir is healthy in memory');
  assert.equal(s.dataDir, null);
  await store.close();
  await store.close(); // idempotent
  await assert.rejects(store.set('x', 1), StorageError);
  assert.throws(() => store.get('setpoint'), StorageError);
});

test('setMany is atomic: a bad entry leaves every key untouched', async () => {
  const store = await memStore().open();
  await store.setMany({ a: 1, b: 2 });
  await assert.rejects(store.setMany({ a: 10, c: 3, d: undefined }), /"d"/);
  assert.deepEqual(store.get('a'), 1);
  assert.equal(store.get('c'), undefined);
  // A failing statement inside run() rolls back the whole script, too.
  await store.migrate('t', ['CREATE TABLE items(x INTEGER)']);
  await assert.rejects(store.run('INSERT INTO items VALUES (1); INSERT INTO no_such_table VALUES (2);'), /no_such_table/);
  assert.deepEqual(store.query('SELECT count(*) AS n FROM items'), [{ n: 0 }]);
  await store.close();
});

test('trend: newest `limit` rows oldest first, from/to window, prune by age', async () => {
  const { clock, open } = memStore();
  const store = await open();
  const now = clock.now() / 1000;
  for (let i = 0; i < 10; i++) await store.logTrend({ ts: now - 100 + i * 10, pv: i, sp: 50, mv: i * 2 });
  await store.logTrend({ pv: 99 }); // ts defaults to the clock, missing columns to null
  const last3 = store.recentTrend({ limit: 3 });
  assert.deepEqual(last3.map((r) => r.pv), [8, 9, 99]);
  assert.deepEqual(last3[2], { ts: now, pv: 99, sp: null, mv: null });
  assert.equal(store.recentTrend().length, 11, 'default limit 900 returns everything here');
  assert.deepEqual(store.recentTrend({ from: now - 80, to: now - 60 }).map((r) => r.pv), [2, 3, 4]);
  assert.deepEqual(store.recentTrend({ from: now - 80, to: now - 60, limit: 2 }).map((r) => r.pv), [3, 4]);
  assert.equal(await store.pruneTrend(55), 5, 'rows older than 55 s go');
  assert.deepEqual(store.recentTrend().map((r) => r.pv), [5, 6, 7, 8, 9, 99]);
  assert.equal(await store.pruneTrend(55), 0);
  await store.close();
});

test('migrations run once each per owner, in order, and a failing one names itself', async () => {
  const store = await memStore().open();
  const v1 = ['CREATE TABLE press_cycles(id INTEGER PRIMARY KEY, ms REAL)', "INSERT INTO press_cycles(ms) VALUES (1.5)"];
  await store.migrate('press', v1);
  await store.migrate('press', v1);
  assert.deepEqual(store.query('SELECT ms FROM press_cycles'), [{ ms: 1.5 }], 'second migrate() applied nothing');
  await store.migrate('press', [...v1, 'ALTER TABLE press_cycles ADD COLUMN ok INTEGER DEFAULT 1']);
  assert.deepEqual(store.query('SELECT ms, ok FROM press_cycles'), [{ ms: 1.5, ok: 1 }]);
  // Another owner has its own numbering.
  await store.migrate('oven', ['CREATE TABLE oven_runs(t REAL)']);
  await assert.rejects(store.migrate('oven', ['CREATE TABLE oven_runs(t REAL)', 'CREATE TABL oops']), /migration 2 of "oven" failed/);
  await store.migrate('oven', ['CREATE TABLE oven_runs(t REAL)', 'CREATE TABLE oven_alarms(t REAL)']);
  assert.deepEqual(store.query("SELECT owner, version FROM fieldgate_migrations ORDER BY owner, version"), [
    { owner: 'oven', version: 1 },
    { owner: 'oven', version: 2 },
    { owner: 'press', version: 1 },
    { owner: 'press', version: 2 },
    { owner: 'press', version: 3 },
  ]);
  await store.run('INSERT INTO oven_runs(t) VALUES (:t)', { ':t': 3.25 });
  assert.deepEqual(store.query<{ t: number }>('SELECT t FROM oven_runs WHERE t > :min', { ':min': 1 }), [{ t: 3.25 }]);
  await store.close();
});

test('set, setMany and delete publish state/<key> with the previous value', async () => {
  const bus = new Bus();
  const { clock, open } = memStore({ bus });
  const store = await open();
  const seen: Array<[string, StateChange]> = [];
  bus.subscribe<StateChange>('state/+', (change, topic) => void seen.push([topic, change]));
  await store.set('setpoint', 70);
  await store.set('setpoint', 72);
  await store.setMany({ setpoint: 74, mode: 'auto' });
  await store.delete('mode');
  const at = clock.now() / 1000;
  assert.deepEqual(seen, [
    ['state/setpoint', { key: 'setpoint', value: 70, previous: undefined, updatedAt: at }],
    ['state/setpoint', { key: 'setpoint', value: 72, previous: 70, updatedAt: at }],
    ['state/setpoint', { key: 'setpoint', value: 74, previous: 72, updatedAt: at }],
    ['state/mode', { key: 'mode', value: 'auto', previous: undefined, updatedAt: at }],
    ['state/mode', { key: 'mode', value: undefined, previous: 'auto', updatedAt: at }],
  ]);
  await store.close();
});

test('group commit: durable writes inside the window share one write and one fsync', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const disk = new FaultyDisk(nodeDisk);
    // The window runs on real time (it batches real fsyncs), so no clock.advance() is needed.
    const store = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, disk, commitDelayMs: 20 });
    const syncs = disk.count('sync');
    const started = performance.now();
    const writes = Array.from({ length: 50 }, (_, i) => store.set(`k${i}`, i));
    assert.equal(store.status().pendingWrites, 50);
    assert.deepEqual(new Set((await Promise.all(writes)).map((r) => r.durable)), new Set([true]));
    assert.ok(performance.now() - started >= 19, 'acknowledged only after the window and its fsync');
    assert.equal(disk.count('sync') - syncs, 1, 'one fsync for the whole group');
    assert.equal(disk.count('append'), 1);
    assert.equal(store.status().pendingWrites, 0);
    // The acknowledged writes are in the journal on disk.
    const copy = await openStore({ dataDir: crashImage(tmp), clock, log: testLog().log });
    assert.equal(copy.get('k49'), 49);
    assert.equal(copy.status().recovery.journalRecordsReplayed, 50);
    await copy.close();
    await store.close();
  } finally {
    tmp.remove();
  }
});

test('a durable write rides along with queued non-durable ones, in order', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const store = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, lazyFlushMs: 60_000 });
    await store.set('x', 1, { durable: false });
    await store.set('x', 2, { durable: false });
    assert.equal(store.status().pendingWrites, 2);
    assert.deepEqual(await store.set('y', 3), { durable: true });
    assert.equal(store.status().pendingWrites, 0);
    const copy = await openStore({ dataDir: crashImage(tmp), clock, log: testLog().log });
    assert.deepEqual([copy.get('x'), copy.get('y')], [2, 3]);
    await copy.close();
    await store.close();
  } finally {
    tmp.remove();
  }
});

test('non-durable writes resolve at once and reach the disk within lazyFlushMs', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const store = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, lazyFlushMs: 1000 });
    assert.deepEqual(await store.set('rpm', 1200, { durable: false }), { durable: false });
    await store.set('rpm', 1250, { durable: false });
    await clock.advance(400);
    let s = store.status();
    assert.equal(s.pendingWrites, 2);
    assert.equal(s.journalLagMs, 400);
    assert.equal(s.journalBytes, 0);
    await clock.advance(600);
    await waitFor(() => store.status().pendingWrites === 0, 'the lazy flush');
    s = store.status();
    assert.equal(s.journalLagMs, 0);
    assert.ok(s.journalBytes > 0);
    const copy = await openStore({ dataDir: crashImage(tmp), clock, log: testLog().log });
    assert.equal(copy.get('rpm'), 1250);
    await copy.close();
    await store.close();
  } finally {
    tmp.remove();
  }
});

test('close() flushes non-durable writes and snapshots; reopening sees everything', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const store = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, lazyFlushMs: 3_600_000 });
    await store.set('a', 1, { durable: false });
    await store.setMany({ b: 2, c: [3] }, { durable: false });
    await store.logTrend({ ts: 5, pv: 1 }, { durable: false });
    await store.close();
    const again = await openStore({ dataDir: tmp.dir, clock, log: testLog().log });
    assert.deepEqual(Object.fromEntries(Object.entries(again.getAll()).map(([k, e]) => [k, e.value])), { a: 1, b: 2, c: [3] });
    assert.equal(again.recentTrend().length, 1);
    const s = again.status();
    assert.equal(s.recovery.journalRecordsReplayed, 0, 'everything came from the close-time snapshot');
    assert.equal(s.lastSnapshotAt, clock.now());
    assert.equal(s.mode, 'disk');
    assert.equal(s.ok, true);
    await again.close();
  } finally {
    tmp.remove();
  }
});

test('snapshots rotate the journal: records after a snapshot survive, older files are dropped', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const store = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, commitDelayMs: 0, snapshotJournalBytes: 2000 });
    for (let i = 0; i < 60; i++) await store.set(`k${i}`, { i, pad: 'x'.repeat(20) });
    await store.flush();
    await waitFor(() => store.status().lastSnapshotAt !== null, 'a size-triggered snapshot');
    await waitFor(() => store.status().journalBytes < 2000 + 200, 'the journal to be dropped after the snapshot');
    const image = crashImage(tmp);
    const copy = await openStore({ dataDir: image, clock, log: testLog().log });
    assert.equal(Object.keys(copy.getAll()).length, 60);
    assert.ok(copy.status().recovery.journalRecordsReplayed < 60, 'most records came from the snapshot');
    await copy.close();
    await store.close();
  } finally {
    tmp.remove();
  }
});

test('periodic snapshot fires on the injected clock', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const store = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, commitDelayMs: 0, snapshotIntervalMs: 60_000 });
    await store.set('a', 1);
    assert.equal(store.status().lastSnapshotAt, null);
    await clock.advance(60_000);
    await waitFor(() => store.status().lastSnapshotAt !== null, 'the periodic snapshot');
    assert.equal(store.status().journalBytes, 0);
    await store.close();
  } finally {
    tmp.remove();
  }
});

test('stateJson is every key flattened, and follows set, setMany, delete, run and a refused write', async () => {
  const { open } = memStore();
  const store = await open();
  const flat = () => JSON.stringify(Object.fromEntries(Object.entries(store.getAll()).map(([k, e]) => [k, e.value])));
  assert.equal(store.stateJson(), '{}');
  await store.set('b', { n: [1, 2] });
  await store.set('a', 'x"y');
  assert.equal(store.stateJson(), flat());
  assert.deepEqual(JSON.parse(store.stateJson()), { a: 'x"y', b: { n: [1, 2] } });
  assert.equal(store.stateJson(), store.stateJson(), 'served from the cache between writes');
  await store.setMany({ c: 3, a: null });
  assert.deepEqual(JSON.parse(store.stateJson()), { a: null, b: { n: [1, 2] }, c: 3 });
  await store.delete('b');
  assert.deepEqual(JSON.parse(store.stateJson()), { a: null, c: 3 });
  await store.run("DELETE FROM state WHERE key = 'c'");
  assert.deepEqual(JSON.parse(store.stateJson()), { a: null });
  await assert.rejects(store.run('INSERT INTO no_such_table VALUES (1)'));
  await store.logTrend({ pv: 1 });
  assert.equal(store.stateJson(), flat());
  await store.close();
});
