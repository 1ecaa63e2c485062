import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { FakeClock } from '../../core/clock-fake.ts';
import { openStore } from '../../core/store/open.ts';
import { spawnTs } from '../helpers/spawn.ts';
import { crashImage, tempDir, testLog } from '../fixtures/store-helpers.ts';

const CYCLES = 24;
const WRITER = 'test/fixtures/store-writer.ts';

/** Runs the writer until it has acknowledged `want` writes (bounded wait), then SIGKILLs it. */
function runAndKill(dir: string, first: number, want: number): Promise<{ acked: number[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawnTs(WRITER, [dir, String(first)]);
    const acked: number[] = [];
    let stderr = '';
    let buf = '';
    let killed = false;
    const deadline = setTimeout(() => finish(new Error(`writer acknowledged only ${acked.length}/${want} writes in 20 s; stderr: ${stderr}`)), 20_000);
    function finish(err?: Error): void {
      clearTimeout(deadline);
      if (!killed) {
        killed = true;
        child.kill('SIGKILL');
      }
      child.once('close', () => (err ? reject(err) : resolve({ acked, stderr })));
      if (child.exitCode !== null || child.signalCode !== null) child.emit('close');
    }
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
      }
      if (!killed && acked.length >= want) finish();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code, signal) => {
      if (!killed) finish(new Error(`writer exited by itself (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
}

test(`every acknowledged durable write survives SIGKILL (${CYCLES} cycles)`, { timeout: 120_000 }, async () => {
  const tmp = tempDir();
  try {
    const all = new Set<number>();
    let next = 0;
    let tornSeen = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Vary the kill point so it lands in commits, fsyncs and snapshots alike.
      const want = 20 + ((cycle * 37) % 90);
      const { acked } = await runAndKill(tmp.dir, next, want);
      for (const n of acked) all.add(n);
      next = Math.max(next, ...acked) + 1;

      // Restart on a copy (the original stays as the crash left it, for the next writer to recover).
      const image = crashImage(tmp);
      const store = await openStore({ dataDir: image, clock: new FakeClock(), log: testLog().log });
      const missing = [...all].filter((n) => (store.get(`k${n}`) as { n?: number } | undefined)?.n !== n);
      tornSeen += store.status().recovery.tornRecordsSkipped;
      assert.equal(store.status().ok, true, `cycle ${cycle}: ${store.status().lastError}`);
      await store.close();
      assert.deepEqual(missing, [], `cycle ${cycle}: acknowledged writes lost after SIGKILL`);
    }
    assert.ok(all.size >= CYCLES * 20);
    // Journal generations only advance at snapshots: the writers snapshotted (and rotated) many times under fire.
    const gens = readdirSync(tmp.dir).map((n) => /^journal-(\d+)\.log$/.exec(n)?.[1]).filter((g) => g !== undefined).map(Number);
    assert.ok(Math.max(...gens) >= CYCLES, `only ${Math.max(...gens)} journal generations`);
    // SIGKILL cannot tear a write() (only a power cut can), so torn tails are expected to be rare here.
    console.log(`store-crash: ${all.size} acknowledged writes over ${CYCLES} kills, journal generation ${Math.max(...gens)}, ${tornSeen} torn tail(s)`);
  } finally {
    tmp.remove();
  }
});
