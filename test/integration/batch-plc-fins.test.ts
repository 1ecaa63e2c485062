// The batch-plc plugin in a real runtime against the CJ2M simulator over FINS/UDP loopback, working
// an in-memory mo_batch queue: batches land in D memory at D7000 + 100(n-1), are mixed, come back
// finished (markFinished, acknowledge, remove); a PLC outage is one warning, backoff and recovery;
// a leftover block of a cleared queue is acknowledged; queue trouble never reads as PLC trouble.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import finsAdapter from '../../adapters/fins/adapter.ts';
import batchPlcPlugin from '../../plugins/batch-plc/plugin.ts';
import type { Cj2mSimulator } from '../../sim/cj2m.ts';
import { moBatchService, type MoBatchRepository, type MoBatchRow, type NewMoBatch } from '../../plugins/odoo-sync/batch-repo.ts';
import { decodeBatch, encodeBatch, OFFSET } from '../../plugins/odoo-sync/plc-layout.ts';
import { eventually } from '../helpers/eventually.ts';

const SILOS = { a: 101, b: 102, c: 103, d: 104, e: 105, f: 106, g: 107, h: 108, i: 109, j: 110, k: 111, l: 112, m: 113 };

/** The queue contract in memory, with a switch to make it fail like a database that went away. */
class MemoryQueue implements MoBatchRepository {
  readonly description = 'mo_batch in test memory';
  rows: MoBatchRow[] = [];
  finished: Array<{ batchNo: number; moId: string; failed: boolean; actualWeight: number | null }> = [];
  down = false;
  #check(): void {
    if (this.down) throw new Error('connection refused (test queue down)');
  }
  async init() {}
  async count() {
    this.#check();
    return this.rows.length;
  }
  async list() {
    this.#check();
    return this.rows.map((r) => structuredClone(r));
  }
  async get(n: number) {
    return this.rows.find((r) => r.batch_no === n);
  }
  async upsert(rows: NewMoBatch[]) {
    this.#check();
    let inserted = 0;
    for (const r of rows) {
      const next = Math.max(0, ...this.rows.map((x) => x.batch_no)) + 1;
      this.rows.push({ ...r, batch_no: next, status_manufacturing: false, status_operation: false, actual_weight_quantity_finished_goods: null, created_at: 0, updated_at: 0 });
      inserted++;
    }
    return { inserted, updated: 0 };
  }
  async markFinished(n: number, result: { failed: boolean; actualWeight: number | null }) {
    this.#check();
    const row = this.rows.find((r) => r.batch_no === n)!;
    Object.assign(row, { status_manufacturing: true, status_operation: result.failed, actual_weight_quantity_finished_goods: result.actualWeight });
    this.finished.push({ batchNo: n, moId: row.mo_id, ...result });
  }
  async remove(n: number) {
    this.#check();
    this.rows = this.rows.filter((r) => r.batch_no !== n);
  }
  async clear() {
    const n = this.rows.length;
    this.rows = [];
    return n;
  }
  async close() {}
}

function mo(id: string, kg: Partial<Record<keyof typeof SILOS, number>>): NewMoBatch {
  const total = Object.values(kg).reduce((s, v) => s + (v ?? 0), 0);
  return { mo_id: id, consumption: total, equipment_id_batch: 'MIXER1', finished_goods: 'Broiler Starter', bom_code: 'BOM-BS-01', silos: { ...SILOS }, component_names: {}, consumptions: kg };
}

