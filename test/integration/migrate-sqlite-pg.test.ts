// `fieldgate migrate sqlite-to-postgres` end to end: a generated seed-shaped SQLite file (sql.js) into
// a throwaway PostgreSQL through the real command (bin/fieldgate.ts on this runtime): integrity check
// passes (exit 0); a second run resumes and copies nothing; a row changed in PostgreSQL, and a tampered
// SQLite copy, make the check fail loudly (exit 1) naming the row. The password is never printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSqlJs } from '../../core/store/sqlite.ts';
import { runTs } from '../helpers/spawn.ts';
import { postgresSkip, startPostgres, type TestPostgres, pgQuery } from '../helpers/postgres.ts';

const ROWS = 3000;
const BASE_S = Date.UTC(2025, 0, 15, 8) / 1000;

async function seedFile(path: string, tamper = false): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.run(`CREATE TABLE can_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp REAL, can_id TEXT, node_id TEXT, message_type TEXT, dlc INTEGER, raw_data TEXT, decoded_data TEXT)`);
  const ins = db.prepare('INSERT INTO can_messages (timestamp, can_id, node_id, message_type, dlc, raw_data, decoded_data) VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.run('BEGIN');
  for (let i = 0; i < ROWS; i++) {
    const box = i % 3;
    const ts = BASE_S + Math.floor(i / 3) + box * 0.001 + 0.000123; // µs precision, seconds as REAL
    const raw = [i & 0xff, (i >> 8) & 0xff, box, 0x10].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    let decoded = JSON.stringify({ dry_bulb: 20 + (i % 50) / 10, rh: 55.5, i });
    if (tamper && i === 1234) decoded = JSON.stringify({ dry_bulb: 99.9, rh: 55.5, i });
    ins.run([ts, ['0x101', '0x102', '0x18FF5001'][box], ['FLOWER_BACK', 'FLOWER_FRONT', 'VEG'][box], ['Psychro', 'SCD30', 'Pressure'][box], 4, raw, decoded]);
  }
  db.run('COMMIT');
  ins.free();
  writeFileSync(path, db.export());
  db.close();
}

const EXACT_S = Date.UTC(2030, 0, 1) / 1000;
const BIG = ['9007199254740993', '18446744073709551615', '-9007199254740995'];

/** Rows whose decoded_data JavaScript numbers cannot hold: integers above 2^53, `23.0`, `1e2`. */
async function exactFile(path: string, unreadable: boolean): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.run(`CREATE TABLE can_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp REAL, can_id TEXT, node_id TEXT, message_type TEXT, dlc INTEGER, raw_data TEXT, decoded_data TEXT)`);
  const ins = db.prepare('INSERT INTO can_messages (timestamp, can_id, node_id, message_type, dlc, raw_data, decoded_data) VALUES (?, ?, ?, ?, ?, ?, ?)');
  BIG.forEach((big, i) => ins.run([EXACT_S + i + (unreadable ? 100 : 0), '0x123', 'BOX', 'Counter', 8, `0${i} 00 00 00 00 00 00 00`, `{"counter": ${big}, "t": 23.0, "p": 1e2, "nested": {"b": [${big}, 0.10]}}`]));
  if (unreadable) ins.run(['not a time', '0x123', 'BOX', 'Counter', 8, '00', '{}']);
  ins.free();
  writeFileSync(path, db.export());
  db.close();
}

