// odoo-sync in a real runtime: the Odoo simulator over loopback, an in-memory store and the
// http-api serving the admin/SCADA routes. Asserts on the queue rows, the API answers and the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog, type LogFields } from '../../core/log.ts';
import odooAdapter from '../../adapters/odoo/adapter.ts';
import httpApi from '../../plugins/http-api/plugin.ts';
import odooSync from '../../plugins/odoo-sync/plugin.ts';
import type { MoBatchRepository } from '../../plugins/odoo-sync/batch-repo.ts';
import { moBatchService } from '../../plugins/odoo-sync/batch-repo.ts';
import type { OdooSimulator } from '../../sim/odoo.ts';
import { testManifest } from '../helpers/manifest.ts';
import { eventually } from '../helpers/eventually.ts';

const KEY = 'odoo-test-key-0123';

// JSON answers are checked field by field; a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

interface Line {
  runtime: Runtime;
  odoo: OdooSimulator;
  lines: LogFields[];
  get(path: string, key?: boolean): Promise<{ status: number; body: Json }>;
  post(path: string, key?: boolean): Promise<{ status: number; body: Json }>;
  logged(re: RegExp, level?: string): LogFields[];
  stop(): Promise<void>;
}

async function startLine(config: Record<string, unknown> = {}, sim: Record<string, unknown> = {}): Promise<Line> {
  const { root, lines } = memoryLog('debug');
  const manifest = testManifest([
    { id: 'sync', use: 'odoo-sync', adapters: { erp: 'erp' }, config: { enabled: false, intervalMs: 100, backoff: { initialMs: 50, maxMs: 200 }, ...config } },
    { id: 'api', use: 'http-api', config: { port: 0, apiKey: KEY, docs: false } },
  ], { adapters: [{ id: 'erp', kind: 'odoo', driver: 'sim', options: { timeoutMs: 1000, sim: { moCount: 5, ...sim } } }] });
  const runtime = await createRuntime({ manifest, plugins: [odooSync, httpApi], adapters: [odooAdapter], logRoot: root, dataDir: null, sim: true });
  await runtime.start();
  for (const id of ['sync', 'api']) {
    const s = runtime.supervisor.status(id);
    if (s.status !== 'running') {
      await runtime.stop();
      throw new Error(`${id} did not start: ${s.status} ${s.lastError}`);
    }
  }
  const base = runtime.routes.address!;
  const call = async (method: string, path: string, key = true) => {
    const res = await fetch(base + path, { method, headers: key ? { 'x-api-key': KEY } : {} });
    return { status: res.status, body: (await res.json()) as Json };
  };
  return {
    runtime,
    odoo: runtime.world.require<OdooSimulator>('sim:erp'),
    lines,
    get: (path, key) => call('GET', path, key),
    post: (path, key) => call('POST', path, key),
    logged: (re, level) => lines.filter((l) => l.ns !== undefined && re.test(String(l.msg)) && (!level || l.level === level)),
    stop: () => runtime.stop(),
  };
}

const serviceRepo = (line: Line) => line.runtime.services.require<MoBatchRepository>(moBatchService('sync'));

test('the schedule fills the queue with the right silos, then waits for the PLC (said once)', async () => {
  const line = await startLine({ enabled: true });
  try {
    const { store, bus } = line.runtime;
    await eventually('5 batches queued', 3000, () => store.get('mo_batch_count') === 5);
    const rows = await serviceRepo(line).list();
    assert.deepEqual(rows.map((r) => r.batch_no), [1, 2, 3, 4, 5]);
    const mo1 = rows.find((r) => r.mo_id === 'WH/MO/00001')!;
    assert.deepEqual(mo1.consumptions, { a: 500, c: 220, h: 85.5, k: 80, m: 5 });
    const mo3 = rows.find((r) => r.mo_id === 'WH/MO/00003')!;
    assert.deepEqual(mo3.consumptions, { g: 300 });
    assert.equal(store.get('erp_connected'), true);
    assert.ok(line.logged(/fetched 5 MO\(s\) from custom-endpoint: 5 queued, 0 updated/, 'info').length === 1);
    assert.ok(line.logged(/WH\/MO\/00003: component "Garam \(salt\)".*120/, 'warn').length === 1);
    // Later ticks only probe the link (limit 1) and log the wait once.
    const probes = () => line.odoo.requests.filter((r) => (r.params as { limit?: number })?.limit === 1).length;
    await eventually('three more ticks', 3000, () => probes() >= 3);
    assert.equal(line.logged(/^queue has 5 batch\(es\); waiting for the PLC$/).length, 1);
    assert.equal(await serviceRepo(line).count(), 5);
    // A queue change from the consumer side (the PLC link removing a finished batch) is published.
    const seen: unknown[] = [];
    bus.subscribe('erp/batch', (p) => {
      seen.push(p);
    });
    await serviceRepo(line).remove(1);
    assert.equal(store.get('mo_batch_count'), 4);
    assert.deepEqual((seen[0] as { value: unknown }).value, { count: 4, change: 'remove', batchNo: 1 });
  } finally {
    await line.stop();
  }
});

