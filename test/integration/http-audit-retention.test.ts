// Audit retention on the injected clock with a real data dir: rows beyond keepRows or older than
// maxAgeDays leave the store, hourly and at start, and land in the history segment files first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import httpApi from '../../plugins/http-api/plugin.ts';
import { AUDIT_SERIES } from '../../plugins/http-api/audit-retention.ts';
import { testManifest } from '../helpers/manifest.ts';
import { COMMANDS } from './http-fixture.ts';
import { eventually } from '../helpers/eventually.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Awaits `p` while moving the fake clock in small steps: the history store's group commit waits
 * on the same clock, so a durable append (the archive) settles only as time moves.
 */
async function driven<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => (done = true));
  for (let i = 0; i < 1000 && !done; i++) await clock.advance(5);
  return settled;
}

async function start(dataDir: string, clock: FakeClock): Promise<{ runtime: Runtime; base: string }> {
  const { root } = memoryLog('silent');
  const manifest = testManifest([{
    id: 'api', use: 'http-api',
    config: { port: 0, commands: COMMANDS, audit: { keepRows: 100, maxAgeDays: 1, archive: true, archiveDays: 365 } },
  }]);
  const runtime = await createRuntime({ manifest, plugins: [httpApi], adapters: [], logRoot: root, dataDir, clock });
  await driven(clock, runtime.start());
  assert.equal(runtime.supervisor.status('api').status, 'running', runtime.supervisor.status('api').lastError ?? '');
  return { runtime, base: runtime.routes.address! };
}

async function auditCount(base: string): Promise<number> {
  return ((await (await fetch(`${base}/api/audit?limit=1000`)).json()) as unknown[]).length;
}

test('audit rows are bounded by count and age, moved to history segment files, and pruned at start', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fieldgate-audit-'));
  const clock = new FakeClock();
  try {
    let { runtime, base } = await start(dataDir, clock);
    // 60 commands of two keys: 120 audit rows, 20 past keepRows.
    for (let i = 0; i < 60; i++) {
      const r = await fetch(`${base}/api/command`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ setpoint: i, power_on_requested: i % 2 === 0 }),
      });
      assert.equal(r.status, 200);
    }
    assert.equal(await auditCount(base), 120);

    await clock.advance(HOUR);
    await driven(clock, eventually('the hourly retention run', 5000, async () => (await auditCount(base)) === 100));
    assert.equal(await auditCount(base), 100, 'the hourly run keeps the newest keepRows');
    const archived = await runtime.history.query(AUDIT_SERIES);
    assert.equal(archived.length, 20);
    assert.deepEqual(archived.slice(0, 2).map((r) => [r.data.id, r.data.key, r.data.new, r.data.old]), [[1, 'setpoint', 0, null], [2, 'power_on_requested', true, null]]);
    const t0 = Date.UTC(2026, 0, 1);
    assert.ok(archived[0]!.ts >= t0 && archived[0]!.ts < t0 + 60_000, `archived ts ${archived[0]!.ts} is the write time in ms`);

    // Stopped for two days: the start itself prunes what aged out, before the first hourly run.
    await driven(clock, runtime.stop());
    await clock.advance(2 * DAY);
    ({ runtime, base } = await start(dataDir, clock));
    assert.equal(await auditCount(base), 0, 'rows older than maxAgeDays are gone at start');
    const all = await runtime.history.query(AUDIT_SERIES);
    assert.deepEqual(all.map((r) => r.data.id), Array.from({ length: 120 }, (_, i) => i + 1), 'every row moved, none lost, none twice');
    await driven(clock, runtime.history.flush());
    assert.ok((await readdir(dataDir, { recursive: true })).some((f) => String(f).includes(AUDIT_SERIES)), 'archived rows are in segment files on disk');
    await driven(clock, runtime.stop());
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