interface Lab {
  runtime: Runtime;
  plc: Cj2mSimulator;
  queue: MemoryQueue;
  lines: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startLab(mixingMs = 150): Promise<Lab> {
  const { root, lines } = memoryLog('info');
  const { manifest } = parseManifest(JSON.stringify({
    name: 'batch-plc-test',
    log: { level: 'info' },
    supervisor: { initialBackoffMs: 100, maxBackoffMs: 1000, jitter: 0 },
    adapters: [{ id: 'cj2m', kind: 'fins', driver: 'sim', options: { timeoutMs: 200, retries: 0, sim: { mixingMs } } }],
    plugins: [{
      id: 'link',
      use: 'batch-plc',
      adapters: { fins: 'cj2m' },
      config: { queue: 'erp-sync', pollMs: 50, staleAfterS: 1, circuit: { failureThreshold: 3, openMs: 300 }, backoff: { initialMs: 50, maxMs: 200 } },
    }],
  }), 'test.json', { plugins: [batchPlcPlugin], adapters: [finsAdapter], env: {} });
  const runtime = await createRuntime({ manifest, plugins: [batchPlcPlugin], adapters: [finsAdapter], logRoot: root, dataDir: null, sim: true });
  const queue = new MemoryQueue();
  runtime.services.provide('test', moBatchService('erp-sync'), queue);
  await runtime.start();
  const plc = runtime.world.require<Cj2mSimulator>('sim:cj2m');
  return { runtime, plc, queue, lines, stop: () => runtime.stop() };
}

test('queued batches are written to D memory, mixed, marked finished, acknowledged and removed', async () => {
  const lab = await startLab(300);
  try {
    const { runtime, plc, queue } = lab;
    await eventually('plc_connected', 3000, () => runtime.store.get('plc_connected') === true);
    assert.equal(runtime.store.get('batches_on_plc'), 0);
    await queue.upsert([mo('WH/MO/00001', { a: 60, c: 25.5 }), mo('WH/MO/00002', { b: 10, m: 0.25 }), mo('WH/MO/00003', { k: 80 })]);

    // All three are loaded: batch n at D7000 + 100(n-1), as the layout encodes it.
    await eventually('three batches on the PLC', 3000, () => runtime.store.get('batches_on_plc') === 3);
    const second = decodeBatch(plc.read('DM', 7100, 77));
    assert.equal(second.batchNo, 2);
    assert.equal(second.moId, 'WH/MO/00002');
    assert.equal(second.bomCode, 'BOM-BS-01');
    assert.equal(second.quantity, 10.25);
    assert.deepEqual(second.consumption, { 102: 10, 113: 0.25 });
    assert.equal(plc.read('DM', 7200 + OFFSET.silos + 3 * 10, 1)[0], 111, 'silo K sits in place 111');
    assert.equal(decodeBatch(plc.read('DM', 7200, 77)).consumption[111], 80);

    // Mixed one at a time, handed back and removed; the blocks are cleared by the acknowledge.
    await eventually('the queue worked through', 5000, () => queue.rows.length === 0 && runtime.store.get('batches_on_plc') === 0);
    assert.deepEqual(queue.finished.map((f) => [f.batchNo, f.moId, f.failed, f.actualWeight]), [
      [1, 'WH/MO/00001', false, 85.5],
      [2, 'WH/MO/00002', false, 10.25],
      [3, 'WH/MO/00003', false, 80],
    ]);
    for (const base of [7000, 7100, 7200]) assert.ok(plc.read('DM', base, 77).every((w) => w === 0), `D${base} block cleared`);
    assert.equal(runtime.health.report().heartbeats.plc_last_ok_ts.stale, false);
  } finally {
    await lab.stop();
  }
});

test('a failed batch is recorded as failed; a leftover block of a cleared queue is acknowledged and reused', async () => {
  const lab = await startLab(60_000);
  try {
    const { runtime, plc, queue } = lab;
    // Slot 1 holds a finished batch of an MO no longer queued (the queue was cleared meanwhile).
    const old = encodeBatch({ batchNo: 1, moId: 'WH/MO/00099', bomCode: '', finishedGoods: '', quantity: 5, consumption: { 101: 5 } });
    old[OFFSET.statusManufacturing] = 1;
    plc.write('DM', 7000, old);
    await queue.upsert([mo('WH/MO/00010', { d: 12 })]);
    await eventually('batch 1 loaded over the leftover', 3000, () => decodeBatch(plc.read('DM', 7000, 77)).moId === 'WH/MO/00010');
    assert.ok(lab.lines.some((l) => l.level === 'warn' && /WH\/MO\/00099.*no longer queued/.test(String(l.msg))));
    await eventually('mixing batch 1', 3000, () => plc.mixing === 1);
    plc.forceDone(1, { failed: true });
    await eventually('batch 1 handed back', 3000, () => queue.rows.length === 0);
    assert.deepEqual(queue.finished.map((f) => [f.moId, f.failed]), [['WH/MO/00010', true]]);
    assert.equal(runtime.store.get('batches_on_plc'), 0);
  } finally {
    await lab.stop();
  }
});

test('a restart with a block still mixing after the queue was cleared: the MO is not loaded into a second block', async () => {
  const lab = await startLab(60_000);
  try {
    const { runtime, plc, queue, lines } = lab;
    await queue.upsert([mo('WH/MO/00030', { a: 40 })]);
    await eventually('batch 1 mixing', 3000, () => plc.mixing === 1);
    await queue.clear();
    // The gateway restarts: a new link, which has not loaded anything itself.
    const restarts = runtime.supervisor.status('link').restarts;
    runtime.supervisor.fail('link', new Error('test: gateway restart'));
    await eventually('link restarted', 5000, () => runtime.supervisor.status('link').restarts > restarts && runtime.supervisor.status('link').status === 'running');
    // Queued again behind another MO: WH/MO/00030 now has slot 2, its old block 1 still mixes it.
    await queue.upsert([mo('WH/MO/00031', { b: 10 }), mo('WH/MO/00030', { a: 40 })]);
    await eventually('the link refuses to load it twice', 3000, () => lines.some((l) => /WH\/MO\/00030 \(batch 2\) is still on the PLC as batch 1/.test(String(l.msg))));
    assert.equal(plc.read('DM', 7100, 1)[0], 0, 'block 2 stays empty');
    plc.forceDone(1);
    await eventually('its result counts for batch 2', 3000, () => queue.finished.some((f) => f.moId === 'WH/MO/00030'));
    assert.deepEqual(queue.finished.map((f) => [f.batchNo, f.moId]), [[2, 'WH/MO/00030']]);
    assert.notEqual(decodeBatch(plc.read('DM', 7100, 77)).moId, 'WH/MO/00030', 'never loaded into block 2');
  } finally {
    await lab.stop();
  }
});

test('PLC off the network: one warning, plc_connected false, batches wait; then loaded on recovery', async () => {
  const lab = await startLab();
  try {
    const { runtime, plc, queue, lines } = lab;
    await eventually('plc_connected', 3000, () => runtime.store.get('plc_connected') === true);
    const before = lines.length;
    await plc.stop();
    await eventually('plc_connected false', 3000, () => runtime.store.get('plc_connected') === false);
    await queue.upsert([mo('WH/MO/00020', { e: 30 })]);
    await eventually('heartbeat stale', 4000, () => runtime.health.report().heartbeats.plc_last_ok_ts?.stale);
    const warns = lines.slice(before).filter((l) => l.level === 'warn');
    assert.ok(warns.length >= 1 && warns.length <= 2, `one outage warning (+ circuit open), got ${warns.map((w) => w.msg).join(' | ')}`);
    assert.deepEqual([...new Set(warns.map((l) => l.ns))], ['plugin:link']);
    assert.equal(runtime.supervisor.status('link').status, 'running', 'the link never exits on PLC errors');
    assert.equal(queue.rows.length, 1, 'the batch waits in the queue');

    await plc.start();
    await eventually('batch loaded after recovery', 5000, () => decodeBatch(plc.read('DM', 7000, 77)).moId === 'WH/MO/00020');
    assert.equal(runtime.store.get('plc_connected'), true);
    assert.ok(lines.slice(before).some((l) => /answering again/.test(String(l.msg))));
  } finally {
    await lab.stop();
  }
});

test('queue trouble is logged once and is not a PLC outage', async () => {
  const lab = await startLab();
  try {
    const { runtime, queue, lines } = lab;
    await eventually('plc_connected', 3000, () => runtime.store.get('plc_connected') === true);
    const before = lines.length;
    queue.down = true;
    await eventually('queue warning', 3000, () => lines.slice(before).some((l) => /mo_batch queue: listing the queue failed/.test(String(l.msg))));
    await eventually('health check names the queue', 3000, () => {
      const check = runtime.health.report().checks['batch-plc:link'];
      return check && !check.ok && /listing the queue failed/.test(check.detail ?? '');
    });
    assert.equal(runtime.store.get('plc_connected'), true, 'the PLC is still connected');
    assert.equal(lines.slice(before).filter((l) => /listing the queue failed/.test(String(l.msg))).length, 1, 'logged once');
    queue.down = false;
    await eventually('queue back', 3000, () => lines.slice(before).some((l) => /is back/.test(String(l.msg))));
  } finally {
    await lab.stop();
  }
});
