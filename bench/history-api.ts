// Measures GET /api/history/<series> over 30 days of one 1 Hz key (2,592,000 rows in a real history
// store in a temp dir) with `step` for 1,000 buckets: latency of several runs, first (cold) apart.
// Usage: node --import tsx bench/history-api.ts [runs]   (or: deno run -A bench/history-api.ts)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../core/host/runtime.ts';
import type { HistoryRecord } from '../core/history/types.ts';
import { memoryLog } from '../core/log.ts';
import httpApi from '../plugins/http-api/plugin.ts';
import { testManifest } from '../test/helpers/manifest.ts';

const DAYS = 30;
const ROWS = DAYS * 86_400;
const BUCKETS = 1000;
const STEP_S = ROWS / BUCKETS; // 2,592 s
const runs = Number(process.argv[2] ?? 10);

const dataDir = await mkdtemp(join(tmpdir(), 'fieldgate-bench-hapi-'));
const { root } = memoryLog('silent');
const manifest = testManifest([{ id: 'api', use: 'http-api', config: { port: 0, rateLimit: { max: 100000, timeWindowMs: 60000 } } }]);
const runtime = await createRuntime({ manifest, plugins: [httpApi], adapters: [], logRoot: root, dataDir });
await runtime.start();
try {
  // The 30 days end before the current hour, on a multiple of the step, so they are 1,000 whole buckets.
  const stepMs = STEP_S * 1000;
  const from = Math.floor((Date.now() - (DAYS + 1) * 86_400_000) / stepMs) * stepMs;
  let t = performance.now();
  const batch = 3600;
  for (let i = 0; i < ROWS; i += batch) {
    const rows: HistoryRecord[] = [];
    for (let j = i; j < Math.min(ROWS, i + batch); j++) rows.push({ ts: from + j * 1000, data: { temperature: 20 + 5 * Math.sin(j / 3600) } });
    await runtime.history.append('signals', rows, { durable: false });
    if (i % (batch * 24) === 0) await runtime.history.flush();
  }
  await runtime.history.flush();
  console.log(`wrote ${ROWS.toLocaleString('en')} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const url = `${runtime.routes.address}/api/history/signals?keys=temperature&from=${from / 1000}&to=${from / 1000 + ROWS - 1}&step=${STEP_S}`;
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    t = performance.now();
    const res = await fetch(url);
    const body = (await res.json()) as { rows?: Array<{ temperature_count: number }> };
    const ms = performance.now() - t;
    if (res.status !== 200 || body.rows?.length !== BUCKETS || !body.rows.every((b) => b.temperature_count === STEP_S)) {
      throw new Error(`run ${r}: status ${res.status}, ${body.rows?.length} buckets (want 200 and ${BUCKETS} of ${STEP_S} rows)`);
    }
    times.push(ms);
    console.log(`run ${r + 1}: ${ms.toFixed(1)} ms (200, ${BUCKETS} buckets)`);
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  const median = warm[Math.floor(warm.length / 2)];
  console.log(`cold (first run, reads every row): ${times[0].toFixed(0)} ms`);
  console.log(`warm (runs 2-${runs}): median ${median?.toFixed(1)} ms, max ${warm[warm.length - 1]?.toFixed(1)} ms`);
  console.log(`RSS ${Math.round(process.memoryUsage().rss / 1048576)} MB`);
} finally {
  await runtime.stop();
  await rm(dataDir, { recursive: true, force: true });
}
