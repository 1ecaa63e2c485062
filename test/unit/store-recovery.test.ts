import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { StorageError } from '../../core/errors.ts';
import { encodeLine, scanJournal } from '../../core/store/journal-format.ts';
import { openStore } from '../../core/store/open.ts';
import { crashImage, tempDir, testLog } from '../fixtures/store-helpers.ts';

function journalFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => /^journal-\d+\.log$/.test(n)).sort();
}

test('journal format: CRC-checked lines, scanning stops at damage', () => {
  const a = encodeLine('{"s":1,"o":"del","k":"ü€😀"}');
  const b = encodeLine('{"s":2,"o":"del","k":"b"}');
  const bytes = new TextEncoder().encode(a + b + b.slice(0, 10));
  const scan = scanJournal(bytes);
  assert.deepEqual(scan.records.map((r) => r.s), [1, 2]);
  assert.equal(scan.validBytes, new TextEncoder().encode(a + b).length);
  assert.equal(scan.badLines, 1);
  // A flipped byte inside a record fails its CRC even though it is still valid JSON.
  const flipped = new TextEncoder().encode(a.replace('"b"', '"c"') + b.replace('"b"', '"c"'));
  assert.deepEqual(scanJournal(flipped).records.map((r) => r.s), [1]);
});

async function crashedStore(tmp: ReturnType<typeof tempDir>, clock: FakeClock, write: (s: Awaited<ReturnType<typeof openStore>>) => Promise<void>) {
  const store = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, commitDelayMs: 0 });
  await write(store);
  const image = crashImage(tmp);
  await store.close();
  return image;
}

for (const [name, garbage] of [
  ['half a record', (line: string) => line.slice(0, Math.floor(line.length / 2))],
  ['random bytes', () => '\u0000\u00ff\u0007 not a record at all'],
  ['a whole line with a bad CRC', (line: string) => '00000000' + line.slice(8)],
] as const) {
  test(`torn journal tail (${name}) is skipped, logged with file and offset, cut off; later writes work`, async () => {
    const tmp = tempDir();
    try {
      const clock = new FakeClock();
      const image = await crashedStore(tmp, clock, async (s) => {
        await s.set('a', 1);
        await s.set('b', { two: 2 });
      });
      const [journal] = journalFiles(image);
      const path = join(image, journal);
      const cleanSize = statSync(path).size;
      appendFileSync(path, garbage(encodeLine('{"s":3,"o":"set","k":"c","u":1,"v":3}')));
      const { log, lines } = testLog();
      const store = await openStore({ dataDir: image, clock, log, commitDelayMs: 0 });
      assert.equal(store.get('a'), 1);
      assert.deepEqual(store.get('b'), { two: 2 });
      assert.equal(store.get('c'), undefined);
      const s = store.status();
      assert.equal(s.recovery.journalRecordsReplayed, 2);
      assert.equal(s.recovery.tornRecordsSkipped, 1);
      assert.equal(s.ok, true, 'a torn tail loses only an unacknowledged write');
      const warn = lines.find((l) => l.level === 'warn');
      assert.ok(warn, 'a warning was logged');
      assert.equal(warn.path, path);
      assert.equal(warn.offset, cleanSize);
      assert.match(String(warn.msg), new RegExp(`${journal}.*byte ${cleanSize}`));
      assert.equal(statSync(path).size, cleanSize, 'the garbage was truncated');
      assert.deepEqual(await store.set('c', 3), { durable: true });
      assert.equal(scanJournal(new Uint8Array(readFileSync(path))).validBytes, statSync(path).size, 'the new record follows cleanly');
      await store.close();
      const again = await openStore({ dataDir: image, clock, log: testLog().log });
      assert.deepEqual([again.get('a'), again.get('c')], [1, 3]);
      assert.equal(again.status().recovery.tornRecordsSkipped, 0);
      await again.close();
    } finally {
      tmp.remove();
    }
  });
}

