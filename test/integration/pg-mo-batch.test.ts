// The mo_batch queue in a real PostgreSQL (test/helpers/postgres.ts starts one): the seed's columns,
// batch numbering, the one-transaction upsert (all or nothing), finish/remove/clear, and sharing a
// table the seed's own migrations created.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../core/clock.ts';
import { PgMoBatchRepository } from '../../plugins/odoo-sync/pg-repo.ts';
import { createMoBatchRepository } from '../../plugins/odoo-sync/repo-factory.ts';
import type { NewMoBatch } from '../../plugins/odoo-sync/batch-repo.ts';
import { postgresSkip, startPostgres, type TestPostgres, pgQuery } from '../helpers/postgres.ts';

const SILOS = { a: 101, b: 102, c: 103, d: 104, e: 105, f: 106, g: 107, h: 108, i: 109, j: 110, k: 111, l: 112, m: 113 };

function mo(id: string, consumption = 100, extra: Partial<NewMoBatch> = {}): NewMoBatch {
  return {
    mo_id: id,
    consumption,
    equipment_id_batch: 'MIXER1',
    finished_goods: 'Broiler feed',
    bom_code: 'BOM-01',
    silos: { ...SILOS },
    component_names: { a: 'Corn', c: 'Soybean meal' },
    consumptions: { a: 60, c: 40 },
    ...extra,
  };
}

