// Measures the history store on the real disk: durable group-committed appends, lazy appends,
// a one-hour query from a closed segment, and reopen time. Usage: node --import tsx bench/history.ts [dir]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock-fake.ts';
import { openHistory } from '../core/history/open.ts';
import { LogRoot } from '../core/log.ts';

const HOUR = 3_600_000;
const dir = process.argv[2] ?? (await mkdtemp(join(tmpdir(), 'fieldgate-bench-history-')));
const clock = new FakeClock();
const log = new LogRoot({ level: 'warn' }).logger('history');
const frame = (ts: number, i: number) => ({ ts, data: { id: 0x18ff50e5, bus: 'can0', dlc: 8, data: 'c0ffee00deadbeef', i } });

const t = (label: string, ms: number, n: number) =>
  console.log(`${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  ${Math.round((n / ms) * 1000).toLocaleString('en').padStart(9)} rec/s`);

let h = await openHistory({ dataDir: dir, clock, log, commitDelayMs: 0 });
const base = clock.now();
let start = performance.now();
const writers = 50;
const perWriter = 200;
await Promise.all(Array.from({ length: writers }, async (_, w) => {
  for (let i = 0; i < perWriter; i++) await h.append('can_messages', [frame(base + w * perWriter + i, i)]);
}));
t(`durable, ${writers} concurrent writers x 1 record`, performance.now() - start, writers * perWriter);

const lazy = 200_000;
start = performance.now();
for (let i = 0; i < lazy; i += 100) {
  await h.append('can_messages', Array.from({ length: 100 }, (_, k) => frame(base + 10_000 + i + k, i + k)), { durable: false });
  // Real producers are driven by I/O events; yield like one so commits can run.
  if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
}
await h.flush();
t(`lazy, batches of 100 (${lazy} records)`, performance.now() - start, lazy);

await clock.advance(HOUR); // hour 0 becomes a closed segment
start = performance.now();
const hour = await h.query('can_messages', { from: base, to: base + HOUR - 1 });
t(`query one closed hour (${hour.length} records)`, performance.now() - start, hour.length);
start = performance.now();
const last = await h.query('can_messages', { newestFirst: true, limit: 100, where: { i: 5 } });
t(`query newest 100 with where (${last.length} found)`, performance.now() - start, hour.length);
console.log(`dropped ${h.status().droppedRecords}, corrupt ${h.status().corruptLinesSkipped}`);
await h.close();

start = performance.now();
h = await openHistory({ dataDir: dir, clock, log });
console.log(`reopen (closed segments are not read)        ${(performance.now() - start).toFixed(0).padStart(6)} ms`);
console.log(`rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
await h.close();
if (!process.argv[2]) await rm(dir, { recursive: true, force: true });
