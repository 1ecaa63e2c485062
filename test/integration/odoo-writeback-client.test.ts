// The write-back calls of the real Odoo client against the simulator over loopback: grt_scada's
// update-with-consumptions + mark-done, the ORM fallback (stock.move / mrp.production write,
// button_mark_done) when those routes are missing, the idempotency guard after a lost reply, an MO
// Odoo no longer accepts, and the size limit on replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OdooJsonRpcClient } from '../../adapters/odoo/client.ts';
import { OdooError } from '../../adapters/odoo/errors.ts';
import type { WriteBackRequest } from '../../adapters/odoo/write-back.ts';
import { memoryLog } from '../../core/log.ts';
import { OdooSimulator } from '../../sim/odoo.ts';
import { component, makeMo, silo } from '../../sim/odoo-data.ts';

async function rig(options: { maxReplyBytes?: number } = {}) {
  const sim = new OdooSimulator();
  sim.replaceMos([makeMo(1, { name: 'WH/MO/00801', state: 'confirmed', start: '2025-08-01T07:00:00', product: 'Pakan', quantity: 300, components: [component(201, 200, silo(101)), component(202, 100, silo(102), { consumed: 5 })] }).mo]);
  const url = await sim.start();
  const { root, lines } = memoryLog('debug');
  const client = new OdooJsonRpcClient({ baseUrl: url, db: 'fieldgate', username: 'admin', password: 'admin', timeoutMs: 2000, log: root.logger('odoo'), ...options });
  return {
    sim, client, lines,
    async [Symbol.asyncDispose]() {
      await client.close();
      await sim.close();
    },
  };
}

function request(overrides: Partial<WriteBackRequest> = {}): WriteBackRequest & { baselines: number[] } {
  const baselines: number[] = [];
  return {
    moId: 'WH/MO/00801', consumption: { silo101: 198.5, silo102: 101.25 },
    components: { silo101: 'Jagung Giling (ground corn)', silo102: 'Bungkil Kedelai (soybean meal)' },
    finishedQty: 299.75, equipmentId: 'PLC01', finishedAt: Date.UTC(2026, 0, 1, 8), baseline: null,
    async beforeConsume(b) {
      baselines.push(b);
    },
    baselines,
    ...overrides,
  };
}

const posted = (sim: OdooSimulator) => sim.requests.filter((r) => r.path !== '/web/session/authenticate').map((r) => r.path.replace('/web/dataset/call_kw/', ''));

test('grt_scada routes: consumption by equipment code, then mark-done; the MO leaves the open list', async () => {
  await using r = await rig();
  const req = request();
  const result = await r.client.writeBack(req);
  assert.deepEqual(result, { route: 'custom', alreadyDone: false, consumptionSkipped: false, warnings: [] });
  assert.deepEqual(posted(r.sim), [
    'mrp.production/search_read', 'stock.move/search_read', '/api/scada/mo/update-with-consumptions', '/api/scada/mo/mark-done', 'mrp.production/search_read',
  ]);
  const consume = r.sim.requests.find((q) => q.path === '/api/scada/mo/update-with-consumptions')!.params;
  assert.deepEqual(consume, { mo_id: 'WH/MO/00801', quantity: 299.75, silo101: 198.5, silo102: 101.25 });
  const done = r.sim.requests.find((q) => q.path === '/api/scada/mo/mark-done')!.params;
  assert.deepEqual(done, { mo_id: 'WH/MO/00801', finished_qty: 299.75, auto_consume: false, date_end_actual: '2026-01-01 08:00:00', equipment_id: 'PLC01' });
  assert.deepEqual(req.baselines, [5], 'baseline = what Odoo showed consumed before');
  assert.equal(r.sim.mos[0].state, 'done');
  assert.equal((await r.client.fetchManufacturingOrders()).mos.length, 0);
});

