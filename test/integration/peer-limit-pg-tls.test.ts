// PostgreSQL byte limits over TLS: a fake server on 127.0.0.1 answers the SSLRequest with 'S', speaks
// TLS (a self-signed certificate made by openssl), authenticates and then answers a query with a
// DataRow declaring 2 GB and bytes without end. The guard starts on the TLS socket, so the plain
// 'S' and the handshake are not read as PostgreSQL messages: the connection succeeds and the row is
// refused at its header, naming the server and the limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { guardedClient } from '../../adapters/postgres/guard.ts';
import type { PgByteLimits } from '../../adapters/postgres/message-scanner.ts';
import { PeerLimitError } from '../../core/peer-limits.ts';
import { eventually } from '../helpers/eventually.ts';

const opensslSkip = spawnSync('openssl', ['version']).status === 0 ? false : 'openssl not found (apt-get install -y openssl)';

/** One backend message with a body of `body` bytes. */
const message = (type: string, body: number[]): Buffer => {
  const m = Buffer.alloc(5 + body.length);
  m.write(type, 0, 'latin1');
  m.writeUInt32BE(4 + body.length, 1);
  m.set(body, 5);
  return m;
};

describe('PostgreSQL reply limits over TLS', { skip: opensslSkip }, () => {
  let dir: string;
  let server: Server;
  let port = 0;
  const open = new Set<Socket>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-pgtls-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-keyout', 'k.pem', '-out', 'c.pem'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
    const [cert, key] = [readFileSync(join(dir, 'c.pem')), readFileSync(join(dir, 'k.pem'))];
    server = createServer((raw) => {
      open.add(raw);
      raw.on('close', () => open.delete(raw));
      raw.on('error', () => {});
      raw.once('data', () => {
        raw.write('S');
        const tls = new TLSSocket(raw, { isServer: true, cert, key });
        tls.on('error', () => {});
        let startup = true;
        tls.on('data', () => {
          if (startup) {
            startup = false; // AuthenticationOk, then ReadyForQuery (idle)
            tls.write(Buffer.concat([message('R', [0, 0, 0, 0]), message('Z', [0x49])]));
            return;
          }
          tls.write(Buffer.from([0x44, 0x7f, 0xff, 0xff, 0xf0]));
          const chunk = Buffer.alloc(65536, 0x61);
          const pump = () => {
            while (!tls.destroyed && tls.write(chunk));
            if (!tls.destroyed) tls.once('drain', pump);
          };
          setImmediate(pump);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  after(async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('connects over TLS, then a 2 GB row is refused at its header', async () => {
    const pg = (await import('pg')).default;
    const refused: (keyof PgByteLimits)[] = [];
    const peer = `postgresql 127.0.0.1:${port}/postgres`;
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port,
      user: 'fieldgate',
      database: 'postgres',
      max: 1,
      ssl: { rejectUnauthorized: false },
      Client: guardedClient(pg.Client, { peer, onLimit: (_err, setting) => refused.push(setting) }),
    });
    pool.on('error', () => {});
    try {
      const err = await pool.query('SELECT 1').then(() => null, (e: unknown) => e);
      assert.ok(err instanceof PeerLimitError, String(err));
      assert.match(err.message, /^postgresql 127\.0\.0\.1:\d+\/postgres: DataRow \('D'\) of 2147483633 bytes \(\d+ bytes read on this connection\) is over the 1048576-byte limit; refused and the link closed$/);
      assert.deepEqual(refused, ['maxMessageBytes']);
      await eventually('the fake server to see the connection closed', 5000, () => open.size === 0);
    } finally {
      await pool.end();
    }
  });
});
