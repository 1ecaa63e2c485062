// Store benchmark (not a test): upsert rates, durable group-commit throughput and ack latency,
// snapshot cost and event-loop blocking at ~1 MB and ~10 MB, RSS. Run: node --import tsx bench/store.ts [--rss-only]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { systemClock } from '../core/clock.ts';
import { LogRoot } from '../core/log.ts';
import { openStore } from '../core/store/open.ts';

const log = new LogRoot({ level: 'warn' }).logger('store');
const root = mkdtempSync(join(tmpdir(), 'fieldgate-bench-'));
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);

async function rawFsync(): Promise<void> {
  const fh = await open(join(root, 'fsync-probe'), 'a');
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await fh.write('x'.repeat(100) + '\n');
    await fh.datasync();
    lat.push(performance.now() - t);
  }
  await fh.close();
  lat.sort((a, b) => a - b);
  console.log(`raw append+fdatasync on this disk: p50 ${pct(lat, 0.5).toFixed(2)} ms, p99 ${pct(lat, 0.99).toFixed(2)} ms`);
}

async function nonDurable(): Promise<void> {
  const store = await openStore({ dataDir: freshDir(), clock: systemClock, log });
  const N = 300_000;
  for (let i = 0; i < 20_000; i++) await store.set(`warm${i % 100}`, i, { durable: false });
  let t = performance.now();
  for (let i = 0; i < N; i++) await store.set(`sensor/${i % 1000}`, { v: i * 0.5, q: 'good' }, { durable: false });
  const applied = performance.now() - t;
  t = performance.now();
  await store.flush();
  const flushed = performance.now() - t;
  console.log(`non-durable set (awaited, 1000 keys, small JSON), tight loop: ${rate(N, applied)}/s; final flush of the backlog ${flushed.toFixed(0)} ms; overall ${rate(N, applied + flushed)}/s incl. journal`);
  // Real producers are event-driven: yielding to the event loop lets the journal commits keep up.
  t = performance.now();
  for (let i = 0; i < N; i++) {
    await store.set(`sensor/${i % 1000}`, { v: i * 0.5, q: 'good' }, { durable: false });
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  const yielding = performance.now() - t;
  t = performance.now();
  await store.flush();
  console.log(`non-durable set, yielding every 1000: ${rate(N, yielding)}/s; final flush ${(performance.now() - t).toFixed(0)} ms; RSS ${mb(process.memoryUsage().rss)} MB`);
  t = performance.now();
  for (let i = 0; i < N; i++) await store.logTrend({ pv: i, sp: 50, mv: 10 }, { durable: false });
  console.log(`non-durable logTrend: ${rate(N, performance.now() - t)}/s`);
  t = performance.now();
  for (let i = 0; i < N; i++) store.get(`sensor/${i % 1000}`);
  console.log(`get: ${rate(N, performance.now() - t)}/s`);
  await store.close();
}

async function durable(writers: number, seconds: number, commitDelayMs: number): Promise<void> {
  const store = await openStore({ dataDir: freshDir(), clock: systemClock, log, commitDelayMs });
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (performance.now() < end) {
        const t = performance.now();
        const r = await store.set(`w${w}`, { n: n++, at: t });
        if (!r.durable) throw new Error(`not durable: ${store.status().lastError}`);
        lat.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - start;
  lat.sort((a, b) => a - b);
  console.log(
    `durable set, ${writers} concurrent writers, window ${commitDelayMs} ms: ${rate(lat.length, elapsed)}/s, ack p50 ${pct(lat, 0.5).toFixed(2)} ms, p99 ${pct(lat, 0.99).toFixed(2)} ms, max ${lat[lat.length - 1].toFixed(1)} ms`,
  );
  await store.close();
}

async function snapshot(targetBytes: number): Promise<void> {
  const store = await openStore({ dataDir: freshDir(), clock: systemClock, log, snapshotJournalBytes: 1 << 30 });
  await store.migrate('bench', ['CREATE TABLE blobs(id INTEGER PRIMARY KEY, body TEXT)']);
  const body = 'b'.repeat(1000);
  const rows = Math.round(targetBytes / 1060);
  for (let i = 0; i < rows; i++) await store.run('INSERT INTO blobs(body) VALUES (:b)', { ':b': body }, { durable: false });
  await store.flush();
  await store.snapshot(); // warm-up (first write allocates the file)
  const h = monitorEventLoopDelay({ resolution: 1 });
  // A 1 ms ticker as a second, independent measure of the longest stall.
  let last = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 50));
  h.enable();
  maxGap = 0;
  last = performance.now();
  const t = performance.now();
  await store.snapshot();
  const took = performance.now() - t;
  await new Promise((r) => setTimeout(r, 20));
  h.disable();
  clearInterval(ticker);
  const bytes = statSync(join(store.status().dataDir!, 'state.db')).size;
  console.log(
    `snapshot of ${mb(bytes)} MB: ${took.toFixed(1)} ms total (export + write + fsync + rename + dir fsync); event loop blocked at most ${(h.max / 1e6).toFixed(1)} ms (histogram), ${maxGap.toFixed(1)} ms (1 ms ticker); RSS ${mb(process.memoryUsage().rss)} MB`,
  );
  await store.close();
}

console.log(`fieldgate store bench — node ${process.version}, ${process.platform}/${process.arch}, ${new Date().toISOString()}`);
console.log(`RSS at start ${mb(process.memoryUsage().rss)} MB`);
try {
  if (process.argv.includes('--rss-only')) {
    // A fresh process holding one ~10 MB database: what a gateway with that much state costs.
    await snapshot(10 * 1024 * 1024);
    process.exit(0);
  }
  await rawFsync();
  await nonDurable();
  console.log(`RSS after upserts ${mb(process.memoryUsage().rss)} MB`);
  await durable(1, 3, 2);
  await durable(64, 3, 2);
  await durable(256, 3, 2);
  await durable(64, 3, 0);
  await snapshot(1 * 1024 * 1024);
  await snapshot(10 * 1024 * 1024);
  console.log(`RSS at end ${mb(process.memoryUsage().rss)} MB`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
