// Starts a real runtime with the http-api plugin on 127.0.0.1:0 and an in-memory store, plus small
// fetch helpers, for the http-*.test.ts files.
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import type { AnyPluginDefinition } from '../../core/plugin.ts';
import type { PluginEntry } from '../../core/manifest/types.ts';
import httpApi, { type HttpApiConfig } from '../../plugins/http-api/plugin.ts';
import { testManifest } from '../helpers/manifest.ts';

export const API_KEY = 'test-key-0123456789';

export const COMMANDS = {
  setpoint: { type: 'number', minimum: 0, maximum: 120 },
  power_on_requested: { type: 'boolean' },
  pid_kp: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
};

export interface Api {
  runtime: Runtime;
  base: string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export async function startApi(
  config: Partial<HttpApiConfig> = {},
  extra: { plugins?: AnyPluginDefinition[]; entries?: Array<Partial<PluginEntry> & { id: string; use: string }> } = {},
): Promise<Api> {
  const { root } = memoryLog('silent');
  const manifest = testManifest([
    ...(extra.entries ?? []),
    { id: 'api', use: 'http-api', config: { port: 0, apiKey: API_KEY, commands: COMMANDS, ...config } },
  ]);
  const runtime = await createRuntime({ manifest, plugins: [httpApi, ...(extra.plugins ?? [])], adapters: [], logRoot: root, dataDir: null });
  await runtime.start();
  const status = runtime.supervisor.status('api');
  if (status.status !== 'running') {
    await runtime.stop();
    throw new Error(`http-api did not start: ${status.status} ${status.lastError}`);
  }
  const base = runtime.routes.address!;
  return {
    runtime,
    base,
    get: (path, headers = {}) => fetch(base + path, { headers }),
    post: (path, body, headers = {}) =>
      fetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    stop: () => runtime.stop(),
  };
}
