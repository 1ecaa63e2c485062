// The store's housekeeping on the injected clock with a real data dir: the core trend table keeps
// only store.trendRetentionS, and a store filled past its budget degrades /health with the figures,
// shows in /metrics and raises an alarm that escalates and clears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import type { StoreSettings } from '../../core/manifest/types.ts';
import httpApi from '../../plugins/http-api/plugin.ts';
import { testManifest } from '../helpers/manifest.ts';

const MINUTE = 60_000;

/** Awaits `p` while moving the fake clock: the history store's group commit waits on it. */
async function driven<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => (done = true));
  for (let i = 0; i < 1000 && !done; i++) await clock.advance(5);
  return settled;
}

async function start(dataDir: string, clock: FakeClock, store: Partial<StoreSettings>): Promise<{ runtime: Runtime; base: string }> {
  const { root } = memoryLog('silent');
  const base = testManifest([]);
  const manifest = testManifest([{ id: 'api', use: 'http-api', config: { port: 0, alarms: { evalMs: 1000, keepRecent: 10, limits: {} } } }], {
    store: { ...base.store, ...store },
  });
  const runtime = await createRuntime({ manifest, plugins: [httpApi], adapters: [], logRoot: root, dataDir, clock });
  await driven(clock, runtime.start());
  assert.equal(runtime.supervisor.status('api').status, 'running', runtime.supervisor.status('api').lastError ?? '');
  return { runtime, base: runtime.routes.address! };
}

interface Health {
  status: string;
  store: { size?: { usedBytes: number; allocatedBytes: number; budgetBytes: number; ratio: number; level: string } };
  checks: Record<string, { ok: boolean; detail?: string; severity?: string }>;
}

test('trend rows older than store.trendRetentionS leave the store, also across a restart', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fieldgate-trend-'));
  const clock = new FakeClock();
  try {
    let { runtime, base } = await start(dataDir, clock, { trendRetentionS: 3600, housekeepingMs: MINUTE });
    const trend = async () => (await (await fetch(`${base}/api/trend?limit=10000&from=0`)).json()) as Array<{ ts: number; pv: number }>;
    // Two hours of one row every 10 s.
    for (let i = 0; i < 720; i++) {
      await runtime.store.logTrend({ pv: i }, { durable: false });
      await clock.advance(10_000);
    }
    // A prune waits for its fsync (real time) while the fake clock races on; ticks meanwhile are
    // skipped, so let the one in flight finish and take the next.
    await runtime.storeHousekeeping.idle();
    await clock.advance(MINUTE);
    await runtime.storeHousekeeping.idle();
    const rows = await trend();
    const nowS = clock.now() / 1000;
    assert.ok(rows.length >= 354 && rows.length <= 360, `one hour of rows kept: ${rows.length}`);
    assert.ok(rows[0]!.ts >= nowS - 3600 - 60, `oldest row ${nowS - rows[0]!.ts} s old`);
    assert.equal(rows.at(-1)!.pv, 719, 'the newest row is there');

    // Stopped for a day: the start itself prunes what aged out meanwhile.
    await driven(clock, runtime.stop());
    await clock.advance(24 * 60 * MINUTE);
    ({ runtime, base } = await start(dataDir, clock, { trendRetentionS: 3600, housekeepingMs: MINUTE }));
    assert.deepEqual(await trend(), [], 'every row was older than an hour at start');
    await driven(clock, runtime.stop());
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a store filled past its budget: /health warns, then errs, with the figures; /metrics and the alarm follow; deleting recovers', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fieldgate-budget-'));
  const clock = new FakeClock();
  const BUDGET = 512 * 1024;
  try {
    const { runtime, base } = await start(dataDir, clock, { budgetBytes: BUDGET, warnRatio: 0.8, housekeepingMs: MINUTE });
    const health = async () => (await (await fetch(`${base}/health`)).json()) as Health;
    const alarm = async () => ((await (await fetch(`${base}/api/alarms`)).json()) as { active: Array<{ id: string; severity: string; message: string }> }).active.find((a) => a.id === 'check:store-size');
    const fill = async (from: number, to: number) => {
      for (let i = from; i < to; i++) await runtime.store.set(`blob:${i}`, 'x'.repeat(4000), { durable: false });
    };

    let h = await health();
    assert.equal(h.checks['store-size']!.ok, true);
    assert.equal(h.store.size!.level, 'ok');
    assert.ok(h.store.size!.usedBytes < 0.8 * BUDGET);

    // ~420 KB of values: between 80 % and 100 % of 512 KiB. Nothing changes before the next measurement.
    await fill(0, 105);
    assert.equal((await health()).store.size!.level, 'ok', 'measured periodically, not per write');
    await clock.advance(MINUTE);
    h = await health();
    assert.equal(h.status, 'degraded');
    assert.equal(h.store.size!.level, 'warning');
    assert.equal(h.store.size!.budgetBytes, BUDGET);
    assert.ok(h.store.size!.ratio >= 0.8 && h.store.size!.ratio <= 1, `ratio ${h.store.size!.ratio}`);
    assert.equal(h.checks['store-size']!.ok, false);
    assert.equal(h.checks['store-size']!.severity, 'warning');
    assert.match(h.checks['store-size']!.detail!, /store uses \d+ KiB of its 512 KiB budget \(\d+ %/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /fieldgate_store_budget_bytes 524288/);
    const used = Number(/fieldgate_store_used_bytes (\d+)/.exec(metrics)?.[1]);
    assert.equal(used, h.store.size!.usedBytes);
    await clock.advance(1000);
    assert.equal((await alarm())?.severity, 'warning');

    // Past the budget: an error, and the same alarm escalates to critical.
    await fill(105, 160);
    await clock.advance(MINUTE);
    h = await health();
    assert.equal(h.store.size!.level, 'error');
    assert.ok(h.store.size!.ratio > 1);
    assert.equal(h.checks['store-size']!.severity, 'critical');
    await clock.advance(1000);
    const critical = await alarm();
    assert.equal(critical?.severity, 'critical');
    assert.match(critical!.message, /of its 512 KiB budget/);

    // Deleted rows free pages (reused later): the used figure drops and the alarm clears.
    for (let i = 0; i < 160; i++) await runtime.store.delete(`blob:${i}`, { durable: false });
    await clock.advance(MINUTE);
    h = await health();
    assert.equal(h.store.size!.level, 'ok');
    assert.ok(h.store.size!.allocatedBytes > h.store.size!.usedBytes, 'freed pages stay allocated');
    assert.equal(h.checks['store-size']!.ok, true);
    await clock.advance(1000);
    assert.equal(await alarm(), undefined);
    await driven(clock, runtime.stop());
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
