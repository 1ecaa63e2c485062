// Measures GET /api/history/<series> over 30 days of one 1 Hz key (2,592,000 rows in a real history
// store in a temp dir) with `step` for 1,000 buckets: latency of several runs, first (cold) apart.
// The rows are written hour by hour with the runtime's clock inside that hour, so each segment
// closes and gets its summary sidecar exactly as on a running gateway. Then the same queries after a
// restart, and after a restart with the sidecars deleted (a store from before sidecars existed).
// Usage: node --import tsx bench/history-api.ts [runs]   (or: deno run -A bench/history-api.ts)
import { mkdtemp, readdir, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../core/clock.ts';
import { createRuntime, type Runtime } from '../core/host/runtime.ts';
import type { HistoryRecord } from '../core/history/types.ts';
import { memoryLog } from '../core/log.ts';
import httpApi from '../plugins/http-api/plugin.ts';
import { testManifest } from '../test/helpers/manifest.ts';

const DAYS = 30;
const ROWS = DAYS * 86_400;
const BUCKETS = 1000;
const STEP_S = ROWS / BUCKETS; // 2,592 s
const HOUR = 3_600_000;
const runs = Number(process.argv[2] ?? 10);

/** Wall-clock timers, but `now` set back to the hour being written (a gateway replaying a month). */
class ReplayClock extends SystemClock {
  at: number | null = null;
  override now(): number {
    return this.at ?? Date.now();
  }
}

const dataDir = await mkdtemp(join(tmpdir(), 'fieldgate-bench-hapi-'));
const folder = join(dataDir, 'history', 'signals');
const { root } = memoryLog('silent');
const manifest = testManifest([{ id: 'api', use: 'http-api', config: { port: 0, rateLimit: { max: 100000, timeWindowMs: 60000 } } }]);
const clock = new ReplayClock();
const start = () => createRuntime({ manifest, plugins: [httpApi], adapters: [], logRoot: root, dataDir, clock }).then(async (r) => (await r.start(), r));
const sidecars = async () => (await readdir(folder)).filter((f) => f.endsWith('.sum'));

// The 30 days end before the current hour, on a multiple of the step, so they are 1,000 whole buckets.
const stepMs = STEP_S * 1000;
const from = Math.floor((Date.now() - (DAYS + 1) * 86_400_000) / stepMs) * stepMs;
let runtime: Runtime = await start();
try {
  let t = performance.now();
  for (let w = Math.floor(from / HOUR) * HOUR; w < from + ROWS * 1000; w += HOUR) {
    const rows: HistoryRecord[] = [];
    for (let ts = Math.max(w, from); ts < Math.min(w + HOUR, from + ROWS * 1000); ts += 1000) {
      const j = (ts - from) / 1000;
      rows.push({ ts, data: { temperature: 20 + 5 * Math.sin(j / 3600) } });
    }
    clock.at = rows[rows.length - 1].ts; // inside this hour: appending here closes the previous one
    await runtime.history.append('signals', rows, { durable: false });
    await runtime.history.flush(); // a 1 Hz gateway has every row on disk within ms of the next hour
  }
  clock.at = null; // back to now: the last of the 30 days closes too
  await runtime.history.append('signals', [], { durable: false });
  await runtime.history.flush();
  const written = performance.now() - t;
  const closed = (await readdir(folder)).filter((f) => f.endsWith('.seg')).length;
  t = performance.now();
  while ((await sidecars()).length < closed) await new Promise((resolve) => setTimeout(resolve, 20));
  let bytes = 0;
  for (const f of await sidecars()) bytes += (await stat(join(folder, f))).size;
  console.log(`wrote ${ROWS.toLocaleString('en')} rows in ${(written / 1000).toFixed(1)} s; ${closed} segments, all with sidecars ${(performance.now() - t).toFixed(0)} ms later (${(bytes / closed / 1024).toFixed(1)} KiB each)`);

  await measure('sidecars written as the segments closed');
  await runtime.stop();
  runtime = await start();
  await measure('after a restart (no cached rollups)');
  await runtime.stop();
  for (const f of await sidecars()) await unlink(join(folder, f));
  runtime = await start();
  await measure('after a restart without sidecars (a store from before them: the first query rebuilds them)', 2);
  console.log(`RSS ${Math.round(process.memoryUsage().rss / 1048576)} MB`);
} finally {
  await runtime.stop();
  await rm(dataDir, { recursive: true, force: true });
}

async function measure(what: string, n = runs): Promise<void> {
  console.log(`-- ${what}`);
  // With --expose-gc (node) / --v8-flags=--expose-gc (deno): start from a collected heap, so the cold
  // answer does not pay for the garbage the month-in-30-seconds write phase left (a gateway writes 1 row/s).
  (globalThis as { gc?: () => void }).gc?.();
  const url = `${runtime.routes.address}/api/history/signals?keys=temperature&from=${from / 1000}&to=${from / 1000 + ROWS - 1}&step=${STEP_S}`;
  const times: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < n; r++) {
    const t = performance.now();
    const cpu0 = process.cpuUsage();
    const res = await fetch(url);
    const body = (await res.json()) as { rows?: Array<{ temperature_count: number }> };
    const ms = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    cpus.push((cpu.user + cpu.system) / 1000);
    if (res.status !== 200 || body.rows?.length !== BUCKETS || !body.rows.every((b) => b.temperature_count === STEP_S)) {
      throw new Error(`run ${r}: status ${res.status}, ${body.rows?.length} buckets (want 200 and ${BUCKETS} of ${STEP_S} rows)`);
    }
    times.push(ms);
    console.log(`run ${r + 1}: ${ms.toFixed(1)} ms (200, ${BUCKETS} buckets), CPU ${cpus[r].toFixed(0)} ms`);
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  const median = warm[Math.floor(warm.length / 2)];
  // CPU time of the whole process (server and client): less at the mercy of other jobs than wall time.
  console.log(`cold (first run): ${times[0].toFixed(0)} ms (CPU ${cpus[0].toFixed(0)} ms)`);
  console.log(`warm (runs 2-${n}): median ${median?.toFixed(1)} ms, max ${warm[warm.length - 1]?.toFixed(1)} ms`);
}
