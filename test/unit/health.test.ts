import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { HealthModel, type PluginHealth } from '../../core/health.ts';
import type { StateEntry, StateStore, StoreStatus, WriteResult } from '../../core/store/types.ts';

/** The part of the StateStore the health model uses, kept in memory. */
function fakeStore(clock: FakeClock) {
  const entries = new Map<string, StateEntry>();
  let status: StoreStatus = {
    mode: 'disk', ok: true, dataDir: '/var/lib/fieldgate', lastError: null, pendingWrites: 0, journalLagMs: 0,
    journalBytes: 0, lastSnapshotAt: null, recovery: { journalRecordsReplayed: 0, tornRecordsSkipped: 0, corruptSnapshotMovedTo: null },
  };
  const writes: Array<{ key: string; durable: boolean | undefined }> = [];
  const store = {
    getEntry<T>(key: string): StateEntry<T> | undefined {
      return entries.get(key) as StateEntry<T> | undefined;
    },
    set(key: string, value: unknown, options?: { durable?: boolean }): Promise<WriteResult> {
      entries.set(key, { value, updatedAt: clock.now() / 1000 });
      writes.push({ key, durable: options?.durable });
      return Promise.resolve({ durable: false });
    },
    status: () => status,
  };
  return {
    store: store as unknown as StateStore, // only the methods above are called
    writes,
    put: (key: string, value: unknown, updatedAt = clock.now() / 1000) => entries.set(key, { value, updatedAt }),
    fail: (lastError: string) => (status = { ...status, mode: 'memory', ok: false, lastError }),
  };
}

const plugin = (id: string, status: PluginHealth['status']): PluginHealth => ({
  id, type: 'max31865', status, restarts: 0, lastError: null, nextRestartAt: null, since: 0,
});

test('a heartbeat written as epoch seconds goes stale once older than maxAgeS', async () => {
  const clock = new FakeClock();
  const s = fakeStore(clock);
  const health = new HealthModel({ clock, store: s.store });
  health.watch({ key: 'sensor_last_ts', maxAgeS: 10, owner: 'sensor' });
  s.put('sensor_last_ts', clock.now() / 1000);

  let r = health.report();
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.heartbeats.sensor_last_ts, { key: 'sensor_last_ts', ageS: 0, stale: false, maxAgeS: 10, lastTs: clock.now() / 1000, owner: 'sensor' });

  await clock.advance(10_000);
  assert.equal(health.report().heartbeats.sensor_last_ts.stale, false);
  await clock.advance(1_000);
  r = health.report();
  assert.equal(r.heartbeats.sensor_last_ts.ageS, 11);
  assert.equal(r.heartbeats.sensor_last_ts.stale, true);
  assert.equal(r.status, 'degraded');
  assert.equal(r.time, clock.now() / 1000);
});

test('a missing key is stale with no age; a non-timestamp value ages by its updatedAt', async () => {
  const clock = new FakeClock();
  const s = fakeStore(clock);
  const health = new HealthModel({ clock, store: s.store });
  health.watch({ key: 'modbus_last_ok_ts', maxAgeS: 5 });
  health.watch({ key: 'pv', maxAgeS: 30 });
  s.put('pv', 21.5);
  let r = health.report();
  assert.equal(r.heartbeats.modbus_last_ok_ts.ageS, null);
  assert.equal(r.heartbeats.modbus_last_ok_ts.stale, true);
  assert.equal(r.heartbeats.pv.stale, false);
  await clock.advance(31_000);
  r = health.report();
  assert.equal(r.heartbeats.pv.ageS, 31);
  assert.equal(r.heartbeats.pv.stale, true);
});

test('beat() writes now to the store without waiting for the disk, and works without a store', async () => {
  const clock = new FakeClock();
  const s = fakeStore(clock);
  const withStore = new HealthModel({ clock, store: s.store });
  withStore.beat('sensor_last_ts');
  assert.deepEqual(s.writes, [{ key: 'sensor_last_ts', durable: false }]);
  assert.equal(s.store.getEntry('sensor_last_ts')?.value, clock.now() / 1000);

  const bare = new HealthModel({ clock });
  bare.watch({ key: 'loop_ts', maxAgeS: 2 });
  bare.beat('loop_ts');
  await clock.advance(2_500);
  assert.equal(bare.report().heartbeats.loop_ts.stale, true);
  bare.beat('loop_ts');
  assert.equal(bare.report().heartbeats.loop_ts.stale, false);
  assert.equal(bare.report().status, 'ok');
  assert.equal(bare.report().store, null);
});

