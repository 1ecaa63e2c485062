// The REST routes against a real server on loopback: happy paths, all-or-nothing commands, auth,
// rate limit and the audit log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEY, startApi, type Api } from './http-fixture.ts';
import { keyId } from '../../plugins/http-api/auth.ts';

const auth = { 'x-api-key': API_KEY };

describe('http-api REST routes', () => {
  let api: Api;
  before(async () => {
    api = await startApi();
    await api.runtime.store.setMany({ pv: 21.5, setpoint: 40, power_on_requested: false }, { durable: true });
    await api.runtime.store.logTrend({ ts: 1000, pv: 20, sp: 40, mv: 10 });
    await api.runtime.store.logTrend({ ts: 1001, pv: 21, sp: 40, mv: 12 });
    await api.runtime.store.logTrend({ ts: 1002, pv: 22, sp: 40, mv: 14 });
  });
  after(() => api.stop());

  test('GET /api/state returns every key, or only ?keys=', async () => {
    const all = (await (await api.get('/api/state')).json()) as Record<string, unknown>;
    assert.equal(all.pv, 21.5);
    assert.equal(all.setpoint, 40);
    const some = await (await api.get('/api/state?keys=pv,missing')).json();
    assert.deepEqual(some, { pv: 21.5 });
    const detail = (await (await api.get('/api/state?keys=pv&detail=true')).json()) as Record<string, { value: number; updatedAt: number }>;
    assert.equal(detail.pv!.value, 21.5);
    assert.equal(typeof detail.pv!.updatedAt, 'number');
  });

  test('GET /api/trend is bounded and honours from/to', async () => {
    const rows = (await (await api.get('/api/trend?limit=2')).json()) as Array<{ ts: number }>;
    assert.deepEqual(rows.map((r) => r.ts), [1001, 1002]);
    const ranged = (await (await api.get('/api/trend?from=1000&to=1001')).json()) as Array<{ ts: number }>;
    assert.deepEqual(ranged.map((r) => r.ts), [1000, 1001]);
    for (const bad of ['limit=0', 'limit=10001', 'limit=abc']) {
      const r = await api.get(`/api/trend?${bad}`);
      assert.equal(r.status, 400, bad);
      const body = (await r.json()) as { fields: Record<string, string> };
      assert.ok(body.fields.limit, `${bad}: ${JSON.stringify(body)}`);
    }
  });

  // The in-memory store (no data dir) reports durable:false by design; 200 still, see docs/http-api.md.
  test('POST /api/command writes every key and audits each change', async () => {
    const r = await api.post('/api/command', { setpoint: 55.5, power_on_requested: true }, auth);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ok: true, durable: false, written: { setpoint: 55.5, power_on_requested: true } });
    assert.deepEqual(await (await api.get('/api/state?keys=setpoint,power_on_requested')).json(), { setpoint: 55.5, power_on_requested: true });
    const rows = (await (await api.get('/api/audit?limit=10')).json()) as Array<Record<string, unknown>>;
    const byKey = Object.fromEntries(rows.map((row) => [row.key, row]));
    assert.equal(byKey.setpoint!.old, 40);
    assert.equal(byKey.setpoint!.new, 55.5);
    assert.equal(byKey.power_on_requested!.old, false);
    assert.equal(byKey.power_on_requested!.new, true);
    assert.equal(byKey.setpoint!.keyId, keyId(API_KEY));
    assert.equal(byKey.setpoint!.client, '127.0.0.1');
    assert.equal(byKey.setpoint!.route, 'POST /api/command');
    assert.ok(!JSON.stringify(rows).includes(API_KEY), 'the key itself is never stored');
  });

  test('an invalid command is refused as a whole, naming every bad field, and nothing is written', async () => {
    const before = await (await api.get('/api/state')).json();
    const auditBefore = ((await (await api.get('/api/audit')).json()) as unknown[]).length;
    const r = await api.post('/api/command', { setpoint: 500, power_on_requested: 'yes', pid_kp: 2, bogus: 1 }, auth);
    assert.equal(r.status, 400);
    const body = (await r.json()) as { fields: Record<string, string> };
    assert.deepEqual(Object.keys(body.fields).sort(), ['bogus', 'power_on_requested', 'setpoint']);
    assert.match(body.fields.setpoint!, /<= 120/);
    assert.match(body.fields.power_on_requested!, /boolean/);
    assert.match(body.fields.bogus!, /unknown key/);
    for (const bad of ['[1,2]', '{}', '"text"', 'null']) {
      const res = await api.post('/api/command', bad, auth);
      assert.equal(res.status, 400, bad);
    }
    assert.deepEqual(await (await api.get('/api/state')).json(), before);
    assert.equal(((await (await api.get('/api/audit')).json()) as unknown[]).length, auditBefore);
  });

  test('malformed JSON is 400 and an oversized body 413, nothing written', async () => {
    const before = await (await api.get('/api/state')).json();
    const malformed = await api.post('/api/command', '{"setpoint": 12,', auth);
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error: string }).error, 'malformed JSON');
    const huge = await api.post('/api/command', { setpoint: 1, pad: 'x'.repeat(20_000) }, auth);
    assert.equal(huge.status, 413);
    assert.deepEqual(await (await api.get('/api/state')).json(), before);
  });

  test('writes without the key, or with a wrong one, are 401 and write nothing', async () => {
    const before = await (await api.get('/api/state')).json();
    for (const headers of [{} as Record<string, string>, { 'x-api-key': 'wrong' }, { 'x-api-key': API_KEY + 'x' }, { 'x-api-key': '' }]) {
      const r = await api.post('/api/command', { setpoint: 1 }, headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
    }
    assert.deepEqual(await (await api.get('/api/state')).json(), before);
  });

  test('GET /health answers 200 with heartbeats, plugins and store; strict gives 503 when degraded', async () => {
    api.runtime.health.watch({ key: 'sensor_last_ts', maxAgeS: 5 });
    const r = await api.get('/health');
    assert.equal(r.status, 200);
    const h = (await r.json()) as { status: string; heartbeats: Record<string, { stale: boolean; ageS: number | null }>; plugins: Record<string, { status: string }>; store: { mode: string } };
    assert.equal(h.status, 'degraded');
    assert.equal(h.heartbeats.sensor_last_ts!.stale, true);
    assert.equal(h.heartbeats.sensor_last_ts!.ageS, null);
    assert.equal(h.plugins.api!.status, 'running');
    assert.equal(h.store.mode, 'memory');
    assert.equal((await api.get('/health?strict=true')).status, 503);
  });

  test('GET /metrics has request counts and durations by route and status', async () => {
    await api.get('/api/state');
    const r = await api.get('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    const text = await r.text();
    assert.match(text, /fieldgate_http_requests_total\{method="GET",route="\/api\/state",status="200"\} \d+/);
    assert.match(text, /fieldgate_http_request_duration_seconds_bucket\{.*route="\/api\/command",status="400"/);
    assert.match(text, /fieldgate_http_ws_clients 0/);
    assert.match(text, /fieldgate_plugin_up\{plugin="api"\} 1/);
    // The standard process and runtime metrics Prometheus users expect, on Node and on Deno.
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      assert.match(text, new RegExp(`^${name} [0-9.e+-]+$`, 'm'), name);
    }
    assert.ok(Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)![1]) > 10e6, 'RSS is a real figure');
  });

  test('GET /openapi.json documents the routes and /docs serves the UI', async () => {
    const doc = (await (await api.get('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { security?: unknown }>> };
    assert.match(doc.openapi, /^3\./);
    for (const p of ['/api/state', '/api/command', '/api/trend', '/api/audit', '/health', '/metrics']) assert.ok(doc.paths[p], p);
    assert.deepEqual(doc.paths['/api/command']!.post!.security, [{ apiKey: [] }]);
    const ui = await api.get('/docs/');
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
  });

  test('the dashboard and its chart library are served without a CDN', async () => {
    const page = await api.get('/');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<title>/);
    assert.ok(!/https?:\/\/(cdn|unpkg|jsdelivr)/.test(html));
    assert.equal((await api.get('/vendor/uplot/uPlot.iife.min.js')).status, 200);
    const d = (await (await api.get('/api/dashboard')).json()) as { commands: Record<string, unknown> };
    assert.ok(d.commands.setpoint);
  });

  test('unknown routes are a JSON 404', async () => {
    const r = await api.get('/api/nothing-here');
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { error: string }).error, 'not found');
  });
});