describe('PgMoBatchRepository on PostgreSQL', { skip: postgresSkip }, () => {
  let server: TestPostgres;
  let repo: PgMoBatchRepository;
  const pg = <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => pgQuery<T>(server.url, sql, params);

  before(async () => {
    server = await startPostgres();
    repo = new PgMoBatchRepository({ connectionString: server.url, clock: systemClock });
    await repo.init();
    await repo.init(); // idempotent
  });

  after(async () => {
    await repo?.close();
    await server?.stop();
  });

  test('the table has the seed\'s columns and defaults', async () => {
    const cols = (await pg<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'mo_batch'`)).map((r) => r.column_name);
    for (const c of ['batch_no', 'mo_id', 'consumption', 'equipment_id_batch', 'finished_goods', 'silo_a', 'silo_m', 'component_silo_a_name', 'consumption_silo_m', 'status_manufacturing', 'status_operation', 'actual_weight_quantity_finished_goods']) {
      assert.ok(cols.includes(c), `column ${c}`);
    }
    assert.equal(repo.description.includes('127.0.0.1'), true);
    assert.equal(repo.description.includes('@'), false, 'no credentials in the description');
  });

  test('upsert numbers new MOs 1..N, updates known ones, and reads back what was written', async () => {
    await repo.clear();
    assert.deepEqual(await repo.upsert([mo('WH/MO/00001', 100), mo('WH/MO/00002', 250.5, { liquids: { lq114: { name: 'Molasses', consumption: 12.5 } } }), mo('WH/MO/00003')]), { inserted: 3, updated: 0 });
    assert.deepEqual(await repo.upsert([mo('WH/MO/00002', 300), mo('WH/MO/00004')]), { inserted: 1, updated: 1 });
    const rows = await repo.list();
    assert.deepEqual(rows.map((r) => [r.batch_no, r.mo_id]), [[1, 'WH/MO/00001'], [2, 'WH/MO/00002'], [3, 'WH/MO/00003'], [4, 'WH/MO/00004']]);
    const two = (await repo.get(2))!;
    assert.equal(two.consumption, 300);
    assert.deepEqual(two.silos, SILOS);
    assert.deepEqual(two.component_names, { a: 'Corn', c: 'Soybean meal' });
    assert.deepEqual(two.consumptions, { a: 60, c: 40 });
    assert.equal(two.liquids, undefined, 'the update replaced the tank data');
    assert.equal(two.status_manufacturing, false);
    assert.ok(Math.abs(two.updated_at - Date.now() / 1000) < 60);
    const raw = (await pg<{ silo_b: number; consumption_silo_a: number }>(`SELECT silo_b, consumption_silo_a FROM mo_batch WHERE batch_no = 1`))[0];
    assert.deepEqual(raw, { silo_b: 102, consumption_silo_a: 60 }, 'other systems read the seed\'s columns');
    assert.equal(await repo.count(), 4);
  });

  test('a repeated mo_id in one sync updates its row (as one-by-one would)', async () => {
    await repo.clear();
    assert.deepEqual(await repo.upsert([mo('A', 1), mo('B', 2), mo('A', 3)]), { inserted: 2, updated: 1 });
    assert.deepEqual((await repo.list()).map((r) => [r.batch_no, r.mo_id, r.consumption]), [[1, 'A', 3], [2, 'B', 2]]);
  });

  test('all or nothing: one bad row rolls the whole sync back', async () => {
    await repo.clear();
    await repo.upsert([mo('KEEP', 10)]);
    await assert.rejects(repo.upsert([mo('KEEP', 20), mo('NEW-1'), mo('BAD', -5)]), (err: Error) => {
      assert.match(err.message, /postgresql 127\.0\.0\.1:\d+\/postgres: .*check constraint.*rolled back, the queue is unchanged/);
      return true;
    });
    assert.deepEqual((await repo.list()).map((r) => [r.batch_no, r.mo_id, r.consumption]), [[1, 'KEEP', 10]]);
  });

  test('markFinished, remove and clear; numbering continues from the highest batch', async () => {
    await repo.clear();
    await repo.upsert([mo('X1'), mo('X2'), mo('X3')]);
    await repo.markFinished(1, { failed: false, actualWeight: 99.5 });
    await repo.markFinished(2, { failed: true, actualWeight: null });
    const [one, two] = await repo.list();
    assert.deepEqual([one.status_manufacturing, one.status_operation, one.actual_weight_quantity_finished_goods], [true, false, 99.5]);
    assert.deepEqual([two.status_manufacturing, two.status_operation, two.actual_weight_quantity_finished_goods], [true, true, null]);
    await repo.remove(1);
    await repo.upsert([mo('X4')]);
    assert.deepEqual((await repo.list()).map((r) => r.batch_no), [2, 3, 4]);
    assert.equal(await repo.clear(), 3);
    assert.equal(await repo.count(), 0);
  });

  test('shares a table the seed\'s migrations created (uuid id, no bom_code, no unique mo_id)', async () => {
    await pg(`CREATE TABLE seed_batch (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), batch_no integer NOT NULL, mo_id varchar(64) NOT NULL,
      consumption numeric(18,3) NOT NULL, equipment_id_batch varchar(64) NOT NULL, finished_goods varchar(128),
      ${Object.keys(SILOS).map((l, i) => `silo_${l} integer NOT NULL DEFAULT ${101 + i}, component_silo_${l}_name varchar(64), consumption_silo_${l} double precision`).join(', ')},
      status_manufacturing boolean NOT NULL DEFAULT false, status_operation boolean NOT NULL DEFAULT false, actual_weight_quantity_finished_goods numeric(18,3))`);
    await pg(`INSERT INTO seed_batch (batch_no, mo_id, consumption, equipment_id_batch) VALUES (1, 'SEED/1', 5, 'M1')`);
    const shared = new PgMoBatchRepository({ connectionString: server.url, clock: systemClock, table: 'seed_batch' });
    try {
      await shared.init();
      assert.deepEqual(await shared.upsert([mo('SEED/1', 7), mo('NEW/2', 8, { equipment_id_batch: null })]), { inserted: 1, updated: 1 });
      assert.deepEqual((await shared.list()).map((r) => [r.batch_no, r.mo_id, r.consumption, r.bom_code]), [[1, 'SEED/1', 7, 'BOM-01'], [2, 'NEW/2', 8, 'BOM-01']]);
    } finally {
      await shared.close();
    }
  });

  test('the factory picks PostgreSQL for a URL and names the database when it cannot be reached', async () => {
    const picked = await createMoBatchRepository({ database: server.url }, { store: undefined as never, clock: systemClock });
    assert.match(picked.description, /^mo_batch in postgresql 127\.0\.0\.1/);
    await picked.close();
    await assert.rejects(createMoBatchRepository({ database: 'mysql://x' }, { store: undefined as never, clock: systemClock }), /postgres:\/\/ or postgresql:\/\//);
    const down = new PgMoBatchRepository({ connectionString: 'postgres://u:secret@127.0.0.1:1/db', clock: systemClock, connectTimeoutMs: 2000 });
    await assert.rejects(down.list(), (err: Error) => {
      assert.match(err.message, /^mo_batch in postgresql 127\.0\.0\.1:1\/db: .*ECONNREFUSED/);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
    await down.close();
  });
});
