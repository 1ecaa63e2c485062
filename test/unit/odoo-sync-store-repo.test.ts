// StoreMoBatchRepository on an in-memory store: the seed's columns, batch_no continuing from the
// highest, upsert by mo_id, and an upsert that fails half-way leaving the table as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { openStore } from '../../core/store/open.ts';
import { StoreMoBatchRepository } from '../../plugins/odoo-sync/store-repo.ts';
import { SILO_LETTERS, type NewMoBatch, type SiloLetter } from '../../plugins/odoo-sync/batch-repo.ts';
import { testLog } from '../fixtures/store-helpers.ts';

const silos = Object.fromEntries(SILO_LETTERS.map((l, i) => [l, 101 + i])) as Record<SiloLetter, number>;
const batch = (mo_id: string, extra: Partial<NewMoBatch> = {}): NewMoBatch => ({
  mo_id, consumption: 1000, equipment_id_batch: 'PLC01', finished_goods: `goods ${mo_id}`, bom_code: null,
  silos, component_names: { a: 'corn' }, consumptions: { a: 500 }, ...extra,
});

async function repo() {
  const clock = new FakeClock();
  const store = await openStore({ dataDir: null, clock, log: testLog().log });
  const r = new StoreMoBatchRepository({ store, clock });
  await r.init();
  return { r, store, clock };
}

test('upsert inserts 1..N, updates by mo_id, and round-trips every field', async () => {
  const { r, store } = await repo();
  try {
    assert.deepEqual(await r.upsert([batch('MO1'), batch('MO2', { liquids: { lq114: { name: 'molasses', consumption: 40 } } })]), { inserted: 2, updated: 0 });
    assert.deepEqual(await r.upsert([batch('MO2', { consumption: 2000 }), batch('MO3')]), { inserted: 1, updated: 1 });
    const rows = await r.list();
    assert.deepEqual(rows.map((x) => [x.batch_no, x.mo_id, x.consumption]), [[1, 'MO1', 1000], [2, 'MO2', 2000], [3, 'MO3', 1000]]);
    assert.equal(rows[0]!.silos.m, 113);
    assert.deepEqual(rows[0]!.consumptions, { a: 500 });
    assert.equal(rows[1]!.liquids, undefined, 'the update replaced the liquids too');
    assert.equal(rows[0]!.status_manufacturing, false);
    const raw = store.query('SELECT silo_c, component_silo_a_name, consumption_silo_a, consumption_silo_b FROM mo_batch WHERE batch_no = 1')[0];
    assert.deepEqual(raw, { silo_c: 103, component_silo_a_name: 'corn', consumption_silo_a: 500, consumption_silo_b: 0 });
    // batch_no continues from the highest, never reuses a slot while the queue holds later ones.
    await r.remove(1);
    await r.upsert([batch('MO4')]);
    assert.deepEqual((await r.list()).map((x) => x.batch_no), [2, 3, 4]);
    await r.markFinished(2, { failed: false, actualWeight: 1999.5 });
    const done = (await r.get(2))!;
    assert.equal(done.status_manufacturing, true);
    assert.equal(done.actual_weight_quantity_finished_goods, 1999.5);
    assert.equal(await r.clear(), 3);
    assert.equal(await r.count(), 0);
  } finally {
    await store.close();
  }
});

test('an upsert failing half-way leaves the table intact', async () => {
  const { r, store } = await repo();
  try {
    await r.upsert([batch('MO1')]);
    // The third row breaks a CHECK (negative consumption): the first two must not stay.
    await assert.rejects(r.upsert([batch('MO1', { consumption: 5 }), batch('MO2'), batch('MO3', { consumptions: { b: -1 } })]), /CHECK constraint failed/);
    const rows = await r.list();
    assert.deepEqual(rows.map((x) => [x.mo_id, x.consumption]), [['MO1', 1000]]);
  } finally {
    await store.close();
  }
});