test('trigger-sync runs when empty, is skipped while not, clear-mo-batch empties; batch-status and the panel show the queue', async () => {
  const line = await startLine();
  try {
    assert.equal((await line.post('/api/admin/trigger-sync', false)).status, 401);
    const first = await line.post('/api/admin/trigger-sync');
    assert.equal(first.status, 200);
    assert.equal(first.body.status, 'success');
    assert.equal(first.body.data.inserted, 5);
    assert.equal(first.body.data.warnings.length, 6, first.body.data.warnings.join('\n'));
    const again = await line.post('/api/admin/trigger-sync');
    assert.deepEqual([again.status, again.body.status, again.body.message], [200, 'skipped', 'queue has 5 batch(es); waiting for the PLC']);
    const status = await line.get('/api/admin/batch-status');
    assert.equal(status.body.status, 'success');
    assert.equal(status.body.data.total_batches, 5);
    assert.equal(status.body.data.batches[0].batch_no, 1);
    assert.equal(status.body.data.queue_empty, false);
    const panel = await line.get('/api/dashboard', false);
    assert.ok(panel.body.panels.some((p: { source: string }) => p.source === '/api/admin/batch-queue'));
    const queue = await line.get('/api/admin/batch-queue');
    assert.equal(queue.body.length, 5);
    assert.match(queue.body.find((r: { mo_id: string }) => r.mo_id === 'WH/MO/00001').silos, /^A\(101\) 500, C\(103\) 220/);
    const cleared = await line.post('/api/admin/clear-mo-batch');
    assert.deepEqual([cleared.status, cleared.body.data.cleared], [200, 5]);
    assert.equal(line.runtime.store.get('mo_batch_count'), 0);
    const third = await line.post('/api/admin/trigger-sync');
    assert.deepEqual([third.body.status, third.body.data.inserted, third.body.data.queue], ['success', 5, 5]);
    // batch_no starts again at 1 after the queue was emptied.
    assert.deepEqual((await serviceRepo(line).list()).map((r) => r.batch_no), [1, 2, 3, 4, 5]);
  } finally {
    await line.stop();
  }
});

test('a session expiring in the middle of a sync is recovered', async () => {
  const line = await startLine();
  try {
    assert.equal((await line.post('/api/scada/authenticate')).body.status, 'success');
    line.odoo.faults.expireNext = 1;
    const r = await line.post('/api/admin/trigger-sync');
    assert.equal(r.body.status, 'success', r.body.message);
    assert.equal(r.body.data.inserted, 5);
    assert.ok(line.odoo.requests.some((q) => q.outcome === 'error 100'), JSON.stringify(line.odoo.requests.map((q) => q.outcome)));
  } finally {
    await line.stop();
  }
});

test('Odoo down: backoff with one warning, the API still answers, erp_last_ok_ts goes stale; then recovery', async () => {
  const line = await startLine({ enabled: true, staleAfterS: 0.3 });
  try {
    const { store } = line.runtime;
    await eventually('the first sync', 3000, () => store.get('mo_batch_count') === 5);
    await line.odoo.setDown(true);
    await eventually('erp_connected false', 3000, () => store.get('erp_connected') === false);
    const h = await eventually('3 failed attempts and a stale heartbeat', 5000, async () => {
      const r = await line.get('/api/health');
      return r.body.data.erp.consecutiveFailures >= 3 && r.body.data.erp.stale && r.body;
    });
    assert.equal(h.status, 'success');
    assert.equal(h.data.healthy, false);
    assert.equal(h.data.queue.count, 5);
    assert.match(h.message, /^degraded: /);
    assert.equal(line.runtime.health.report().heartbeats.erp_last_ok_ts!.stale, true);
    assert.equal(line.logged(/^Odoo unreachable: /, 'warn').length, 1, 'one warning per outage');
    const auth = await line.post('/api/scada/authenticate');
    assert.equal(auth.status, 502);
    assert.equal(auth.body.status, 'error');
    assert.equal(line.runtime.supervisor.status('sync').status, 'running');
    await line.odoo.setDown(false);
    await eventually('erp_connected again', 3000, () => store.get('erp_connected') === true);
    assert.equal(line.logged(/answers again after \d+ failed attempt/, 'info').length, 1);
  } finally {
    await line.stop();
  }
});

test('mo-list-detailed: limit 1..200 (400 with the reason, table intact), passes through', async () => {
  const line = await startLine();
  try {
    await line.post('/api/admin/trigger-sync');
    const before = await serviceRepo(line).list();
    for (const limit of [201, 0]) {
      const r = await line.post(`/api/scada/mo-list-detailed?limit=${limit}`);
      assert.equal(r.status, 400);
      assert.equal(r.body.status, 'error');
      assert.match(r.body.message, new RegExp(`limit must be between 1 and 200, got ${limit}`));
    }
    assert.deepEqual(await serviceRepo(line).list(), before);
    const ok = await line.post('/api/scada/mo-list-detailed?limit=3&offset=1');
    assert.deepEqual([ok.status, ok.body.status, ok.body.count, ok.body.data.length], [200, 'success', 3, 3]);
    assert.equal(ok.body.data[0].equipment.code, 'PLC01');
  } finally {
    await line.stop();
  }
});

test('a duplicate mo_id in one fetch is queued once', async () => {
  const line = await startLine();
  try {
    const mo = line.odoo.mos[0]!;
    // The copy is planned later, so Odoo lists it second: the first listed is kept.
    line.odoo.replaceMos([mo, { ...mo, product_name: 'copy', schedule_start: '2025-03-09T07:00:00' }, line.odoo.mos[1]!]);
    const r = await line.post('/api/admin/trigger-sync');
    assert.equal(r.body.data.inserted, 2);
    assert.ok(r.body.data.warnings.includes(`${mo.mo_id}: listed twice in one fetch; the first one is kept`));
    const rows = await serviceRepo(line).list();
    assert.deepEqual(rows.map((x) => x.mo_id).sort(), [mo.mo_id, line.odoo.mos[2]!.mo_id].sort());
    assert.ok(rows.every((x) => x.finished_goods !== 'copy'));
  } finally {
    await line.stop();
  }
});