test('unwatchOwner removes a stopped plugin’s heartbeats and checks', () => {
  const clock = new FakeClock();
  const health = new HealthModel({ clock });
  const unwatch = health.watch({ key: 'a_ts', maxAgeS: 1, owner: 'a' });
  health.watch({ key: 'b_ts', maxAgeS: 1, owner: 'b' });
  health.setCheck('modbus-plc', () => ({ ok: false, detail: 'circuit open' }), 'a');
  assert.equal(health.report().status, 'degraded');
  health.unwatchOwner('a');
  const r = health.report();
  assert.deepEqual(Object.keys(r.heartbeats), ['b_ts']);
  assert.deepEqual(r.checks, {});
  unwatch(); // already gone: harmless
  health.unwatchOwner('b');
  assert.equal(health.report().status, 'ok');
});

test('degraded when a plugin fails or backs off, the store runs from memory, or a check fails', () => {
  const clock = new FakeClock();
  const s = fakeStore(clock);
  const health = new HealthModel({ clock, store: s.store });
  const plugins: Record<string, PluginHealth> = { sensor: plugin('sensor', 'running') };
  health.setPluginsProvider(() => plugins);
  assert.equal(health.report().status, 'ok');
  assert.equal(health.report().store?.mode, 'disk');

  plugins.sensor = plugin('sensor', 'backing-off');
  assert.equal(health.report().status, 'degraded');
  plugins.sensor = plugin('sensor', 'stopped');
  assert.equal(health.report().status, 'ok');

  s.fail('EROFS: read-only file system');
  const r = health.report();
  assert.equal(r.status, 'degraded');
  assert.equal(r.store?.lastError, 'EROFS: read-only file system');

  const ok = new HealthModel({ clock });
  let open = false;
  const remove = ok.setCheck('modbus-plc', () => (open ? { ok: false, detail: 'circuit open' } : { ok: true }));
  assert.equal(ok.report().status, 'ok');
  open = true;
  assert.deepEqual(ok.report().checks['modbus-plc'], { ok: false, detail: 'circuit open' });
  assert.equal(ok.report().status, 'degraded');
  remove();
  assert.equal(ok.report().status, 'ok');
});

test('report never throws: a broken provider or check becomes a failed check', () => {
  const clock = new FakeClock();
  const broken = {
    getEntry() {
      throw new Error('database is locked');
    },
    status() {
      throw new Error('status unavailable');
    },
  } as unknown as StateStore; // only getEntry and status are called
  const health = new HealthModel({ clock, store: broken });
  health.watch({ key: 'sensor_last_ts', maxAgeS: 5 });
  health.setPluginsProvider(() => {
    throw new Error('supervisor gone');
  });
  health.setHistoryProvider(() => {
    throw new Error('history offline');
  });
  health.setCheck('plc', () => {
    throw new Error('check crashed');
  });
  const r = health.report();
  assert.equal(r.status, 'degraded');
  assert.deepEqual(r.plugins, {});
  assert.equal(r.store, null);
  assert.equal(r.history, null);
  assert.equal(r.heartbeats.sensor_last_ts.stale, true);
  assert.deepEqual(r.checks, {
    'heartbeat:sensor_last_ts': { ok: false, detail: 'database is locked' },
    'health:plugins': { ok: false, detail: 'supervisor gone' },
    'health:store': { ok: false, detail: 'status unavailable' },
    'health:history': { ok: false, detail: 'history offline' },
    plc: { ok: false, detail: 'check crashed' },
  });
  assert.doesNotThrow(() => JSON.stringify(r));
});

test('the history provider’s value is passed through', () => {
  const health = new HealthModel({ clock: new FakeClock() });
  assert.equal(health.report().history, null);
  health.setHistoryProvider(() => ({ segments: 3, bytes: 4096 }));
  assert.deepEqual(health.report().history, { segments: 3, bytes: 4096 });
});
