// External plugins and adapters loaded from files by the manifest loader run under the supervisor like
// bundled ones: a failing external plugin is restarted with backoff; an external adapter can stand in
// for a bundled kind a plugin binds to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { loadManifest } from '../../core/manifest/load.ts';
import { ManifestError } from '../../core/errors.ts';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';

const FLAKY = `
let starts = 0;
export default {
  type: 'flaky', version: '1.0.0', contract: 1, description: 'fails its first two starts',
  configSchema: { type: 'object', additionalProperties: false, required: ['key'], properties: { key: { type: 'string' } } },
  create: ({ config, store }) => ({
    async start() {
      starts += 1;
      if (starts <= 2) throw new Error('device not ready (start ' + starts + ')');
      await store.set(config.key, starts);
    },
  }),
};`;

// Implements the bundled \`value\` interface (ValueSource), so value-poller can bind to it.
const CONSTANT = `
export default {
  kind: 'value', description: 'a constant reading', contract: 1,
  optionsSchema: { type: 'object', additionalProperties: false, required: ['value'], properties: { value: { type: 'number' } } },
  async real(options) { return { instance: { description: 'constant', read: async () => options.value }, close: async () => {} }; },
  async sim(options) { return { instance: { description: 'constant (sim)', read: async () => options.value }, close: async () => {} }; },
};`;

async function load(dir: string, manifest: unknown) {
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(manifest));
  const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((e) => e.load())), Promise.all(adapterCatalog.map((e) => e.load()))]);
  const loaded = await loadManifest(file, { plugins, adapters, env: {} });
  assert.ok(loaded.external, 'loadManifest reports the external definitions it loaded');
  return { loaded, plugins: [...plugins, ...loaded.external.plugins], adapters: [...adapters, ...loaded.external.adapters] };
}

test('an external plugin that fails is restarted with backoff, and an external adapter feeds a bundled plugin', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-ext-sup-'));
  try {
    writeFileSync(join(dir, 'flaky.mjs'), FLAKY);
    writeFileSync(join(dir, 'constant.mjs'), CONSTANT);
    const { loaded, plugins, adapters } = await load(dir, {
      name: 'ext',
      log: { level: 'silent' },
      supervisor: { jitter: 0 },
      adapters: [{ id: 'c', kind: './constant.mjs', driver: 'sim', options: { value: 42.5 } }],
      plugins: [
        { id: 'flaky', use: './flaky.mjs', config: { key: 'ready_after' } },
        { id: 'poll', use: 'value-poller', adapters: { source: 'c' }, config: { key: 'reading', intervalMs: 1000 } },
      ],
    });
    const clock = new FakeClock();
    const runtime = await createRuntime({ manifest: loaded.manifest, plugins, adapters, logRoot: memoryLog('silent').root, dataDir: null, clock });
    await runtime.start();
    try {
      const first = runtime.supervisor.status('flaky');
      assert.equal(first.status, 'backing-off');
      assert.equal(first.lastError, 'device not ready (start 1)');
      await clock.advance(first.nextRestartAt! - clock.now());
      const second = runtime.supervisor.status('flaky');
      assert.equal(second.lastError, 'device not ready (start 2)');
      assert.equal(second.nextRestartAt! - clock.now(), 2000, 'the backoff grows as for a bundled plugin');
      await clock.advance(2000);
      assert.equal(runtime.supervisor.status('flaky').status, 'running');
      assert.equal(runtime.store.get('ready_after'), 3);
      assert.equal(runtime.store.get('reading'), 42.5, 'value-poller read the external adapter');
    } finally {
      await runtime.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an external adapter\'s options schema is validated, and binding it where another kind is needed is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-ext-sup-'));
  try {
    writeFileSync(join(dir, 'constant.mjs'), CONSTANT);
    await assert.rejects(
      load(dir, {
        name: 'ext',
        adapters: [{ id: 'c', kind: './constant.mjs', options: { value: 'x' } }],
        plugins: [{ id: 'relay', use: 'relay', adapters: { line: 'c' }, config: {} }],
      }),
      (err: unknown) => {
        assert.ok(err instanceof ManifestError);
        const text = err.issues.join('\n');
        assert.match(text, /adapters\[0\]\.options\.value: must be number/);
        assert.match(text, /plugins\[0\]\.adapters\.\w+: adapter "c" is of kind "\.\/constant\.mjs" \(implementing "value"\), but binding "line" needs kind "gpio"/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
