// HTTP benchmark: GET /api/state and durable POST /api/command at 32 concurrent keep-alive
// connections on loopback, against the real plugin with an on-disk store (group commit + fsync).
// Usage: node --import tsx bench/http.ts [seconds]   |   deno run -A bench/http.ts [seconds]
// The in-process client shares the CPU with the server; for the server's own figures run
// `bench/http.ts --serve` and load the printed address from another process (autocannon, see RESULTS.md).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../core/host/runtime.ts';
import { memoryLog } from '../core/log.ts';
import httpApi from '../plugins/http-api/plugin.ts';
import { testManifest } from '../test/helpers/manifest.ts';

const SECONDS = Number(process.argv[2] ?? 5);
/** `--serve`: only start the server and print its address (to load it from another tool). */
const SERVE_ONLY = process.argv.includes('--serve');
const CONNECTIONS = 32;
const KEY = 'bench-key';
const runtimeName = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined' ? `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}` : `Node ${process.version}`;

async function run(name: string, request: (i: number) => Promise<Response>): Promise<void> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const r = await request(n++);
      await r.arrayBuffer();
      if (!r.ok) errors++;
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2);
  console.log(`${name.padEnd(34)} ${(latencies.length / elapsed).toFixed(0).padStart(7)} req/s  p50 ${q(0.5)} ms  p99 ${q(0.99)} ms  errors ${errors}`);
}

const dataDir = await mkdtemp(join(tmpdir(), 'fieldgate-bench-http-'));
const { root } = memoryLog('warn');
const manifest = testManifest([{
  id: 'api',
  use: 'http-api',
  config: { port: 0, apiKey: KEY, rateLimit: { max: 100_000_000, timeWindowMs: 60_000 }, commands: { setpoint: { type: 'number', minimum: 0, maximum: 1000 } } },
}]);
const runtime = await createRuntime({ manifest, plugins: [httpApi], adapters: [], logRoot: root, dataDir });
await runtime.start();
const base = runtime.routes.address!;
try {
  if (SERVE_ONLY) {
    console.log(base);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  } else {
    await bench();
  }
} finally {
  await runtime.stop();
  await rm(dataDir, { recursive: true, force: true });
}

async function bench(): Promise<void> {
  for (let i = 0; i < 20; i++) await runtime.store.set(`key_${i}`, i * 1.5);
  console.log(`${runtimeName}, ${CONNECTIONS} connections, ${SECONDS} s per case, store in ${dataDir}`);
  await run('warm-up GET /api/state', () => fetch(`${base}/api/state`));
  await run('GET /api/state (20 keys)', () => fetch(`${base}/api/state`));
  await run('POST /api/command (durable)', (i) =>
    fetch(`${base}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ setpoint: i % 1000 }) }));
  const rows = runtime.store.query<{ n: number }>('SELECT COUNT(*) AS n FROM http_api_audit')[0]!.n;
  console.log(`audit rows written: ${rows}`);
}
