// Several API keys with roles on the real routes: read keys read, operate keys command and run
// operator actions, admin keys also read the audit log; the audit log names the key's id, never
// the key; a key below the route's role gets 403 naming both roles and nothing is done.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePlugin } from '../../core/plugin.ts';
import type { RouteRegistry } from '../../core/http-routes.ts';
import { Tokens } from '../../core/tokens.ts';
import { keyId } from '../../plugins/http-api/auth.ts';
import { API_KEY, startApi, type Api } from './http-fixture.ts';

const VIEWER = 'viewer-key-0123456789';
const SCADA = 'scada-key-0123456789';
const BOSS = 'boss-key-0123456789';
const FILE_KEY = 'file-key-0123456789';

/** A plugin contributing one operator action, like odoo-sync's "Trigger sync" button. */
const action = definePlugin<Record<string, never>>({
  type: 'action-test',
  version: '1.0.0',
  description: 'contributes an operator action',
  configSchema: { type: 'object' },
  create({ container, id, store }) {
    const routes = container.resolve<RouteRegistry>(Tokens.HttpRoutes);
    return {
      start() {
        routes.add(id, { method: 'POST', url: '/api/admin/trigger', write: true, handler: async () => { await store.set('triggered', true); return { ok: true }; } });
      },
    };
  },
});

interface Refusal { error: string; message: string; needed: string; held: string }

describe('http-api keys with roles', () => {
  let dir = '';
  let api: Api;
  const as = (key: string) => ({ 'x-api-key': key });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-roles-'));
    const keyFile = join(dir, 'operator.key');
    writeFileSync(keyFile, `${FILE_KEY}\n`, { mode: 0o600 });
    api = await startApi({
      requireKeyForReads: true,
      apiKeys: [
        { id: 'viewer', role: 'read', key: VIEWER },
        { id: 'scada', role: 'operate', key: SCADA },
        { id: 'boss', role: 'admin', key: BOSS },
        { id: 'panel', role: 'operate', keyFile },
        { id: 'unset', role: 'admin', key: '' },
      ],
    }, { plugins: [action], entries: [{ id: 'act', use: 'action-test', dependsOn: ['api'] }] });
  });
  after(async () => {
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a read key reads state but its command is refused with 403 naming both roles, and nothing is written', async () => {
    assert.equal((await api.get('/api/state', as(VIEWER))).status, 200);
    const r = await api.post('/api/command', { setpoint: 42 }, as(VIEWER));
    assert.equal(r.status, 403);
    const body = (await r.json()) as Refusal;
    assert.equal(body.needed, 'operate');
    assert.equal(body.held, 'read');
    assert.match(body.message, /POST \/api\/command needs a key with role "operate" or above; key "viewer" has role "read"; nothing was done/);
    assert.equal(api.runtime.store.get('setpoint'), undefined);
    const action403 = await api.post('/api/admin/trigger', {}, as(VIEWER));
    assert.equal(action403.status, 403);
    assert.equal(api.runtime.store.get('triggered'), undefined);
  });

  test('an operate key commands and runs operator actions; the audit row names its id, not the key', async () => {
    assert.equal((await api.post('/api/command', { setpoint: 55 }, as(SCADA))).status, 200);
    assert.equal(api.runtime.store.get('setpoint'), 55);
    assert.equal((await api.post('/api/admin/trigger', {}, as(FILE_KEY))).status, 200);
    assert.equal(api.runtime.store.get('triggered'), true);
    const audit = await api.get('/api/audit', as(BOSS));
    assert.equal(audit.status, 200);
    const text = await audit.text();
    const rows = JSON.parse(text) as Array<{ key: string; keyId: string; new: unknown }>;
    assert.deepEqual(rows.map((r) => [r.key, r.keyId]).sort(), [['/api/admin/trigger', 'panel'], ['setpoint', 'scada']]);
    for (const k of [SCADA, FILE_KEY, BOSS]) assert.ok(!text.includes(k), 'a key leaked into the audit log');
  });

  test('the audit log needs an admin key; the single apiKey is admin and keeps its sha256 id', async () => {
    for (const [key, role] of [[VIEWER, 'read'], [SCADA, 'operate']] as const) {
      const r = await api.get('/api/audit', as(key));
      assert.equal(r.status, 403);
      const body = (await r.json()) as Refusal;
      assert.deepEqual([body.needed, body.held], ['admin', role]);
    }
    assert.equal((await api.get('/api/audit', as(API_KEY))).status, 200);
    assert.equal((await api.post('/api/command', { setpoint: 60 }, as(API_KEY))).status, 200);
    const rows = (await (await api.get('/api/audit?key=setpoint', as(BOSS))).json()) as Array<{ keyId: string; new: unknown }>;
    assert.deepEqual(rows[0], { ...rows[0], keyId: keyId(API_KEY), new: 60 });
  });

  test('an unknown key, and the disabled entry\'s empty key, get 401', async () => {
    assert.equal((await api.get('/api/state', as('nobody-0123456789'))).status, 401);
    assert.equal((await api.get('/api/state', as(''))).status, 401);
  });
});

describe('http-api apiKeys config errors', () => {
  test('a duplicate id fails the start naming both entries', async () => {
    await assert.rejects(
      startApi({ apiKeys: [{ id: 'a', role: 'read', key: VIEWER }, { id: 'a', role: 'admin', key: BOSS }] }),
      /apiKeys\[1\] "a": duplicate id \(first used by apiKeys\[0\]\)/,
    );
  });

  test('a key shared by two entries, a short key and a missing keyFile are named', async () => {
    await assert.rejects(startApi({ apiKeys: [{ id: 'a', role: 'read', key: API_KEY }] }), /apiKeys\[0\] "a": same key as apiKey/);
    await assert.rejects(startApi({ apiKeys: [{ id: 'a', role: 'read', key: 'short' }] }), /apiKeys\[0\] "a": key is 5 characters/);
    await assert.rejects(startApi({ apiKeys: [{ id: 'a', role: 'read', keyFile: '/nonexistent/fg.key' }] }), /apiKeys\[0\] "a": keyFile \/nonexistent\/fg\.key does not exist/);
  });
});
