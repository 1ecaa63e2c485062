// PostgreSQL replies have byte limits, against a real server (test/helpers/postgres.ts starts one): a
// 2 MB row is refused at its header under the default 1 MiB message limit, a result past
// maxResultBytes is refused, each with an error naming the server and the limit; the counter goes up,
// the process survives the closed socket, and the next query (on a new connection) works. A fake
// server's endless message during start-up is cut at its header. Wired through pg-history (a 2 MB
// NOTICE from a trigger) and odoo-sync's mo_batch repository (a 10 KB row under a 4 KiB limit: the
// whole message and its ReadyForQuery arrive in one chunk, which must still fail the query).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { createServer, type Socket } from 'node:net';
import { guardedClient, type PgGuardOptions } from '../../adapters/postgres/guard.ts';
import type { PgByteLimits } from '../../adapters/postgres/message-scanner.ts';
import { systemClock } from '../../core/clock.ts';
import { createRuntime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { PeerLimitError, peerLimitCounter } from '../../core/peer-limits.ts';
import { createMoBatchRepository } from '../../plugins/odoo-sync/repo-factory.ts';
import pgHistory from '../../plugins/pg-history/plugin.ts';
import { eventually } from '../helpers/eventually.ts';
import { testManifest } from '../helpers/manifest.ts';
import { postgresSkip, startPostgres, type TestPostgres, pgQuery } from '../helpers/postgres.ts';

const counted = async (metrics: MetricsRegistry, peer: string): Promise<number> =>
  Number(new RegExp(`fieldgate_peer_reply_oversize_total\\{peer="${peer}"\\} (\\d+)`).exec(await metrics.registry.metrics())?.[1] ?? 0);

describe('PostgreSQL reply limits', { skip: postgresSkip }, () => {
  let server: TestPostgres;
  let where: string;

  before(async () => {
    server = await startPostgres();
    const u = new URL(server.url);
    where = `postgresql ${u.hostname}:${u.port}${u.pathname}`;
  });

  after(async () => {
    await server?.stop();
  });

  /** A guarded pool as the plugins build one, with the clients it opened. */
  async function guardedPool(limits?: Partial<PgByteLimits>, url = server.url) {
    const pg = (await import('pg')).default;
    const metrics = new MetricsRegistry();
    const count = peerLimitCounter(metrics);
    const refused: Parameters<NonNullable<PgGuardOptions['onLimit']>>[] = [];
    const onLimit: PgGuardOptions['onLimit'] = (err, setting) => (count('pg'), refused.push([err, setting]));
    const pool: Pool = new pg.Pool({ connectionString: url, max: 1, Client: guardedClient(pg.Client, { peer: where, limits, onLimit }) });
    pool.on('error', () => {});
    const clients: PoolClient[] = [];
    pool.on('connect', (c: PoolClient) => clients.push(c));
    return { pool, metrics, refused, clients };
  }

  test('a 2 MB row is refused at the default 1 MiB message limit; the next query works', async () => {
    const { pool, metrics, refused, clients } = await guardedPool();
    try {
      assert.equal((await pool.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n, 1);
      const err = await pool.query(`SELECT repeat('x', 2000000) AS big`).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof PeerLimitError, String(err));
      assert.match(err.message, new RegExp(`^${where}: DataRow \\('D'\\) of 2000011 bytes \\(\\d+ bytes read on this connection\\) is over the 1048576-byte limit; refused and the link closed$`));
      assert.equal(refused.length, 1);
      assert.equal(refused[0]![1], 'maxMessageBytes');
      assert.equal(await counted(metrics, 'pg'), 1);
      // The client's later 'error' (connection terminated) fired without crashing the process.
      if (!clients[0]!.connection.stream.destroyed) await once(clients[0]!.connection.stream, 'close');
      assert.equal((await pool.query<{ n: number }>('SELECT 2 AS n')).rows[0]!.n, 2);
      assert.equal(clients.length, 2, 'the refused connection was replaced');
    } finally {
      await pool.end();
    }
  });

  test('a result past maxResultBytes is refused even though each row is small', async () => {
    const { pool, metrics, refused } = await guardedPool({ maxResultBytes: 1024 * 1024 });
    try {
      const rows = await pool.query(`SELECT repeat('x', 100000) FROM generate_series(1, 5)`);
      assert.equal(rows.rowCount, 5, 'half a megabyte passes');
      await assert.rejects(pool.query(`SELECT repeat('x', 100000) FROM generate_series(1, 50)`), (e: unknown) =>
        e instanceof PeerLimitError && e.limit === 1048576 && /: query result of \d+ bytes so far \(at a DataRow \('D'\) of 100011 bytes\)/.test(e.message));
      assert.equal(refused[0]![1], 'maxResultBytes');
      assert.equal(await counted(metrics, 'pg'), 1);
      assert.equal((await pool.query(`SELECT repeat('x', 100000) FROM generate_series(1, 5)`)).rowCount, 5);
    } finally {
      await pool.end();
    }
  });

  test('an endless message during start-up (before authentication) is refused at its header', async () => {
    const open = new Set<Socket>();
    let sent = 0;
    // Answers the startup packet with an Authentication message declaring 2 GB, then sends bytes for ever.
    const fake = createServer((s) => {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {});
      s.once('data', () => {
        const header = Buffer.from([0x52, 0x7f, 0xff, 0xff, 0xf0]);
        s.write(header);
        const chunk = Buffer.alloc(65536, 0x61);
        const pump = () => {
          while (!s.destroyed && s.write(chunk)) sent += chunk.length;
          if (!s.destroyed) s.once('drain', pump);
        };
        setImmediate(pump);
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const { port } = fake.address() as { port: number };
    const { pool, metrics, refused } = await guardedPool(undefined, `postgres://fieldgate@127.0.0.1:${port}/postgres`);
    try {
      await assert.rejects(pool.query('SELECT 1'), (e: unknown) =>
        e instanceof PeerLimitError && /: Authentication \('R'\) of 2147483633 bytes \(\d+ bytes read on this connection\) is over the 1048576-byte limit/.test(e.message));
      assert.equal(refused.length, 1);
      assert.equal(await counted(metrics, 'pg'), 1);
      await eventually('the fake server to see the connection closed', 5000, () => open.size === 0);
      assert.ok(sent < 64 * 1024 * 1024, `${sent} bytes were sent before the close`);
    } finally {
      await pool.end();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });

  test('pg-history: a 2 MB notice on INSERT is refused and counted; rows arrive once it stops', async () => {
    await pgQuery(server.url, `CREATE TABLE IF NOT EXISTS can_messages ("timestamp" timestamptz NOT NULL, can_id text NOT NULL, node_id text, message_type text, dlc integer, raw_data text NOT NULL, decoded_data jsonb)`);
    await pgQuery(server.url, `CREATE OR REPLACE FUNCTION loud() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE '%', repeat('x', 2000000); RETURN NEW; END $$`);
    await pgQuery(server.url, `CREATE TRIGGER loud BEFORE INSERT ON can_messages FOR EACH STATEMENT EXECUTE FUNCTION loud()`);
    const log = memoryLog('debug');
    const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-pglimit-'));
    const rt = await createRuntime({
      manifest: testManifest([{ id: 'pgh', use: 'pg-history', config: { url: server.url, intervalMs: 30, connectTimeoutMs: 2000, retry: { initialMs: 50, maxMs: 200 } } }]),
      plugins: [pgHistory],
      adapters: [],
      logRoot: log.root,
      dataDir,
    });
    try {
      await rt.start();
      await rt.history.append('can_messages', [{ ts: 1_750_000_000_000, data: { timestamp: 1_750_000_000_000, can_id: '0x101', raw_data: '01 02', dlc: 2 } }]);
      await eventually('the notice to be refused', 10_000, async () => (await counted(rt.metrics, 'pgh')) >= 1);
      const warning = log.lines.find((l) => /over the 1048576-byte limit/.test(String(l.msg)));
      assert.ok(warning, 'logged');
      assert.match(String(warning.msg), new RegExp(`^${where}: NoticeResponse \\('N'\\) of \\d+ bytes .*; refused and the link closed \\(maxMessageBytes raises the limit\\)`));
      assert.match(rt.health.report().checks['pgh.postgres']!.detail ?? '', /NoticeResponse \('N'\) of \d+ bytes .* is over the 1048576-byte limit/);
      await pgQuery(server.url, 'DROP TRIGGER loud ON can_messages');
      await eventually('the row in PostgreSQL', 10_000, async () => (await pgQuery(server.url, 'SELECT 1 FROM can_messages')).length === 1);
    } finally {
      await rt.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('odoo-sync: a history row past databaseLimits.maxMessageBytes is refused; the queue still answers', async () => {
    const refused: string[] = [];
    const repo = await createMoBatchRepository(
      { database: server.url, table: 'mo_batch', databaseLimits: { maxMessageBytes: 4096 } },
      { store: undefined as never, clock: systemClock, onLimit: (err, setting) => refused.push(`${setting}: ${err.message}`) },
    );
    try {
      await repo.init();
      await pgQuery(server.url, `INSERT INTO mo_histories (key, mo_id, batch_no, status_operation, actual_consumption, data, finished_at, state)
VALUES ('big', 'MO-1', 1, true, '{}', jsonb_build_object('pad', repeat('x', 10000)), now(), 'pending')`);
      await assert.rejects(repo.history(), /DataRow \('D'\) of \d+ bytes .*is over the 4096-byte limit/);
      assert.equal(refused.length, 1);
      assert.match(refused[0]!, /^maxMessageBytes: postgresql /);
      assert.equal(await repo.count(), 0);
    } finally {
      await repo.close();
    }
  });
});
