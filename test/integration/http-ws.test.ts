// The /ws live feed against a real server: subscribe with wildcards, snapshot then deltas, one
// encoding per event, auth, and a stalled client conflated then closed while another keeps up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { API_KEY, startApi, type Api } from './http-fixture.ts';

interface Msg {
  type: string;
  topic?: string;
  key?: string;
  value?: unknown;
  ts?: number;
  values?: Msg[];
  deltas?: Msg[];
  message?: string;
}

class Client {
  readonly messages: Msg[] = [];
  #waiters: Array<() => void> = [];
  closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Msg);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  /** Resolves with the first message (from `from` on) matching `pred`; fails after `ms`. */
  async next(pred: (m: Msg) => boolean, ms = 5000, from = 0): Promise<Msg> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }
}

function connect(api: Api, query = '', headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(`${api.base.replace('http', 'ws')}/ws${query}`, { headers });
  const client = new Client(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

async function metric(api: Api, name: string): Promise<number> {
  const text = await (await api.get('/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** Polls a condition with yields to the event loop (sockets need real time); fails after `ms`. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('http-api WebSocket feed', () => {
  let api: Api;
  before(async () => {
    api = await startApi({ ws: { softBytes: 4096, hardBytes: 512 * 1024, stallMs: 400, pingIntervalMs: 60000, maxClients: 50, maxClientsPerAddress: 50, flushMs: 20 } });
    await api.runtime.store.setMany({ pv: 20, sp: 40, other_thing: 'x' });
  });
  after(() => api.stop());

  test('state/* gives a snapshot, then deltas {topic, key, value, ts}', async () => {
    const c = await connect(api);
    await c.next((m) => m.type === 'hello');
    c.send({ type: 'subscribe', topics: ['state/*'] });
    const snap = await c.next((m) => m.type === 'snapshot');
    const snapKeys = snap.values!.map((v) => v.key);
    assert.ok(snapKeys.includes('pv') && snapKeys.includes('sp'), JSON.stringify(snapKeys));
    assert.equal(snap.values!.find((v) => v.key === 'pv')!.value, 20);
    await api.runtime.store.set('pv', 21.25);
    const d = await c.next((m) => m.type === 'delta' && m.key === 'pv' && m.value === 21.25);
    assert.equal(d.topic, 'state/pv');
    assert.equal(typeof d.ts, 'number');
    c.ws.close();
    await c.closed;
  });

  test('?topics= subscribes at connect; # receives other bus topics; unsubscribe stops deltas', async () => {
    const c = await connect(api, '?topics=state/sp');
    const snap = await c.next((m) => m.type === 'snapshot');
    assert.deepEqual(snap.values!.map((v) => v.key), ['sp']);
    c.send({ type: 'subscribe', topics: ['can/#'] });
    await c.next((m) => m.type === 'snapshot' && m.values!.length === 0);
    api.runtime.bus.publish('can/signal', { name: 'dry_bulb', value: 23.5, ts: 1_700_000_000 });
    const sig = await c.next((m) => m.topic === 'can/signal');
    assert.deepEqual({ key: sig.key, value: sig.value, ts: sig.ts }, { key: 'dry_bulb', value: 23.5, ts: 1_700_000_000 });
    c.send({ type: 'unsubscribe', topics: ['state/sp'] });
    await c.next((m) => m.type === 'unsubscribed');
    const mark = c.messages.length;
    await api.runtime.store.set('sp', 99);
    api.runtime.bus.publish('can/signal', { name: 'marker', value: 1 });
    await c.next((m) => m.key === 'marker', 5000, mark);
    assert.ok(!c.messages.slice(mark).some((m) => m.key === 'sp'), 'no delta after unsubscribe');
    c.send({ type: 'subscribe', topics: ['state/#/x'] });
    assert.match((await c.next((m) => m.type === 'error')).message!, /must be the last level/);
    c.ws.close();
    await c.closed;
  });

  test('each bus event is encoded once, whatever the number of clients', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => connect(api, '?topics=state/%2B')));
    await Promise.all(clients.map((c) => c.next((m) => m.type === 'snapshot')));
    const encoded = await metric(api, 'fieldgate_http_ws_events_encoded_total');
    const sent = await metric(api, 'fieldgate_http_ws_messages_sent_total');
    await api.runtime.store.set('pv', 30.5);
    await Promise.all(clients.map((c) => c.next((m) => m.key === 'pv' && m.value === 30.5)));
    assert.equal(await metric(api, 'fieldgate_http_ws_events_encoded_total'), encoded + 1);
    assert.equal(await metric(api, 'fieldgate_http_ws_messages_sent_total'), sent + 3);
    for (const c of clients) c.ws.close();
    await Promise.all(clients.map((c) => c.closed));
  });

  test('the changes of one event-loop turn reach a client as one batch frame, each delta encoded once', async () => {
    const clients = await Promise.all([1, 2].map(() => connect(api, '?topics=state/*')));
    await Promise.all(clients.map((c) => c.next((m) => m.type === 'snapshot')));
    const encoded = await metric(api, 'fieldgate_http_ws_events_encoded_total');
    const sent = await metric(api, 'fieldgate_http_ws_messages_sent_total');
    await api.runtime.store.setMany({ pv: 41, sp: 42, other_thing: 'y' });
    for (const c of clients) {
      const batch = await c.next((m) => m.type === 'batch');
      assert.deepEqual(batch.deltas!.map((d) => [d.type, d.topic, d.key, d.value]), [
        ['delta', 'state/pv', 'pv', 41],
        ['delta', 'state/sp', 'sp', 42],
        ['delta', 'state/other_thing', 'other_thing', 'y'],
      ]);
    }
    assert.equal(await metric(api, 'fieldgate_http_ws_events_encoded_total'), encoded + 3, 'three events, each encoded once');
    assert.equal(await metric(api, 'fieldgate_http_ws_messages_sent_total'), sent + 2, 'one frame per client');
    for (const c of clients) c.ws.close();
    await Promise.all(clients.map((c) => c.closed));
  });

  test('a stalled client is conflated, then closed with 1013, while another keeps receiving', async () => {
    const healthy = await connect(api, '?topics=state/*');
    const stalled = await connect(api, '?topics=state/*');
    await healthy.next((m) => m.type === 'snapshot');
    await stalled.next((m) => m.type === 'snapshot');
    // Stop reading: the kernel buffers fill, then the server's bufferedAmount grows.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const conflatedBefore = await metric(api, 'fieldgate_http_ws_messages_conflated_total');
    const closedBefore = await metric(api, 'fieldgate_http_ws_slow_clients_closed_total');
    const blob = 'x'.repeat(16 * 1024);
    let round = 0;
    await until('the stalled client to be conflated', async () => {
      for (let i = 0; i < 50; i++, round++) await api.runtime.store.set(`big_${round % 4}`, { round, blob }, { durable: false });
      return (await metric(api, 'fieldgate_http_ws_messages_conflated_total')) > conflatedBefore;
    }, 30000);
    // The healthy client got every message up to now, in order.
    await healthy.next((m) => m.key === `big_${(round - 1) % 4}` && (m.value as { round: number }).round === round - 1, 10000);
    await until('the stalled client to be closed', async () => (await metric(api, 'fieldgate_http_ws_slow_clients_closed_total')) > closedBefore);
    (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await stalled.closed;
    assert.ok(closed.code === 1013 || closed.code === 1006, `closed with ${closed.code}`);
    await api.runtime.store.set('marker', 'after');
    await healthy.next((m) => m.key === 'marker' && m.value === 'after');
    assert.equal(await metric(api, 'fieldgate_http_ws_clients'), 1);
    healthy.ws.close();
    await healthy.closed;
  });
});

describe('http-api WebSocket auth and shutdown', () => {
  test('with requireKeyForReads the socket needs the key (header or ?apiKey=); stopping closes clients', async () => {
    const api = await startApi({ requireKeyForReads: true });
    try {
      await assert.rejects(connect(api), /HTTP 401/);
      await assert.rejects(connect(api, '?apiKey=wrong'), /HTTP 401/);
      const byQuery = await connect(api, `?apiKey=${API_KEY}&topics=state/*`);
      await byQuery.next((m) => m.type === 'snapshot');
      const byHeader = await connect(api, '', { 'x-api-key': API_KEY });
      await byHeader.next((m) => m.type === 'hello');
      await api.stop();
      assert.equal((await byQuery.closed).code, 1001);
      await byHeader.closed;
    } finally {
      await api.stop();
    }
  });
});
