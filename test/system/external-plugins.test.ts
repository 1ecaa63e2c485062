// External plugins as a user writes them: the example plugin loaded from a path and from a packed
// npm tarball, run on simulators, its schema errors from `fieldgate validate`, broken plugins named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeno, repoRoot, runTs, spawnTs } from '../helpers/spawn.ts';
import { openStore } from '../../core/store/open.ts';
import { systemClock } from '../../core/clock.ts';
import { memoryLog } from '../../core/log.ts';

const CLI = 'bin/fieldgate.ts';
const EXAMPLE = join(repoRoot, 'examples', 'threshold-alarm');

const simSource = {
  id: 'temp',
  kind: 'value',
  driver: 'sim',
  options: { path: '/nonexistent', sim: { base: 48, amplitude: 4, periodS: 300 } },
};
const poller = { id: 'poll', use: 'value-poller', adapters: { source: 'temp' }, config: { key: 'soc_temp', intervalMs: 100 } };

function writeManifest(dir: string, plugins: unknown[], adapters: unknown[] = [simSource]): string {
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify({ name: 'external', adapters, plugins }, null, 2));
  return file;
}

/** Runs the manifest on simulators until `until` shows in the log, stops it, and returns the store's values. */
async function runAndRead(manifest: string, until: RegExp, keys: string[]): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fg-ext-data-'));
  try {
    const child = spawnTs(CLI, ['run', manifest, '--sim', '--data-dir', dataDir]);
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no ${until} within 20 s; stdout:\n${out}\nstderr:\n${err}`)), 20_000);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (until.test(out) && /"msg":"ready: (\d+)\/\1 plugins running/.test(out)) {
          clearTimeout(deadline);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    await exited;
    assert.match(out, /store flushed/);
    const store = await openStore({ dataDir, clock: systemClock, log: memoryLog('silent').root.logger('t') });
    try {
      return Object.fromEntries(keys.map((k) => [k, store.get(k)]));
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A folder holding a copy of the example plugin (its package.json makes the .js an ES module). */
function withExampleCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-ext-'));
  mkdirSync(join(dir, 'plugins'));
  for (const f of ['index.js', 'package.json']) copyFileSync(join(EXAMPLE, f), join(dir, 'plugins', f));
  return dir;
}

test('the example plugin from a path runs in its example manifest on simulators and sets its alarm key', async () => {
  const manifest = join(EXAMPLE, 'manifest.json');
  const ok = await runTs(CLI, ['validate', manifest]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /valid \(3 plugin\(s\), 1 adapter\(s\)\)/);

  // The simulated temperature is 48 ± 4 °C: above 40 the alarm must be raised, below 60 it must not.
  const dir = withExampleCopy();
  try {
    const high = writeManifest(dir, [poller, { id: 'alarm', use: './plugins/index.js', dependsOn: ['poll'], config: { key: 'soc_temp', threshold: 40 } }]);
    const raised = await runAndRead(high, /soc_temp_alarm raised/, ['soc_temp', 'soc_temp_alarm']);
    assert.equal(typeof raised.soc_temp, 'number');
    assert.equal(raised.soc_temp_alarm, true);

    const low = writeManifest(dir, [poller, { id: 'alarm', use: './plugins/index.js', config: { key: 'soc_temp', threshold: 60, alarmKey: 'too_hot' } }]);
    const quiet = await runAndRead(low, /soc_temp=/, ['too_hot']);
    assert.equal(quiet.too_hot, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validate reports the external plugin\'s schema errors with their paths', async () => {
  const dir = withExampleCopy();
  try {
    const file = writeManifest(dir, [poller, { id: 'alarm', use: './plugins/index.js', config: { key: 'soc_temp', threshold: 'high', direction: 'up', colour: 'red' } }]);
    const r = await runTs(CLI, ['validate', file]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /plugins\[1\]\.config\.threshold: must be number/);
    assert.match(r.stderr, /plugins\[1\]\.config\.direction: must be one of: above, below/);
    assert.match(r.stderr, /plugins\[1\]\.config\.colour: unknown key "colour"/);

    const missing = writeManifest(dir, [{ id: 'alarm', use: './plugins/index.js', config: { threshold: 1 } }], []);
    const m = await runTs(CLI, ['validate', missing]);
    assert.equal(m.code, 1);
    assert.match(m.stderr, /plugins\[0\]\.config: must have required property 'key'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a TypeScript plugin loads from a path (tsx on Node, natively on Deno)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-ext-ts-'));
  try {
    writeFileSync(join(dir, 'doubler.ts'), [
      "// Type-only: erased when loaded, so fieldgate need not be resolvable from this folder.",
      "import type { PluginDefinition } from 'fieldgate';",
      'interface Config { from: string; to: string }',
      'const plugin: PluginDefinition<Config> = {',
      "  type: 'doubler', version: '0.0.1', contract: 1, description: 'Writes twice a state key.',",
      "  configSchema: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: { type: 'string' }, to: { type: 'string' } } },",
      '  create: ({ config, bus, scope, store, log }) => ({',
      "    start() { scope.defer(bus.subscribe<{ key: string; value: unknown }>('state/+', (c) => (c.key === config.from ? store.set(config.to, Number(c.value) * 2).then(() => log.info('doubled')) : undefined))); },",
      '  }),',
      '};',
      'export default plugin;',
    ].join('\n'));
    const bad = writeManifest(dir, [poller, { id: 'double', use: './doubler.ts', config: { from: 'soc_temp' } }]);
    const r = await runTs(CLI, ['validate', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /plugins\[1\]\.config: must have required property 'to'/);

    const good = writeManifest(dir, [poller, { id: 'double', use: './doubler.ts', config: { from: 'soc_temp', to: 'twice' } }]);
    const values = await runAndRead(good, /doubled/, ['soc_temp', 'twice']);
    assert.equal(typeof values.twice, 'number');
    assert.ok((values.twice as number) > 80, `twice the simulated ~48 °C, got ${values.twice}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a plugin that cannot be loaded is named with its file and the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-ext-bad-'));
  try {
    const good = "type: 'x', version: '1', description: 'x', configSchema: { type: 'object' }, create: () => ({ start() {} })";
    writeFileSync(join(dir, 'syntax.mjs'), 'export default {{ broken');
    writeFileSync(join(dir, 'no-default.mjs'), 'export const plugin = 1;');
    writeFileSync(join(dir, 'not-plugin.mjs'), 'export default { type: 3 };');
    writeFileSync(join(dir, 'old-contract.mjs'), `export default { ${good}, contract: 0 };`);
    writeFileSync(join(dir, 'no-contract.mjs'), `export default { ${good} };`);
    writeFileSync(join(dir, 'throws.mjs'), "throw new Error('cannot find the calibration table');");
    writeFileSync(join(dir, 'bad-schema.mjs'), `export default { ${good.replace("type: 'object'", "type: 'objekt'")}, contract: 1 };`);
    const names = ['missing.mjs', 'syntax.mjs', 'no-default.mjs', 'not-plugin.mjs', 'old-contract.mjs', 'no-contract.mjs', 'throws.mjs', 'bad-schema.mjs'];
    const file = writeManifest(dir, [
      ...names.map((n, i) => ({ id: `p${i}`, use: `./${n}` })),
      { id: 'pkg', use: 'npm:fieldgate-plugin-not-installed' },
      { id: 'again', use: './missing.mjs' },
    ], [{ id: 'a', kind: './missing-adapter.mjs' }]);
    const r = await runTs(CLI, ['validate', file]);
    assert.equal(r.code, 1, r.stdout);
    const at = (i: number) => `plugins\\[${i}\\]\\.use: cannot load plugin "\\./${names[i].replace('.', '\\.')}" \\([^)]*${names[i].replace('.', '\\.')}\\)`;
    assert.match(r.stderr, new RegExp(`${at(0)}: no such file`));
    assert.match(r.stderr, new RegExp(`${at(1)}: syntax error: `));
    assert.match(r.stderr, new RegExp(`${at(2)}: the module has no default export`));
    assert.match(r.stderr, new RegExp(`${at(3)}: the default export is not a plugin definition: missing type \\(string\\), configSchema \\(JSON Schema object\\), create\\(\\) \\(function\\)`));
    assert.match(r.stderr, new RegExp(`${at(4)}: it was written for plugin contract 0, this fieldgate implements contract 1`));
    assert.match(r.stderr, new RegExp(`${at(5)}: it does not declare which contract it was written for; add \`contract: 1\``));
    assert.match(r.stderr, new RegExp(`${at(6)}: it failed to import \\(Error\\): cannot find the calibration table`));
    assert.match(r.stderr, new RegExp(`${at(7)}: its configSchema is not a valid JSON Schema: `));
    assert.match(r.stderr, /plugins\[8\]\.use: cannot load plugin "npm:fieldgate-plugin-not-installed": package fieldgate-plugin-not-installed is not installed in node_modules of .* or a folder above it/);
    assert.match(r.stderr, /adapters\[0\]\.kind: cannot load adapter "\.\/missing-adapter\.mjs" \(.*missing-adapter\.mjs\): no such file/);
    assert.match(r.stderr, /plugins\[9\]\.use: cannot load plugin "\.\/missing\.mjs" \(.*\): no such file/, 'every entry using it is named');
    assert.doesNotMatch(r.stderr, /unknown plugin type|unknown adapter kind/, 'a load failure is not reported again as an unknown name');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function npm(args: string[], cwd: string): { ok: boolean; output: string } {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

test('the example plugin packed with npm pack and installed from the tarball loads as npm:<name>', async (t) => {
  if (spawnSync('npm', ['--version'], { encoding: 'utf8' }).status !== 0) {
    t.skip('npm is not on PATH');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'fg-ext-npm-'));
  try {
    const packed = npm(['pack', EXAMPLE, '--pack-destination', dir, '--silent'], dir);
    assert.ok(packed.ok, packed.output);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, `npm pack left a tarball in ${dir}`);

    const project = join(dir, 'site');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'site', private: true, version: '1.0.0' }));
    const installed = npm(['install', join(dir, tarball), '--offline', '--no-audit', '--no-fund'], project);
    assert.ok(installed.ok, installed.output);

    const name = 'npm:fieldgate-plugin-threshold-alarm';
    const bad = writeManifest(project, [poller, { id: 'alarm', use: name, config: { key: 'soc_temp', threshold: 'high' } }]);
    const r = await runTs(CLI, ['validate', bad]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /plugins\[1\]\.config\.threshold: must be number/);

    const good = writeManifest(project, [poller, { id: 'alarm', use: name, dependsOn: ['poll'], config: { key: 'soc_temp', threshold: 40, alarmKey: 'hot' } }]);
    const ok = await runTs(CLI, ['validate', good]);
    assert.equal(ok.code, 0, ok.stderr);
    const values = await runAndRead(good, /hot raised/, ['hot']);
    assert.equal(values.hot, true, `on ${isDeno ? 'Deno' : 'Node'} the installed package ran and raised its alarm`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
