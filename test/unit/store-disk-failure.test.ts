import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { FakeClock } from '../../core/clock-fake.ts';
import { FaultyDisk, type DiskFaultCode, type DiskOp } from '../../core/store/disk-faulty.ts';
import { nodeDisk } from '../../core/store/disk.ts';
import { openStore } from '../../core/store/open.ts';
import { crashImage, tempDir, testLog, waitFor } from '../fixtures/store-helpers.ts';

const RETRY = 5000;

const faults: Array<[string, DiskFaultCode, DiskOp[] | undefined]> = [
  ['read-only file system', 'EROFS', undefined],
  ['disk full on write', 'ENOSPC', ['append', 'writeFileSynced']],
  ['I/O error on fsync', 'EIO', ['sync', 'writeFileSynced']],
];

for (const [name, code, ops] of faults) {
  test(`${name} (${code}): serve from memory, keep accepting writes, catch up when the disk returns`, async () => {
    const tmp = tempDir();
    try {
      const clock = new FakeClock();
      const disk = new FaultyDisk(nodeDisk);
      const { log, lines } = testLog();
      const store = await openStore({ dataDir: tmp.dir, clock, log, disk, commitDelayMs: 0, diskRetryMs: RETRY });
      assert.deepEqual(await store.set('before', 1), { durable: true });

      disk.fail(code, ops);
      assert.deepEqual(await store.set('during1', 2), { durable: false }, 'a durable write resolves, saying it is not durable');
      let s = store.status();
      assert.equal(s.mode, 'memory');
      assert.equal(s.ok, false);
      assert.match(String(s.lastError), new RegExp(code));
      assert.ok(String(s.lastError).includes(tmp.dir), 'lastError names the path');
      assert.ok(lines.some((l) => l.level === 'error' && String(l.msg).includes(code)));
      assert.deepEqual(await store.setMany({ during2: 3, during3: 4 }), { durable: false });
      await store.logTrend({ ts: 1, pv: 5 });
      assert.equal(store.get('during2'), 3, 'writes are readable from memory');
      s = store.status();
      assert.equal(s.pendingWrites, 3);
      await clock.advance(1000);
      assert.equal(store.status().journalLagMs, 1000);

      await clock.advance(RETRY); // still failing: stays in memory, retries again later
      await waitFor(() => disk.count('openAppend') >= 2, 'a retry against the failing disk');
      assert.equal(store.status().mode, 'memory');

      disk.heal();
      await clock.advance(RETRY);
      await waitFor(() => store.status().mode === 'disk', 'catch-up after the fault clears');
      s = store.status();
      assert.equal(s.ok, true);
      assert.equal(s.lastError, null);
      assert.equal(s.pendingWrites, 0);
      assert.ok(s.lastSnapshotAt !== null);
      assert.ok(lines.some((l) => l.level === 'info' && /works again/.test(String(l.msg))));
      assert.deepEqual(await store.set('after', 6), { durable: true });

      // Everything is on disk: a second store on a copy of the dir sees every write.
      const copy = await openStore({ dataDir: crashImage(tmp), clock, log: testLog().log });
      assert.deepEqual(
        ['before', 'during1', 'during2', 'during3', 'after'].map((k) => copy.get(k)),
        [1, 2, 3, 4, 6],
      );
      assert.equal(copy.recentTrend().length, 1);
      await copy.close();
      await store.close();
    } finally {
      tmp.remove();
    }
  });
}

test('a disk that fails during a snapshot also falls back to memory, and close() reports lost writes', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const disk = new FaultyDisk(nodeDisk);
    const { log, lines } = testLog();
    const store = await openStore({ dataDir: tmp.dir, clock, log, disk, commitDelayMs: 0, diskRetryMs: RETRY });
    await store.set('a', 1);
    disk.fail('ENOSPC', ['writeFileSynced']);
    await store.snapshot();
    assert.equal(store.status().mode, 'memory');
    assert.match(String(store.status().lastError), /snapshot .* failed: ENOSPC/);
    await store.set('b', 2);
    await store.close(); // the disk is still full: the final catch-up fails and says so
    assert.ok(lines.some((l) => l.level === 'error' && /closing with 1 write\(s\) that never reached the disk/.test(String(l.msg))));
    const again = await openStore({ dataDir: tmp.dir, clock, log: testLog().log });
    assert.equal(again.get('a'), 1, 'the acknowledged durable write survived');
    await again.close();
  } finally {
    tmp.remove();
  }
});

test('a disk refusing writes at open starts the store in memory mode, then catches up', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const first = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, commitDelayMs: 0 });
    await first.set('a', 1);
    await first.close();
    const disk = new FaultyDisk(nodeDisk);
    disk.fail('EROFS');
    const store = await openStore({ dataDir: tmp.dir, clock, log: testLog().log, disk, diskRetryMs: RETRY });
    assert.equal(store.get('a'), 1, 'reads work from a read-only disk');
    assert.equal(store.status().mode, 'memory');
    assert.deepEqual(await store.set('b', 2), { durable: false });
    disk.heal();
    await clock.advance(RETRY);
    await waitFor(() => store.status().mode === 'disk', 'catch-up');
    await store.close();
    const again = await openStore({ dataDir: tmp.dir, clock, log: testLog().log });
    assert.deepEqual([again.get('a'), again.get('b')], [1, 2]);
    await again.close();
  } finally {
    tmp.remove();
  }
});

test('data dir deleted from under the store (real ENOENT): memory mode until it is recreated, then catch-up', async () => {
  const tmp = tempDir();
  try {
    const clock = new FakeClock();
    const { log } = testLog();
    const store = await openStore({ dataDir: tmp.dir, clock, log, commitDelayMs: 0, diskRetryMs: RETRY });
    assert.deepEqual(await store.set('a', 1), { durable: true });
    rmSync(tmp.dir, { recursive: true });
    // The fsync into the deleted file succeeds, but the store notices the file is gone and refuses to call it durable.
    assert.deepEqual(await store.set('b', 2), { durable: false });
    let s = store.status();
    assert.equal(s.mode, 'memory');
    assert.match(String(s.lastError), /ENOENT|deleted/);
    assert.match(String(s.lastError), /recreate or remount/);
    await store.set('c', 3);

    await clock.advance(RETRY); // the dir is still missing; the store does not recreate it (it may be an unmounted card)
    await waitFor(() => /scandir|ENOENT/.test(String(store.status().lastError)) && /retry/.test(String(store.status().lastError)), 'a failed retry');
    assert.equal(store.status().mode, 'memory');

    mkdirSync(tmp.dir);
    await clock.advance(RETRY);
    await waitFor(() => store.status().mode === 'disk', 'catch-up into the recreated dir');
    s = store.status();
    assert.equal(s.ok, true);
    assert.equal(s.pendingWrites, 0);
    assert.deepEqual(await store.set('d', 4), { durable: true });
    const copy = await openStore({ dataDir: crashImage(tmp), clock, log: testLog().log });
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => copy.get(k)), [1, 2, 3, 4]);
    await copy.close();
    await store.close();
  } finally {
    tmp.remove();
  }
});
