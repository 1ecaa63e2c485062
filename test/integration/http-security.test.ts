// Security defaults and contributed routes: rate limit, loopback-only without a key, keys for
// reads, CORS allow-list, and routes other plugins add (or remove) while the server runs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin } from '../../core/plugin.ts';
import type { RouteRegistry } from '../../core/http-routes.ts';
import { Tokens } from '../../core/tokens.ts';
import { API_KEY, startApi } from './http-fixture.ts';

describe('http-api security defaults', () => {
  test('past the per-client rate limit requests get 429', async () => {
    const api = await startApi({ rateLimit: { max: 5, timeWindowMs: 60000 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await api.get('/api/state')).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
      const r = await api.post('/api/command', { setpoint: 5 }, { 'x-api-key': API_KEY });
      assert.equal(r.status, 429);
      assert.match(((await r.json()) as { message: string }).message, /rate limit of 5/);
      assert.equal(api.runtime.store.get('setpoint'), undefined);
    } finally {
      await api.stop();
    }
  });

  test('without an API key the server binds 127.0.0.1 whatever host says, and writes carry no key id', async () => {
    const api = await startApi({ apiKey: '', host: '0.0.0.0' });
    try {
      assert.match(api.base, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await api.post('/api/command', { setpoint: 7 })).status, 200);
      const rows = (await (await api.get('/api/audit')).json()) as Array<{ key: string; keyId: string | null; new: unknown }>;
      assert.deepEqual(rows.map((r) => [r.key, r.keyId, r.new]), [['setpoint', null, 7]]);
    } finally {
      await api.stop();
    }
  });

  test('requireKeyForReads protects reads but not /health nor the dashboard page', async () => {
    const api = await startApi({ requireKeyForReads: true });
    try {
      for (const path of ['/api/state', '/api/trend', '/api/audit', '/metrics', '/openapi.json']) {
        assert.equal((await api.get(path)).status, 401, path);
        assert.equal((await api.get(path, { 'x-api-key': API_KEY })).status, 200, path);
      }
      assert.equal((await api.get('/api/state?apiKey=' + API_KEY)).status, 401, 'query keys only for the WebSocket');
      assert.equal((await api.get('/health')).status, 200);
      assert.equal((await api.get('/')).status, 200);
    } finally {
      await api.stop();
    }
  });

  test('CORS: no origin is allowed by default; the allow-list is honoured', async () => {
    const closed = await startApi();
    const open = await startApi({ cors: { origins: ['http://scada.local'] } });
    try {
      const r1 = await closed.get('/api/state', { origin: 'http://evil.example' });
      assert.equal(r1.headers.get('access-control-allow-origin'), null);
      const r2 = await open.get('/api/state', { origin: 'http://scada.local' });
      assert.equal(r2.headers.get('access-control-allow-origin'), 'http://scada.local');
      const r3 = await open.get('/api/state', { origin: 'http://evil.example' });
      assert.equal(r3.headers.get('access-control-allow-origin'), null);
    } finally {
      await closed.stop();
      await open.stop();
    }
  });
});

const zones = definePlugin<{ late: boolean }>({
  type: 'zones-test',
  version: '1.0.0',
  description: 'contributes routes like the zones plugin',
  configSchema: { type: 'object' },
  create({ container, id, store }) {
    const routes = container.resolve<RouteRegistry>(Tokens.HttpRoutes);
    return {
      start() {
        routes.add(id, {
          method: 'GET',
          url: '/api/zones/:zone',
          schema: { summary: 'One zone', tags: ['zones', 'dashboard'], params: { type: 'object', properties: { zone: { type: 'integer', minimum: 1, maximum: 12 } } } },
          handler: (req) => ({ zone: (req as { params: { zone: number } }).params.zone, temp: 21 }),
        });
        routes.add(id, {
          method: 'PUT',
          url: '/api/zones/:zone/setpoint',
          write: true,
          schema: {
            summary: 'Set a zone setpoint',
            params: { type: 'object', properties: { zone: { type: 'integer', minimum: 1, maximum: 12 } } },
            body: { type: 'object', additionalProperties: false, required: ['value'], properties: { value: { type: 'number', minimum: 5, maximum: 30 } } },
          },
          handler: async (req) => {
            const r = req as { params: { zone: number }; body: { value: number } };
            await store.set(`zone_${r.params.zone}_sp`, r.body.value);
            return { ok: true };
          },
        });
      },
    };
  },
});

describe('http-api contributed routes', () => {
  test('routes from other plugins are served, validated, keyed, audited and documented, and go with their plugin', async () => {
    // The contributing plugin starts after http-api (it is listed first but depends on nothing; the order
    // does not matter because the dispatcher reads the registry per request).
    const api = await startApi({}, { plugins: [zones], entries: [{ id: 'zones', use: 'zones-test', dependsOn: ['api'] }] });
    try {
      assert.deepEqual(await (await api.get('/api/zones/3')).json(), { zone: 3, temp: 21 });
      const bad = await api.get('/api/zones/40');
      assert.equal(bad.status, 400);
      assert.ok(((await bad.json()) as { fields: Record<string, string> }).fields['params.zone']);
      const put = (body: unknown, headers: Record<string, string>) =>
        fetch(`${api.base}/api/zones/2/setpoint`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      assert.equal((await put({ value: 20 }, {})).status, 401);
      const invalid = await put({ value: 99, extra: 1 }, { 'x-api-key': API_KEY });
      assert.equal(invalid.status, 400);
      assert.deepEqual(Object.keys(((await invalid.json()) as { fields: object }).fields).sort(), ['body.extra', 'body.value']);
      assert.equal(api.runtime.store.get('zone_2_sp'), undefined);
      assert.equal((await put({ value: 20 }, { 'x-api-key': API_KEY })).status, 200);
      assert.equal(api.runtime.store.get('zone_2_sp'), 20);
      const audit = (await (await api.get('/api/audit')).json()) as Array<{ route: string; new: unknown }>;
      assert.deepEqual(audit.map((a) => [a.route, a.new]), [['PUT /api/zones/:zone/setpoint', { value: 20 }]]);

      const doc = (await (await api.get('/openapi.json')).json()) as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>> };
      assert.ok(doc.paths['/api/zones/{zone}']?.get, Object.keys(doc.paths).join(', '));
      assert.deepEqual(doc.paths['/api/zones/{zone}']!.get!.parameters!.map((p) => [p.in, p.name]), [['path', 'zone']]);
      assert.ok(doc.paths['/api/zones/{zone}/setpoint']?.put);
      const dash = (await (await api.get('/api/dashboard')).json()) as { panels: Array<{ source: string }> };
      assert.deepEqual(dash.panels, [], 'parametric routes make no panel');

      // A route added while the server runs is served at once; a stopped plugin's routes are gone.
      api.runtime.routes.add('late', { method: 'GET', url: '/api/late', schema: { summary: 'Late', tags: ['dashboard'] }, handler: () => ({ late: true }) });
      assert.deepEqual(await (await api.get('/api/late')).json(), { late: true });
      assert.deepEqual(((await (await api.get('/api/dashboard')).json()) as { panels: unknown[] }).panels, [{ title: 'Late', source: '/api/late' }]);
      await api.runtime.supervisor.stopAll(['zones']);
      assert.equal((await api.get('/api/zones/3')).status, 404);
    } finally {
      await api.stop();
    }
  });
});
