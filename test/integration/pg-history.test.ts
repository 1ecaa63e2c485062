// The pg-history plugin against a real PostgreSQL (test/helpers/postgres.ts starts one): can_messages
// rows appended to the history store appear in PostgreSQL with the seed's columns; the server stopped
// during ingest → the rows wait in the history store and arrive after it returns, none lost, none
// duplicated; a restarted gateway resumes from the persisted cursor; a lost cursor replays without
// duplicates; the connection string's password is never logged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import type { LogFields } from '../../core/log.ts';
import type { HistoryRecord } from '../../core/history/types.ts';
import pgHistory, { cursorKey } from '../../plugins/pg-history/plugin.ts';
import { testManifest } from '../helpers/manifest.ts';
import { eventually } from '../helpers/eventually.ts';
import { postgresSkip, startPostgres, type TestPostgres, pgQuery } from '../helpers/postgres.ts';

const BASE = Date.UTC(2026, 5, 1, 12);
const SECRET = 's3cret-pw';

/** Two rows per millisecond (different ids), so equal timestamps cross batch boundaries. */
function rows(from: number, n: number): HistoryRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const timestamp = BASE + Math.floor(i / 2);
    const raw = [i & 0xff, (i >> 8) & 0xff, 0x10, 0x04].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    return {
      ts: timestamp,
      data: { timestamp, can_id: i % 2 ? '0x101' : '0x102', node_id: 'FLOWER_BACK', message_type: i % 2 ? 'FlowerBack_Psychro' : 'FlowerBack_SCD30', dlc: 4, raw_data: raw, decoded_data: JSON.stringify({ i, DryBulb: 20 + i / 100 }) },
    };
  });
}

describe('pg-history on PostgreSQL', { skip: postgresSkip }, () => {
  let server: TestPostgres;
  let url: string;
  let dataDir: string;
  const lines: LogFields[] = [];

  const pg = <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => pgQuery<T>(server.url, sql, params);
  const count = async (): Promise<number> => Number((await pg<{ n: string }>('SELECT count(*) AS n FROM can_messages'))[0].n);

  async function runtime(): Promise<Runtime> {
    const log = memoryLog('debug');
    const root = log.root;
    const rt = await createRuntime({
      manifest: testManifest([{ id: 'pgh', use: 'pg-history', config: { url, batchSize: 100, intervalMs: 30, connectTimeoutMs: 1000, retry: { initialMs: 50, maxMs: 300 } } }]),
      plugins: [pgHistory],
      adapters: [],
      logRoot: root,
      dataDir,
    });
    // Collected across runtimes for the credential check.
    const push = log.lines.push.bind(log.lines);
    log.lines.push = (...l: LogFields[]) => (lines.push(...l), push(...l));
    return rt;
  }
  const check = (rt: Runtime) => rt.health.report().checks['pgh.postgres'];

  before(async () => {
    server = await startPostgres();
    const u = new URL(server.url);
    u.password = SECRET; // trust auth ignores it; it must still never reach the log.
    url = u.toString();
    dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-pgh-'));
  });

  after(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('mirrors rows, survives the server stopping, resumes from its cursor, never duplicates', async () => {
    let rt = await runtime();
    try {
      await rt.start();
      await rt.history.append('can_messages', rows(0, 250));
      await eventually('250 rows in PostgreSQL', 5000, async () => (await count()) === 250);
      assert.equal(check(rt).ok, true, check(rt).detail);
      assert.match(check(rt).detail!, /plain table/);
      const cols = await pg<{ column_name: string; data_type: string }>(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'can_messages' ORDER BY ordinal_position`);
      assert.deepEqual(cols.map((c) => `${c.column_name}:${c.data_type}`), [
        'timestamp:timestamp with time zone', 'can_id:text', 'node_id:text', 'message_type:text', 'dlc:integer', 'raw_data:text', 'decoded_data:jsonb',
      ]);
      const r = (await pg<Record<string, unknown>>(`SELECT (extract(epoch FROM "timestamp") * 1000)::float8 AS ms, can_id, node_id, message_type, dlc, raw_data, decoded_data FROM can_messages WHERE decoded_data->>'i' = '201'`))[0];
      assert.deepEqual({ ...r, ms: Math.round(r.ms as number) }, {
        ms: BASE + 100, can_id: '0x101', node_id: 'FLOWER_BACK', message_type: 'FlowerBack_Psychro', dlc: 4, raw_data: 'C9 00 10 04', decoded_data: { i: 201, DryBulb: 20 + 201 / 100 },
      });

      // The server goes away during ingest: rows keep arriving in the history store.
      server.halt?.();
      try {
        await rt.history.append('can_messages', rows(250, 100));
        await eventually('health degraded', 5000, () => check(rt).ok === false);
        assert.match(check(rt).detail!, /down, rows wait in the history store/);
        await rt.history.append('can_messages', rows(350, 150));
      } finally {
        server.resume?.();
      }
      await eventually('500 rows after PostgreSQL returned', 8000, async () => {
        const n = await count();
        if (n !== 500) throw new Error(`${n} rows; ${check(rt).detail}`);
        return true;
      });
      await eventually('health ok again', 3000, () => check(rt).ok);
    } finally {
      await rt.stop();
    }

    // Restart: rows appended while the plugin was not running are sent; nothing before the cursor is resent.
    rt = await runtime();
    try {
      await rt.history.append('can_messages', rows(500, 40));
      await rt.start();
      await eventually('540 rows', 5000, async () => (await count()) === 540);
      assert.match(check(rt).detail!, /sent 40, inserted 40/);
    } finally {
      await rt.stop();
    }

    // A lost cursor replays the whole series: ON CONFLICT keeps every row once.
    rt = await runtime();
    try {
      await rt.store.delete(cursorKey('pgh'));
      await rt.start();
      await eventually('the replay done', 5000, () => /sent 540, inserted 0/.test(check(rt).detail ?? ''));
      assert.equal(await count(), 540);
    } finally {
      await rt.stop();
    }

    const keys = await pg<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT decoded_data->>'i') AS d FROM can_messages`);
    assert.deepEqual(keys[0], { n: '540', d: '540' }, 'every row exactly once');
    const text = JSON.stringify(lines);
    assert.ok(lines.length > 0);
    assert.ok(!text.includes(SECRET), 'the password never reaches the log');
    assert.match(text, /PostgreSQL unavailable/);
  });
});
