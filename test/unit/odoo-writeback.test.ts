// Pure parts of the write-back: the per-row retry delay (from the stored attempt count), the
// finished weight sent to Odoo, and the outbox rows made from a queue row or a leftover PLC block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finishedQty, retryDelay } from '../../plugins/odoo-sync/write-back.ts';
import { equipmentCode, historyRow, orphanRow } from '../../plugins/odoo-sync/history.ts';
import type { MoBatchRow } from '../../plugins/odoo-sync/batch-repo.ts';
import { odooDateTime } from '../../adapters/odoo/write-back.ts';

const SILOS = { a: 101, b: 102, c: 103, d: 104, e: 105, f: 106, g: 107, h: 108, i: 109, j: 110, k: 111, l: 112, m: 113 };
const row: MoBatchRow = {
  batch_no: 3, mo_id: 'WH/MO/00001', consumption: 605, equipment_id_batch: 'PLC01', finished_goods: 'Layer', bom_code: 'BOM-L511',
  silos: SILOS, component_names: { a: 'Corn', c: 'Soy' }, consumptions: { a: 500, c: 65 }, liquids: { lq114: { name: 'Molasses', consumption: 40 } },
  status_manufacturing: false, status_operation: false, actual_weight_quantity_finished_goods: null, created_at: 1000, updated_at: 1000,
};

test('retry delay: doubles per stored attempt, capped, jitter only shortens', () => {
  const o = { initialMs: 5000, maxMs: 60_000, random: () => 0 };
  assert.deepEqual([1, 2, 3, 4, 5, 9].map((n) => retryDelay(n, o)), [5000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  assert.equal(retryDelay(3, { ...o, random: () => 1 }), 16_000);
});

test('a finished batch becomes a pending outbox row keyed by MO, queue time and slot; a failed one is held', () => {
  const h = historyRow(row, { failed: false, actualWeight: 604.5, consumption: { 101: 499.5, 103: 65, 114: 40, 105: 0 } }, 2000);
  assert.equal(h.key, 'WH/MO/00001@1000#3');
  assert.equal(h.state, 'pending');
  assert.equal(h.next_attempt_at, 2000);
  assert.deepEqual(h.consumption, { silo101: 499.5, silo103: 65, lq114: 40 });
  assert.deepEqual(h.components, { silo101: 'Corn', silo103: 'Soy', lq114: 'Molasses' });
  const failed = historyRow(row, { failed: true, actualWeight: 10 }, 2000);
  assert.equal(failed.state, 'held');
  assert.equal(failed.next_attempt_at, null);
  assert.deepEqual(failed.consumption, { silo101: 500, silo103: 65, lq114: 40 }, 'without read-back figures, the plan');
  assert.equal(equipmentCode(115), 'lq115');
});

test('finished weight: the PLC weight, else what was drawn, else the plan', () => {
  const h = historyRow(row, { failed: false, actualWeight: 604.5 }, 2000);
  assert.equal(finishedQty(h), 604.5);
  assert.equal(finishedQty({ ...h, actual_weight_quantity_finished_goods: 0 }), 605);
  assert.equal(finishedQty({ ...h, actual_weight_quantity_finished_goods: null, consumption: {} }), 605);
});

test('a leftover PLC block is recorded held, with its consumption by equipment code', () => {
  const h = orphanRow({ batchNo: 2, moId: 'WH/MO/00009', bomCode: '', finishedGoods: 'Feed', quantity: 70, consumption: { 101: 50, 114: 20 } }, { failed: false, actualWeight: 70 }, 3000);
  assert.equal(h.key, 'WH/MO/00009@plc#2');
  assert.equal(h.state, 'held');
  assert.deepEqual(h.consumption, { silo101: 50, lq114: 20 });
  assert.match(String(h.last_error), /queue row was cleared/);
  assert.equal(odooDateTime(Date.UTC(2026, 0, 2, 3, 4, 5)), '2026-01-02 03:04:05');
});