describe('fieldgate migrate sqlite-to-postgres', { skip: postgresSkip }, () => {
  let server: TestPostgres;
  let dir: string;
  let url: string;
  const SECRET = 'mig-s3cret';

  const pg = <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => pgQuery<T>(server.url, sql, params);
  const count = async () => Number((await pg<{ n: string }>('SELECT count(*) AS n FROM can_messages'))[0].n);
  const migrate = (file: string, ...extra: string[]) => runTs('bin/fieldgate.ts', ['migrate', 'sqlite-to-postgres', file, url, '--batch', '500', ...extra]);

  before(async () => {
    server = await startPostgres();
    // trust auth: any password is accepted, so the test can check it is never printed
    const u = new URL(server.url);
    u.password = SECRET;
    url = u.toString();
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-migrate-'));
    await seedFile(join(dir, 'seed.db'));
    await seedFile(join(dir, 'tampered.db'), true);
    await exactFile(join(dir, 'exact.db'), false);
    await exactFile(join(dir, 'unreadable.db'), true);
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('copies every row and the integrity check passes', async () => {
    const r = await migrate(join(dir, 'seed.db'));
    const all = r.stdout + r.stderr;
    assert.equal(r.code, 0, all);
    assert.match(r.stdout, new RegExp(`copied ${ROWS} row\\(s\\): ${ROWS} inserted`));
    assert.match(r.stdout, new RegExp(`integrity: OK, ${ROWS} row\\(s\\) match`));
    assert.match(r.stderr, /migrate: \[#+\] 100\.0%/); // not a TTY: plain progress lines
    assert.ok(!all.includes(SECRET), 'password printed');
    assert.equal(await count(), ROWS);
    const [row] = await pg<{ us: string; decoded_data: unknown }>(`SELECT (extract(epoch FROM "timestamp") * 1000000)::int8::text AS us, decoded_data FROM can_messages WHERE can_id = '0x18FF5001' ORDER BY "timestamp" LIMIT 1`);
    assert.equal(row.us, String(Math.round((BASE_S + 0.002123) * 1e6)));
    assert.deepEqual(row.decoded_data, { dry_bulb: 20.2, rh: 55.5, i: 2 });
  });

  test('a second run resumes: nothing copied, nothing duplicated, check passes', async () => {
    const r = await migrate(join(dir, 'seed.db'));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /resuming: nothing to copy/);
    assert.match(r.stdout, /integrity: OK/);
    assert.equal(await count(), ROWS);
    const [m] = await pg<{ last_rowid: string; rows_copied: string }>('SELECT last_rowid, rows_copied FROM fieldgate_migrations');
    assert.equal(Number(m.last_rowid), ROWS);
    assert.equal(Number(m.rows_copied), ROWS);
  });

  test('a tampered SQLite copy fails the check loudly (exit 1), naming the row', async () => {
    const r = await migrate(join(dir, 'tampered.db'));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`${ROWS} inserted|0 inserted`)); // the copy is a new source: re-sent, all duplicates
    assert.match(r.stderr, /INTEGRITY CHECK FAILED/);
    assert.match(r.stderr, /checksums differ/);
    assert.match(r.stderr, /differs: SQLite rowid 1235 .*decoded_data SQLite=\{"dry_bulb":99\.9/);
    assert.equal(await count(), ROWS);
  });

  test('a row changed and a row deleted in PostgreSQL fail the check (exit 1)', async () => {
    await pg(`UPDATE can_messages SET message_type = 'Tampered' WHERE "timestamp" = (SELECT min("timestamp") FROM can_messages)`);
    await pg(`DELETE FROM can_messages WHERE ctid = (SELECT ctid FROM can_messages ORDER BY "timestamp" DESC LIMIT 1)`);
    const r = await migrate(join(dir, 'seed.db'));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /INTEGRITY CHECK FAILED/);
    assert.match(r.stderr, new RegExp(`row counts differ: SQLite ${ROWS}, PostgreSQL ${ROWS - 1}`));
    assert.match(r.stderr, /missing in PostgreSQL: SQLite rowid 3000/);
    assert.match(r.stderr, /differs: SQLite rowid 1 .*message_type SQLite=Psychro PostgreSQL=Tampered/);
    assert.ok(!(r.stdout + r.stderr).includes(SECRET), 'password printed');
  });

  test('integers beyond 2^53 and numbers like 23.0 are copied and compared exactly; a big integer changed by one fails', async () => {
    const r = await migrate(join(dir, 'exact.db'));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /integrity: OK, 3 row\(s\) match/);
    const rows = await pg<{ counter: string; t: string; p: string; b0: string; b1: string }>(`SELECT decoded_data->>'counter' AS counter, decoded_data->>'t' AS t, decoded_data->>'p' AS p, decoded_data->'nested'->'b'->>0 AS b0, decoded_data->'nested'->'b'->>1 AS b1 FROM can_messages WHERE message_type = 'Counter' ORDER BY "timestamp"`);
    assert.deepEqual(rows.map((x) => x.counter), BIG, 'as written, not rounded to a double');
    assert.deepEqual([rows[0].t, rows[0].p, rows[0].b0, rows[0].b1], ['23.0', '100', BIG[0], '0.10']);

    await pg(`UPDATE can_messages SET decoded_data = jsonb_set(decoded_data, '{counter}', '9007199254740992'::jsonb) WHERE message_type = 'Counter' AND decoded_data->>'counter' = '9007199254740993'`);
    const t = await migrate(join(dir, 'exact.db'));
    assert.equal(t.code, 1, t.stdout + t.stderr);
    assert.match(t.stderr, /INTEGRITY CHECK FAILED/);
    assert.match(t.stderr, /differs: SQLite rowid 1 .*decoded_data SQLite=\{"counter":9007199254740993,.*PostgreSQL=\{"counter":9007199254740992,/);
  });

  test('one unreadable row is reported as one', async () => {
    const r = await migrate(join(dir, 'unreadable.db'));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /copied 4 row\(s\): 3 inserted, 0 already in PostgreSQL, 1 unreadable/);
    assert.match(r.stderr, /, 1 unreadable SQLite row\(s\)/);
    assert.equal((r.stderr.match(/unreadable: rowid 4: unparsable timestamp "not a time"/g) ?? []).length, 1);
  });
});
