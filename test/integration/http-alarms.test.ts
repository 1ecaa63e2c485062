// The alarm board through the API: a value outside its manifest limit and a stale heartbeat are
// raised with their time, listed at GET /api/alarms, acknowledged with the key (audited, pushed on
// the WebSocket as alarm/<id>), cleared when the condition goes away, and counted in /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { API_KEY, startApi } from './http-fixture.ts';
import { eventually } from '../helpers/eventually.ts';

interface AlarmView { id: string; severity: string; message: string; raisedAt: number; acknowledgedAt: number | null; acknowledgedBy: string | null; clearedAt: number | null }
interface Alarms { active: AlarmView[]; recent: AlarmView[] }

test('alarms: raised, listed, acknowledged (key, audit, WebSocket) and cleared', { timeout: 30_000 }, async () => {
  const api = await startApi({ alarms: { evalMs: 100, keepRecent: 10, limits: { level: { min: 0, max: 10 } } } });
  try {
    const alarms = async () => (await (await api.get('/api/alarms')).json()) as Alarms;
    await api.runtime.store.set('level', 12.5);
    api.runtime.health.watch({ key: 'pump_ts', maxAgeS: 1 });
    const raised = await eventually('the limit and stale alarms', 5000, async () => {
      const a = await alarms();
      return a.active.some((x) => x.id === 'limit:level') && a.active.some((x) => x.id === 'stale:pump_ts') ? a : undefined;
    });
    const limit = raised.active.find((x) => x.id === 'limit:level')!;
    assert.equal(limit.severity, 'critical');
    assert.match(limit.message, /level = 12\.5 above its limit 10/);
    assert.ok(Math.abs(limit.raisedAt - Date.now() / 1000) < 5, 'raised with its time');
    assert.equal(limit.acknowledgedAt, null);
    assert.match(await (await api.get('/metrics')).text(), /fieldgate_alarms_active\{severity="critical"\} 1/);

    // The value moves but stays out of limits: the same alarm, raised once, message updated.
    await api.runtime.store.set('level', 14);
    await eventually('the message follows the value', 3000, async () => (await alarms()).active.find((x) => x.id === 'limit:level')?.message.includes('14'));
    assert.equal((await alarms()).active.find((x) => x.id === 'limit:level')!.raisedAt, limit.raisedAt);

    // Acknowledge: without the key refused, with it audited and pushed to subscribers.
    const ws = new WebSocket(`${api.base.replace('http', 'ws')}/ws?topics=alarm/%23`);
    const pushed: unknown[] = [];
    ws.on('message', (d) => pushed.push(JSON.parse(String(d))));
    await new Promise((r) => ws.once('open', r));
    assert.equal((await fetch(`${api.base}/api/alarms/limit:level/ack`, { method: 'POST' })).status, 401);
    const ack = await fetch(`${api.base}/api/alarms/limit:level/ack`, { method: 'POST', headers: { 'x-api-key': API_KEY } });
    assert.equal(ack.status, 200);
    assert.equal((await fetch(`${api.base}/api/alarms/no-such/ack`, { method: 'POST', headers: { 'x-api-key': API_KEY } })).status, 404);
    const acked = (await alarms()).active.find((x) => x.id === 'limit:level')!;
    assert.ok(acked.acknowledgedAt !== null && acked.acknowledgedBy, 'acknowledged, by whom');
    const audit = (await (await api.get('/api/audit?key=alarm:limit:level')).json()) as Array<{ key: string; new: unknown; keyId: string }>;
    assert.equal(audit.length, 1);
    assert.equal(audit[0].new, 'acknowledged');
    await eventually('the acknowledgement on the WebSocket', 3000, () => JSON.stringify(pushed).includes('"event":"acknowledged"'));
    ws.close();

    // Back within limits: cleared, moved to the recent list.
    await api.runtime.store.set('level', 5);
    const cleared = await eventually('the limit alarm cleared', 3000, async () => {
      const a = await alarms();
      return a.active.every((x) => x.id !== 'limit:level') ? a : undefined;
    });
    const past = cleared.recent.find((x) => x.id === 'limit:level')!;
    assert.ok(past.clearedAt !== null && past.clearedAt >= past.raisedAt);
    assert.match(await (await api.get('/metrics')).text(), /fieldgate_alarms_active\{severity="critical"\} 0/);
  } finally {
    await api.stop();
  }
});
