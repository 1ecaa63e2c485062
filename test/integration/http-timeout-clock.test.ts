// The HTTP device and Odoo clients time out on the runtime's clock: under a scenario's virtual clock a
// 2 s deadline is 2 s of that clock (it used to be fetch's wall-clock AbortSignal.timeout), and a
// reply in time is not cut short however long the wall clock takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeClock } from '../../core/clock-fake.ts';
import { HttpDeviceClient } from '../../adapters/http/client.ts';
import { OdooJsonRpcClient } from '../../adapters/odoo/client.ts';

async function hungServer(t: { after(fn: () => Promise<void>): void }): Promise<{ url: string; held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => held.push(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, held };
}

async function settledState(p: Promise<unknown>): Promise<'pending' | 'settled'> {
  let state: 'pending' | 'settled' = 'pending';
  p.then(() => (state = 'settled'), () => (state = 'settled'));
  await new Promise((resolve) => setImmediate(resolve));
  return state;
}

async function untilHeld(held: ServerResponse[], n: number): Promise<void> {
  for (let i = 0; i < 500 && held.length < n; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(held.length, n, 'the request reached the server');
}

test('an HTTP device request times out after timeoutMs of the injected clock, not of the wall', async (t) => {
  const { url, held } = await hungServer(t);
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const client = new HttpDeviceClient({ baseUrl: url, timeoutMs: 2000, headers: {}, apiKeyHeader: 'X-API-Key', clock });
  t.after(() => client.close());
  const reply = client.json({ path: '/status' });
  reply.catch(() => {});
  await untilHeld(held, 1);
  await clock.advance(1999);
  assert.equal(await settledState(reply), 'pending', 'still waiting at 1,999 ms of clock time');
  await clock.advance(1);
  await assert.rejects(reply, (err: Error & { failure?: string }) => {
    assert.equal(err.failure, 'timeout');
    assert.match(err.message, /GET \/status timed out after 2000 ms/);
    return true;
  });
});

test('an HTTP device reply that arrives in clock time is not cut short by wall time', async (t) => {
  const { url, held } = await hungServer(t);
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const client = new HttpDeviceClient({ baseUrl: url, timeoutMs: 50, headers: {}, apiKeyHeader: 'X-API-Key', clock });
  t.after(() => client.close());
  const reply = client.json<{ ok: boolean }>({ path: '/status' });
  await untilHeld(held, 1);
  await new Promise((resolve) => setTimeout(resolve, 120)); // more than 50 ms of wall time
  held[0].setHeader('content-type', 'application/json');
  held[0].end('{"ok":true}');
  assert.deepEqual(await reply, { ok: true });
  assert.equal(clock.pendingTimers(), 0, 'the deadline timer is cancelled with the request');
});

test('an Odoo JSON-RPC call times out on the injected clock and names the deadline', async (t) => {
  const { url, held } = await hungServer(t);
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const client = new OdooJsonRpcClient({ baseUrl: url, db: 'd', username: 'u', password: 'p', timeoutMs: 5000, clock });
  t.after(() => client.close());
  const login = client.authenticate();
  login.catch(() => {});
  await untilHeld(held, 1);
  await clock.advance(4999);
  assert.equal(await settledState(login), 'pending');
  await clock.advance(1);
  await assert.rejects(login, /timed out after 5000 ms/);
});
