// The write-back worker when the outbox can be read but not written (a read-only disk, PostgreSQL
// in read-only mode): the retry time it cannot persist is kept in memory, so Odoo is not called on
// every sweep. Real store repository, the Odoo simulator over loopback, fake time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OdooJsonRpcClient } from '../../adapters/odoo/client.ts';
import { FakeClock } from '../../core/clock-fake.ts';
import { memoryLog } from '../../core/log.ts';
import { openStore } from '../../core/store/open.ts';
import type { WriteBackPatch } from '../../plugins/odoo-sync/history.ts';
import { StoreMoBatchRepository } from '../../plugins/odoo-sync/store-repo.ts';
import { WriteBackWorker } from '../../plugins/odoo-sync/write-back.ts';
import { OdooSimulator } from '../../sim/odoo.ts';

/** Lets loopback HTTP answer between fake-time steps. */
const io = () => new Promise((r) => setTimeout(r, 3));

/** The embedded repository whose outbox updates fail like a database gone read-only. */
class ReadOnlyOutbox extends StoreMoBatchRepository {
  readOnly = false;
  override async updateWriteBack(key: string, patch: WriteBackPatch): Promise<void> {
    if (this.readOnly) throw new Error('cannot execute UPDATE in a read-only transaction');
    return super.updateWriteBack(key, patch);
  }
}

test('an outbox that cannot be updated: retries back off in memory instead of calling Odoo every sweep', async () => {
  const clock = new FakeClock();
  const sim = new OdooSimulator({ now: () => clock.now() });
  const url = await sim.start();
  const { root, lines } = memoryLog('debug');
  const store = await openStore({ dataDir: null, clock, log: root.logger('store') });
  const client = new OdooJsonRpcClient({ baseUrl: url, db: sim.db, username: 'admin', password: 'admin', timeoutMs: 2000 });
  const repo = new ReadOnlyOutbox({ store, clock });
  const worker = new WriteBackWorker({ odoo: client, repo, clock, log: root.logger('wb'), backoff: { initialMs: 200, maxMs: 1000 }, sweepMs: 5000, random: () => 0 });
  try {
    await repo.init();
    const mo = sim.mos[0];
    await repo.upsert([{ mo_id: mo.mo_id, consumption: 100, equipment_id_batch: null, finished_goods: null, bom_code: null, silos: { a: 101, b: 102, c: 103, d: 104, e: 105, f: 106, g: 107, h: 108, i: 109, j: 110, k: 111, l: 112, m: 113 }, component_names: {}, consumptions: { a: 100 } }]);
    await repo.markFinished(1, { failed: false, actualWeight: 100 });
    repo.readOnly = true;
    worker.start();
    // 1.5 simulated seconds in 10 ms steps: unbounded, the sweep would try ~150 times.
    for (let t = 0; t < 1500; t += 10) {
      await clock.advance(10);
      await io();
    }
    await worker.idle();
    const attempts = sim.requests.filter((r) => r.path.endsWith('mrp.production/search_read')).length;
    // Attempts at 0, 200, 600 and 1400 ms (200 ms doubling), each reading the MO once or twice.
    assert.ok(attempts >= 2 && attempts <= 10, `Odoo called ${attempts} times in 1.5 s`);
    assert.equal((await repo.getHistory((await repo.history())[0].key))!.state, 'pending', 'still in the outbox');
    assert.equal(lines.filter((l) => /the outbox .* cannot be updated/.test(String(l.msg))).length, 1, 'said once');
    // Writable again: the next retry confirms it.
    repo.readOnly = false;
    for (let t = 0; t < 2000 && (await repo.history())[0].state !== 'confirmed'; t += 10) {
      await clock.advance(10);
      await io();
    }
    await worker.idle();
    assert.equal((await repo.history())[0].state, 'confirmed');
    assert.equal(sim.mos[0].state, 'done');
  } finally {
    worker.stop();
    await client.close();
    await store.close();
    await sim.close();
  }
});
