// A batch that finishes while the sync's Odoo fetch is in flight (the queue cleared while its block
// mixed, so its result arrives as an orphan): Odoo still lists the MO, its write-back has not landed,
// and the sync must not queue it again. The real client against the Odoo simulator over loopback,
// on the embedded store and on PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OdooJsonRpcClient } from '../../adapters/odoo/client.ts';
import type { OdooClient } from '../../adapters/odoo/types.ts';
import { systemClock } from '../../core/clock.ts';
import { memoryLog } from '../../core/log.ts';
import { openStore } from '../../core/store/open.ts';
import type { MoBatchStore } from '../../plugins/odoo-sync/batch-repo.ts';
import { resolveConfig } from '../../plugins/odoo-sync/config.ts';
import { PgMoBatchRepository } from '../../plugins/odoo-sync/pg-repo.ts';
import { StoreMoBatchRepository } from '../../plugins/odoo-sync/store-repo.ts';
import { MoSync } from '../../plugins/odoo-sync/sync.ts';
import { OdooSimulator } from '../../sim/odoo.ts';
import { postgresSkip, startPostgres, type TestPostgres } from '../helpers/postgres.ts';

const MO = 'WH/MO/00001';

async function finishedDuringFetch(makeRepo: () => Promise<MoBatchStore>): Promise<void> {
  const sim = new OdooSimulator();
  const url = await sim.start();
  const { root } = memoryLog('debug');
  const store = await openStore({ dataDir: null, clock: systemClock, log: root.logger('store') });
  const client = new OdooJsonRpcClient({ baseUrl: url, db: sim.db, username: 'admin', password: 'admin', timeoutMs: 2000, log: root.logger('odoo') });
  const repo = await makeRepo();
  try {
    // MO 1 was queued and handed to a PLC block; the operator then cleared the queue.
    await repo.upsert([{ mo_id: MO, consumption: 300, equipment_id_batch: null, finished_goods: 'Pakan', bom_code: 'BOM-1', silos: { a: 101, b: 102, c: 103, d: 104, e: 105, f: 106, g: 107, h: 108, i: 109, j: 110, k: 111, l: 112, m: 113 }, component_names: {}, consumptions: { a: 300 } }]);
    assert.equal(await repo.clear(), 1);
    // The block finishes after Odoo answered the fetch but before the sync queues what it got.
    let finishedInFlight = false;
    const odoo = new Proxy(client, {
      get(target, prop) {
        if (prop !== 'fetchManufacturingOrders') return Reflect.get(target, prop, target);
        return async (...args: Parameters<OdooClient['fetchManufacturingOrders']>) => {
          const fetched = await target.fetchManufacturingOrders(...args);
          if ((args[0]?.limit ?? 0) > 1 && !finishedInFlight) {
            finishedInFlight = true;
            await repo.recordOrphan!({ batchNo: 1, moId: MO, bomCode: 'BOM-1', finishedGoods: 'Pakan', quantity: 300, consumption: { 101: 300 } }, { failed: false, actualWeight: 300 });
          }
          return fetched;
        };
      },
    }) as OdooClient;
    const sync = new MoSync({ config: resolveConfig({ enabled: false, batchLimit: 10 }), odoo, repo, store, log: root.logger('sync'), clock: systemClock });
    const outcome = await sync.sync('trigger');
    assert.ok(finishedInFlight, 'the batch finished during the fetch');
    assert.equal(outcome.status, 'synced', outcome.message);
    assert.ok(outcome.fetched >= 3, 'Odoo still lists the finished MO');
    const queued = (await repo.list()).map((r) => r.mo_id);
    assert.ok(!queued.includes(MO), `the finished MO is not queued a second time: ${queued.join(', ')}`);
    assert.equal(queued.length, outcome.fetched - 1, 'the other MOs are queued');
    assert.deepEqual(outcome.alreadyFinished, [MO]);
    assert.equal(outcome.inserted, outcome.fetched - 1);
  } finally {
    await repo.close();
    await client.close();
    await store.close();
    await sim.close();
  }
}

describe('a batch finished while the MO fetch is in flight', () => {
  let pg: TestPostgres | undefined;
  after(async () => {
    await pg?.stop();
  });

  test('is not queued again (embedded store)', async () => {
    await finishedDuringFetch(async () => {
      const { root } = memoryLog('debug');
      const store = await openStore({ dataDir: null, clock: systemClock, log: root.logger('store') });
      const repo = new StoreMoBatchRepository({ store, clock: systemClock });
      await repo.init();
      return repo;
    });
  });

  describe('on PostgreSQL', { skip: postgresSkip }, () => {
    before(async () => {
      pg = await startPostgres();
    });
    test('is not queued again (PostgreSQL)', async () => {
      await finishedDuringFetch(async () => {
        const repo = new PgMoBatchRepository({ connectionString: pg!.url, clock: systemClock });
        await repo.init();
        return repo;
      });
    });
  });
});
