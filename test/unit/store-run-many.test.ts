// store.runMany: several statements as one journaled mutation — all applied or none, and replayed
// as one record after a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { openStore } from '../../core/store/open.ts';
import { crashImage, tempDir, testLog } from '../fixtures/store-helpers.ts';

const TABLE = 'CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty REAL NOT NULL CHECK (qty >= 0))';
const insert = (id: number, name: string, qty: number) => ({ sql: 'INSERT INTO t(id, name, qty) VALUES (:id, :name, :qty)', params: { ':id': id, ':name': name, ':qty': qty } });

test('runMany applies every statement, or none when one fails', async () => {
  const store = await openStore({ dataDir: null, clock: new FakeClock(), log: testLog().log });
  try {
    await store.migrate('t', [TABLE]);
    await store.runMany([insert(1, 'a', 1), insert(2, 'b', 2)]);
    assert.deepEqual(store.query('SELECT id FROM t ORDER BY id').map((r) => r.id), [1, 2]);
    // The second statement breaks the CHECK: the first must be rolled back with it.
    await assert.rejects(store.runMany([insert(3, 'c', 3), insert(4, 'd', -1), insert(5, 'e', 5)]), /CHECK constraint failed/);
    assert.deepEqual(store.query('SELECT id FROM t ORDER BY id').map((r) => r.id), [1, 2]);
    // An empty batch is a no-op, not an error.
    await store.runMany([]);
    assert.equal(store.query('SELECT count(*) AS n FROM t')[0]!.n, 2);
  } finally {
    await store.close();
  }
});

test('a runMany batch survives a crash as one record and a refused one leaves no trace', async () => {
  const tmp = tempDir();
  const clock = new FakeClock();
  try {
    const store = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, commitDelayMs: 1 });
    await store.migrate('t', [TABLE]);
    await store.runMany([insert(1, 'a', 1), { sql: "UPDATE t SET qty = qty + 1 WHERE name = 'a'" }, insert(2, 'b', 2)], { durable: true });
    await assert.rejects(store.runMany([insert(3, 'c', 3), insert(1, 'dup', 1)]));
    const copy = await openStore({ dataDir: crashImage(tmp), clock, log: testLog().log });
    assert.deepEqual(copy.query('SELECT id, name, qty FROM t ORDER BY id'), [{ id: 1, name: 'a', qty: 2 }, { id: 2, name: 'b', qty: 2 }]);
    await copy.close();
    await store.close();
  } finally {
    tmp.remove();
  }
});