test('without the grt_scada write routes: stock.move quantity_done, qty_producing, button_mark_done through call_kw', async () => {
  await using r = await rig();
  r.sim.customWrites = false;
  const result = await r.client.writeBack(request());
  assert.equal(result.route, 'orm');
  assert.deepEqual(posted(r.sim).filter((p) => !p.startsWith('/api')), [
    'mrp.production/search_read', 'stock.move/search_read', 'stock.move/write', 'stock.move/write', 'mrp.production/write', 'mrp.production/button_mark_done', 'mrp.production/search_read',
  ]);
  const mark = r.sim.requests.find((q) => q.path.endsWith('/button_mark_done'))!.params as { args: unknown; kwargs: unknown };
  assert.deepEqual(mark.args, [[1]]);
  assert.deepEqual(mark.kwargs, { context: { skip_backorder: true, skip_consumption: true, skip_immediate: true } });
  assert.deepEqual(r.sim.mos[0].components_consumption.map((c) => c.consumed), [198.5, 101.25], 'quantity_done set, not added');
  assert.equal(r.sim.mos[0].produced_qty, 299.75);
  assert.equal(r.sim.mos[0].state, 'done');
  assert.ok(r.lines.some((l) => /update-with-consumptions not found/.test(String(l.msg))), 'the switch to the ORM is logged');
});

test('a retry after a lost reply does not send the consumption again; an MO already done is confirmed as is', async () => {
  await using r = await rig();
  Object.assign(r.sim.faults, { only: '/api/scada/mo/update-with-consumptions', loseReplyNext: 1 });
  const first = request();
  await assert.rejects(r.client.writeBack(first), (err: unknown) => err instanceof OdooError && err.transient);
  assert.deepEqual(r.sim.mos[0].components_consumption.map((c) => c.consumed), [198.5, 106.25], 'applied once, reply lost');
  const retry = await r.client.writeBack(request({ baseline: first.baselines[0] }));
  assert.deepEqual({ skipped: retry.consumptionSkipped, done: retry.alreadyDone }, { skipped: true, done: false });
  assert.deepEqual(r.sim.mos[0].components_consumption.map((c) => c.consumed), [198.5, 106.25], 'not doubled');
  const again = await r.client.writeBack(request({ baseline: first.baselines[0] }));
  assert.equal(again.alreadyDone, true);
  assert.deepEqual(r.sim.writes.map((w) => w.kind), ['consume', 'done']);
});

test('an MO missing or cancelled in Odoo is refused for good (kind app), naming the MO', async () => {
  await using r = await rig();
  await assert.rejects(r.client.writeBack(request({ moId: 'WH/MO/09999' })), (err: unknown) => err instanceof OdooError && err.kind === 'app' && /WH\/MO\/09999 not found/.test(err.message));
  r.sim.setMoState('WH/MO/00801', 'cancel');
  await assert.rejects(r.client.writeBack(request()), (err: unknown) => err instanceof OdooError && err.kind === 'app' && /"cancel"/.test(err.message));
  assert.deepEqual(r.sim.writes, []);
});

test('a reply over maxReplyBytes is refused before it is read in full', async () => {
  await using r = await rig({ maxReplyBytes: 2000 });
  r.sim.replaceMos(Array.from({ length: 30 }, (_, i) => makeMo(i + 1, { name: `WH/MO/${String(i + 1).padStart(5, '0')}`, state: 'confirmed', start: false, product: 'Pakan', quantity: 10, components: [component(201, 10, silo(101))] }).mo));
  await assert.rejects(r.client.fetchManufacturingOrders({ limit: 30 }), (err: unknown) => err instanceof OdooError && err.kind === 'protocol' && /more than 2000 bytes/.test(err.message));
});

test('without the grt_scada routes, a connection dropped after the first stock.move write: the retry writes every silo again', async () => {
  for (const restart of [false, true]) {
    await using r = await rig();
    r.sim.customWrites = false;
    Object.assign(r.sim.faults, { only: '/web/dataset/call_kw/stock.move/write', loseReplyNext: 1 });
    const first = request();
    await assert.rejects(r.client.writeBack(first), (err: unknown) => err instanceof OdooError && err.transient);
    assert.deepEqual(r.sim.mos[0].components_consumption.map((c) => c.consumed), [198.5, 5], 'only the first move written');
    // restart: a new client, which does not know yet that the routes are missing.
    const client = restart ? new OdooJsonRpcClient({ baseUrl: r.sim.url, db: 'fieldgate', username: 'admin', password: 'admin', timeoutMs: 2000 }) : r.client;
    try {
      const retry = await client.writeBack(request({ baseline: first.baselines[0] }));
      assert.deepEqual({ route: retry.route, skipped: retry.consumptionSkipped, done: retry.alreadyDone }, { route: 'orm', skipped: false, done: false }, `restart ${restart}`);
      assert.deepEqual(r.sim.mos[0].components_consumption.map((c) => c.consumed), [198.5, 101.25], `every silo written (restart ${restart})`);
      assert.equal(r.sim.mos[0].state, 'done');
    } finally {
      if (restart) await client.close();
    }
  }
});
