// A real runtime with the http-api plugin on 127.0.0.1:0 and the history store in a temp dir,
// for the history-api*.test.ts files and bench/history-api.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import type { HistoryRecord } from '../../core/history/types.ts';
import { memoryLog } from '../../core/log.ts';
import httpApi, { type HttpApiConfig } from '../../plugins/http-api/plugin.ts';
import { testManifest } from '../helpers/manifest.ts';

export interface HistoryApi {
  runtime: Runtime;
  base: string;
  dataDir: string;
  get(path: string): Promise<Response>;
  getJson<T = Record<string, unknown>>(path: string): Promise<T>;
  stop(): Promise<void>;
}

export async function startHistoryApi(config: Partial<HttpApiConfig> = {}): Promise<HistoryApi> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-hapi-'));
  const { root } = memoryLog('silent');
  // A rate limit far above what paging through a test's rows needs.
  const manifest = testManifest([{ id: 'api', use: 'http-api', config: { port: 0, rateLimit: { max: 100000, timeWindowMs: 60000 }, ...config } }]);
  const runtime = await createRuntime({ manifest, plugins: [httpApi], adapters: [], logRoot: root, dataDir });
  await runtime.start();
  const status = runtime.supervisor.status('api');
  if (status.status !== 'running') {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`http-api did not start: ${status.status} ${status.lastError}`);
  }
  const base = runtime.routes.address!;
  const get = (path: string) => fetch(base + path);
  return {
    runtime,
    base,
    dataDir,
    get,
    async getJson<T>(path: string) {
      const r = await get(path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    },
    async stop() {
      await runtime.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Appends `count` rows of `make(i)` in batches without holding them all, then waits for the disk. */
export async function appendMany(api: { runtime: Runtime }, series: string, count: number, make: (i: number) => HistoryRecord): Promise<void> {
  const batch = 5000;
  for (let i = 0; i < count; i += batch) {
    const rows: HistoryRecord[] = [];
    for (let j = i; j < Math.min(count, i + batch); j++) rows.push(make(j));
    await api.runtime.history.append(series, rows, { durable: false });
    if ((i / batch) % 20 === 19) await api.runtime.history.flush();
  }
  await api.runtime.history.flush();
}
