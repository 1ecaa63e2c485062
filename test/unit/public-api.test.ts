// The package's public API as a plugin author imports it (`from 'fieldgate'`, the package's own
// exports), and the example plugin written against it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONTRACT_VERSION, defineAdapter, definePlugin, type PluginDefinition } from 'fieldgate';
import { CONTRACT_VERSION as coreVersion } from '../../core/plugin.ts';

// Plain JavaScript with JSDoc types (no declaration file): imported by a computed path.
const EXAMPLE = new URL('../../examples/threshold-alarm/index.js', import.meta.url).href;

test("'fieldgate' exports the contract: definePlugin, defineAdapter and the contract version core checks", () => {
  assert.equal(CONTRACT_VERSION, coreVersion);
  const def: PluginDefinition<{ a: number }> = { type: 't', version: '1', contract: CONTRACT_VERSION, description: 'd', configSchema: {}, create: () => ({ start() {} }) };
  assert.equal(definePlugin(def), def);
  assert.equal(typeof defineAdapter, 'function');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin.fieldgate, 'bin/fieldgate.js', 'the bin is unchanged by the exports map');
});

test('the example plugin is written for the current contract and has no dependencies', async () => {
  const example = ((await import(EXAMPLE)) as { default: PluginDefinition }).default;
  assert.equal(example.contract, CONTRACT_VERSION);
  assert.equal(example.type, 'threshold-alarm');
  const pkg = JSON.parse(readFileSync(new URL('../../examples/threshold-alarm/package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.peerDependencies, undefined, 'npm would try to fetch a peer from the registry on an offline install');
});
