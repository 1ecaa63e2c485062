// Redis replies have a byte limit: a fake RESP server on 127.0.0.1 that answers GET with an endless
// bulk string is cut off after the header, the command fails, the error names the server and the
// limit, and the client's memory does not follow. Replies under the limit, one after another, pass
// through a real redis-server untouched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { PeerLimitError } from '../../core/peer-limits.ts';
import { guardRedisStream, RespSizeScanner } from '../../plugins/redis-bridge/reply-guard.ts';
import { eventually } from '../helpers/eventually.ts';
import { redisSkip, startRedis, type TestRedis } from '../helpers/redis.ts';

const LIMIT = 1024 * 1024;

/** Answers +OK to everything, and GET with `$1000000000` followed by bytes for as long as the socket is open. */
class EndlessRedis {
  readonly #server: Server = createServer((s) => this.#serve(s));
  readonly open = new Set<Socket>();
  port = 0;
  sent = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #serve(s: Socket): void {
    this.open.add(s);
    s.on('close', () => this.open.delete(s));
    s.on('error', () => {});
    s.on('data', (d) => {
      const lines = d.toString('latin1').split('\r\n');
      for (let i = 0; i < lines.length; i++) {
        if (!lines[i]!.startsWith('*')) continue;
        const name = (lines[i + 2] ?? '').toUpperCase();
        if (name !== 'GET') {
          s.write('+OK\r\n');
          continue;
        }
        s.write('$1000000000\r\n');
        const chunk = Buffer.alloc(65536, 0x61);
        const pump = () => {
          while (!s.destroyed && s.write(chunk)) this.sent += chunk.length;
          if (!s.destroyed) s.once('drain', pump);
        };
        setImmediate(pump);
      }
    });
  }
}

describe('Redis reply limit against a server sending an endless bulk string', () => {
  const server = new EndlessRedis();
  let client: Redis;
  const errors: PeerLimitError[] = [];

  before(async () => {
    await server.start();
    client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    // The same wiring as plugins/redis-bridge/plugin.ts: a guard on every new connection's socket.
    client.on('connect', () => guardRedisStream(client.stream, { peer: `redis 127.0.0.1:${server.port}`, limit: LIMIT, onLimit: (e) => errors.push(e) }));
    await client.connect();
  });
  after(async () => {
    client.disconnect();
    await server.stop();
  });

  test('GET fails, the error names the server and the limit, and the connection is closed', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    await assert.rejects(client.get('big'));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, new RegExp(`^redis 127\\.0\\.0\\.1:${server.port}: bulk string of 1000000000 bytes \\(\\d+ bytes read\\) is over the 1048576-byte limit; refused and the link closed$`));
    const read = Number(/\((\d+) bytes read\)/.exec(errors[0]!.message)![1]);
    assert.ok(read <= 13 + 65536, `the client read ${read} bytes before refusing`);
    await eventually('the server to see the connection closed', 3000, () => server.open.size === 0);
    // Nothing of the endless body was kept (generous: the run itself allocates a little).
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 8 * LIMIT, 'heap grew with the reply');
  });
});

describe('RESP size scanner', () => {
  test('counts each top-level reply on its own: many replies under the limit pass, one over it does not', () => {
    const s = new RespSizeScanner(100);
    const reply = '*2\r\n*2\r\n$5\r\nhello\r\n:1\r\n$-1\r\n';
    for (let i = 0; i < 50; i++) assert.equal(s.feed(new TextEncoder().encode(reply)), null);
    assert.match(s.feed(new TextEncoder().encode(`$${200}\r\n`)) ?? '', /bulk string of 200 bytes/);
    const t = new RespSizeScanner(100);
    assert.match(t.feed(new TextEncoder().encode('*1000\r\n')) ?? '', /array of 1000 elements/);
    const u = new RespSizeScanner(100);
    assert.match(u.feed(new TextEncoder().encode('+' + 'x'.repeat(200))) ?? '', /reply of more than/);
  });

  test('split at every byte, a real stream of replies is followed exactly', () => {
    const s = new RespSizeScanner(30);
    const text = '+OK\r\n$10\r\n0123456789\r\n*3\r\n:1\r\n$3\r\nabc\r\n-ERR x\r\n';
    for (let round = 0; round < 3; round++) for (const b of new TextEncoder().encode(text)) assert.equal(s.feed(new Uint8Array([b])), null);
    // Still in step: the next header is read as a header.
    assert.match(s.feed(new TextEncoder().encode('$100\r\n')) ?? '', /bulk string of 100 bytes/);
  });
});

describe('Redis reply limit against redis-server', { skip: redisSkip }, () => {
  let redis: TestRedis;
  before(async () => (redis = await startRedis()));
  after(async () => await redis?.stop());

  test('stream entries and a value under the limit are read whole; a value over it is refused', async () => {
    const errors: PeerLimitError[] = [];
    const c = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    c.on('error', () => {});
    c.on('connect', () => guardRedisStream(c.stream, { peer: 'redis test', limit: LIMIT, onLimit: (e) => errors.push(e) }));
    try {
      await c.connect();
      for (let i = 0; i < 200; i++) await c.xadd('s', '*', 'id', String(i), 'data', 'x'.repeat(1000));
      const entries = (await c.xrange('s', '-', '+', 'COUNT', 200)) as Array<[string, string[]]>;
      assert.equal(entries.length, 200);
      await c.set('k', 'v'.repeat(LIMIT / 2));
      assert.equal((await c.get('k'))!.length, LIMIT / 2);
      assert.equal(errors.length, 0);
      await c.set('k', 'v'.repeat(LIMIT + 1));
      await assert.rejects(c.get('k'));
      assert.match(errors[0]!.message, /^redis test: bulk string of 1048577 bytes/);
    } finally {
      c.disconnect();
    }
  });
});
