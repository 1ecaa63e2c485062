// Per-address WebSocket limits against a real server: one client address (127.0.0.1) cannot take
// every slot; another address (127.0.0.2, also loopback on Linux) still connects.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startApi, type Api } from './http-fixture.ts';
import { eventually } from '../helpers/eventually.ts';

interface Outcome {
  ws: WebSocket;
  /** Resolves with the close code and reason (1013 when a limit refused the connection). */
  closed: Promise<{ code: number; reason: string }>;
  hello: Promise<boolean>;
}

function connect(api: Api, localAddress: string): Outcome {
  const ws = new WebSocket(`${api.base.replace('http', 'ws')}/ws`, { localAddress });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const hello = new Promise<boolean>((resolve) => {
    ws.on('message', (data) => resolve((JSON.parse(String(data)) as { type: string }).type === 'hello'));
    ws.on('close', () => resolve(false));
  });
  ws.on('error', () => {});
  return { ws, closed, hello };
}

async function metric(api: Api, line: RegExp): Promise<number> {
  const text = await (await api.get('/metrics')).text();
  return Number(line.exec(text)?.[1] ?? 0);
}

describe('http-api WebSocket per-address limit', () => {
  test('one address cannot take every slot: past maxClientsPerAddress it gets 1013, another address still connects', async () => {
    const api = await startApi({ apiKey: '', ws: { softBytes: 65536, hardBytes: 1048576, stallMs: 30000, pingIntervalMs: 60000, maxClients: 10, maxClientsPerAddress: 4, flushMs: 250 } });
    const all: Outcome[] = [];
    try {
      const greedy = Array.from({ length: 4 }, () => connect(api, '127.0.0.1'));
      all.push(...greedy);
      assert.deepEqual(await Promise.all(greedy.map((c) => c.hello)), [true, true, true, true]);
      const extra = connect(api, '127.0.0.1');
      all.push(extra);
      const refused = await extra.closed;
      assert.equal(refused.code, 1013);
      assert.match(refused.reason, /too many connections from your address \(limit 4\)/);
      assert.equal(await metric(api, /fieldgate_http_ws_clients_refused_total\{limit="address"\} (\d+)/), 1);

      const other = connect(api, '127.0.0.2');
      all.push(other);
      assert.equal(await other.hello, true, 'another address still connects');
      assert.equal(((await (await api.get('/health')).json()) as { wsClients: number }).wsClients, 5);

      // A slot freed by the greedy address is its own again.
      greedy[0]!.ws.close();
      await greedy[0]!.closed;
      await eventually('the freed slot to be counted', 2000, async () =>
        ((await (await api.get('/health')).json()) as { wsClients: number }).wsClients === 4);
      const again = connect(api, '127.0.0.1');
      all.push(again);
      assert.equal(await again.hello, true);
    } finally {
      for (const c of all) c.ws.terminate();
      await api.stop();
    }
  });
});