test('damage in the middle of the journal is kept aside, reported, and status ok=false', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const image = await crashedStore(tmp, clock, async (s) => {
      for (const k of ['a', 'b', 'c']) await s.set(k, k);
    });
    const path = join(image, journalFiles(image)[0]);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace('"v":"b"', '"v":"B"'));
    const { log, lines } = testLog();
    const store = await openStore({ dataDir: image, clock, log });
    assert.equal(store.get('a'), 'a');
    assert.equal(store.get('c'), undefined, 'nothing after the damage is trusted');
    const s = store.status();
    assert.equal(s.ok, false);
    assert.match(String(s.lastError), /damaged record at byte \d+ followed by intact ones/);
    assert.ok(lines.some((l) => l.level === 'error'));
    assert.equal(readdirSync(image).filter((n) => n.includes('.log.corrupt-')).length, 1, 'the original file was kept');
    await store.close();
  } finally {
    tmp.remove();
  }
});

for (const [name, damage] of [
  ['garbage', (p: string) => writeFileSync(p, 'this is not an SQLite file '.repeat(200))],
  ['cut in half', (p: string) => truncateSync(p, Math.floor(statSync(p).size / 2))],
  ['a trashed page', (p: string) => {
    const b = readFileSync(p);
    b.fill(0xa5, 4096, 8192);
    writeFileSync(p, b);
  }],
] as const) {
  test(`corrupt snapshot (${name}) is moved aside, the journal is recovered, and status says so`, async () => {
    const tmp = tempDir();
    try {
      const clock = new FakeClock();
      const image = await crashedStore(tmp, clock, async (s) => {
        await s.migrate('m', ['CREATE TABLE big(x TEXT)']);
        for (let i = 0; i < 40; i++) await s.run('INSERT INTO big VALUES (:x)', { ':x': 'y'.repeat(200) });
        await s.set('before', 1);
        await s.snapshot();
        await s.set('after1', 2);
        await s.set('after2', 3);
      });
      const snap = join(image, 'state.db');
      damage(snap);
      const damaged = readFileSync(snap);
      const { log, lines } = testLog();
      const store = await openStore({ dataDir: image, clock, log });
      const s = store.status();
      assert.equal(s.ok, false);
      assert.ok(s.recovery.corruptSnapshotMovedTo?.startsWith(join(image, 'state.db.corrupt-')));
      assert.deepEqual(readFileSync(s.recovery.corruptSnapshotMovedTo!), damaged, 'kept byte for byte');
      assert.equal(existsSync(snap), false);
      assert.match(String(s.lastError), /corrupt/);
      assert.ok(lines.some((l) => l.level === 'error' && String(l.msg).includes('state.db')));
      assert.equal(store.get('after1'), 2);
      assert.equal(store.get('after2'), 3);
      assert.equal(store.get('before'), undefined, 'what only the snapshot held is gone, and status says so');
      // The store still works and writes a fresh snapshot; the moved file is never overwritten.
      await store.set('later', 4);
      await store.close();
      const again = await openStore({ dataDir: image, clock, log: testLog().log });
      assert.deepEqual([again.get('after1'), again.get('later')], [2, 4]);
      assert.equal(again.status().ok, true);
      assert.deepEqual(readFileSync(s.recovery.corruptSnapshotMovedTo!), damaged);
      await again.close();
    } finally {
      tmp.remove();
    }
  });
}

test('a data dir that is a file is refused with a StorageError naming the path and the fix', async () => {
  const tmp = tempDir();
  try {
    writeFileSync(tmp.dir, 'oops');
    await assert.rejects(openStore({ dataDir: tmp.dir, clock: new FakeClock(), log: testLog().log }), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, new RegExp(`${tmp.dir} is not a directory.*point dataDir`));
      return true;
    });
    const below = join(tmp.dir, 'sub');
    await assert.rejects(openStore({ dataDir: below, clock: new FakeClock(), log: testLog().log }), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, new RegExp(`${below} cannot be used: (ENOTDIR|EEXIST)`));
      return true;
    });
  } finally {
    tmp.remove();
  }
});
