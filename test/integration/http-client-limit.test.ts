// The HTTP device client against a real test server that answers 200 with an endless (or declared
// huge) body: the reply is cut at maxReplyBytes, the error names the device and the limit, the
// download is cancelled, RSS stays flat and /metrics counts it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import httpAdapter from '../../adapters/http/adapter.ts';
import { HttpDeviceError, type HttpDevice } from '../../adapters/http/types.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { AdapterContext } from '../../core/plugin.ts';
import { eventually } from '../helpers/eventually.ts';

const CHUNK = Buffer.alloc(64 * 1024, 'x');

describe('http device client byte limit', () => {
  let server: Server;
  let base: string;
  let endlessClosed = 0;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/small') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"POWER":"ON"}');
      } else if (req.url === '/declared') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) });
        res.write(CHUNK);
      } else {
        // Endless: write as fast as the client reads, until it hangs up.
        res.writeHead(200, { 'content-type': 'application/json' });
        let open = true;
        res.on('close', () => {
          open = false;
          endlessClosed++;
        });
        const pump = () => {
          while (open && res.write(CHUNK));
          if (open) res.once('drain', pump);
        };
        pump();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function open(options: Record<string, unknown> = {}): Promise<{ device: HttpDevice; metrics: MetricsRegistry; close(): Promise<void> }> {
    const metrics = new MetricsRegistry();
    // real() uses only the id and the metrics of its context.
    const ctx = { id: 'relay', metrics } as unknown as AdapterContext;
    const handle = await httpAdapter.real({ baseUrl: base, timeoutMs: 20000, ...options }, ctx);
    return { device: handle.instance, metrics, close: handle.close };
  }

  test('an endless 200 body is refused at the default 64 KiB, quickly, with the device and limit named', async () => {
    const { device, metrics, close } = await open();
    try {
      // Warm up first (the first fetch loads and compiles the HTTP stack: tens of MB of RSS once).
      for (let i = 0; i < 3; i++) await assert.rejects(device.json({ path: '/endless' }), HttpDeviceError);
      const rssBefore = process.memoryUsage().rss;
      const started = performance.now();
      for (let i = 0; i < 20; i++) {
        const err = await device.json({ path: '/endless' }).then(() => null, (e: unknown) => e);
        assert.ok(err instanceof HttpDeviceError, String(err));
        assert.equal(err.failure, 'oversize');
        assert.match(err.message, new RegExp(`^${base}: GET /endless answered more than 65536 bytes; refused`));
      }
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 5000, `20 refusals took ${Math.round(elapsed)} ms; the 20 s timeout must not be what stops them`);
      const grown = (process.memoryUsage().rss - rssBefore) / 1048576;
      // Unbounded, one endless reply alone grows RSS by hundreds of MB before the 20 s timeout.
      assert.ok(grown < 32, `RSS grew ${grown.toFixed(1)} MB over 20 endless replies`);
      // The download was cancelled: the server saw every connection go.
      await eventually('the server to see the 23 downloads cancelled', 5000, () => endlessClosed === 23);
      assert.match(await metrics.registry.metrics(), /fieldgate_peer_reply_oversize_total\{peer="relay"\} 23/);
      // A normal reply still works on the same client.
      assert.deepEqual(await device.json({ path: '/small' }), { POWER: 'ON' });
    } finally {
      await close();
    }
  });

  test('a declared Content-Length over the limit is refused before reading; maxReplyBytes sets the limit', async () => {
    const { device, metrics, close } = await open({ maxReplyBytes: 4096 });
    try {
      await assert.rejects(device.json({ path: '/declared' }), (err: unknown) =>
        err instanceof HttpDeviceError && err.failure === 'oversize' && /answered more than 4096 bytes/.test(err.message));
      await assert.rejects(device.json({ path: '/endless' }), /more than 4096 bytes/);
      assert.match(await metrics.registry.metrics(), /fieldgate_peer_reply_oversize_total\{peer="relay"\} 2/);
    } finally {
      await close();
    }
  });
});
