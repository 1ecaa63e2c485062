// The audit archive keeps its own retention (audit.archiveDays) in the history store, even when the
// manifest's history.retentionMs is shorter and prunes the other series (CAN frames) sooner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import httpApi from '../../plugins/http-api/plugin.ts';
import { AUDIT_SERIES } from '../../plugins/http-api/audit-retention.ts';
import { testManifest } from '../helpers/manifest.ts';
import { COMMANDS } from './http-fixture.ts';
import { eventually } from '../helpers/eventually.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function driven<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => (done = true));
  for (let i = 0; i < 1000 && !done; i++) await clock.advance(5);
  return settled;
}

test('archived audit rows outlive a shorter history.retentionMs; other series are pruned by it', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'fieldgate-audit-archive-'));
  const clock = new FakeClock();
  try {
    const manifest = testManifest(
      [{ id: 'api', use: 'http-api', config: { port: 0, commands: COMMANDS, audit: { keepRows: 100, maxAgeDays: 1, archive: true, archiveDays: 365 } } }],
      { history: { segmentMs: HOUR, retentionMs: DAY } },
    );
    const runtime = await createRuntime({ manifest, plugins: [httpApi], adapters: [], logRoot: memoryLog('silent').root, dataDir, clock });
    await driven(clock, runtime.start());
    const base = runtime.routes.address!;
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${base}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setpoint: i }) });
      assert.equal(r.status, 200);
    }
    await driven(clock, runtime.history.append('can_messages', [{ ts: clock.now(), data: { id: 1 } }]));

    // Two days on: the audit rows aged out of the store into the archive; a day later still,
    // history.retentionMs (1 day) has pruned can_messages but not the archive (365 days).
    for (let h = 0; h < 72; h++) await clock.advance(HOUR);
    const archived = await eventually('the archive and the CAN pruning', 5000, async () => {
      const a = await runtime.history.query(AUDIT_SERIES);
      const can = await runtime.history.query('can_messages');
      return a.length === 5 && can.length === 0 ? a : undefined;
    });
    assert.deepEqual(archived.map((r) => r.data.new), [0, 1, 2, 3, 4]);
    const page = (await (await fetch(`${base}/api/audit?limit=100`)).json()) as unknown[];
    assert.equal(page.length, 0, 'none left in the store');
    await driven(clock, runtime.stop());
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
