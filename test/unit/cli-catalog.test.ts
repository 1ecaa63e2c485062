// `fieldgate validate|run` load only the catalogue entries the manifest names; a manifest naming an
// unknown type still gets the whole catalogue's error and did-you-mean hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../core/cli/main.ts';
import type { AnyAdapterDefinition, AnyPluginDefinition, CatalogEntry } from '../../core/plugin.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { pluginCatalog } from '../../plugins/catalog.ts';

function counting<D>(entries: CatalogEntry<D>[], loaded: Set<string>): CatalogEntry<D>[] {
  return entries.map((e) => ({ name: e.name, load: () => (loaded.add(e.name), e.load()) }));
}

async function validate(manifest: unknown): Promise<{ code: number; out: string; loaded: Set<string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cli-catalog-'));
  try {
    const file = join(dir, 'm.json');
    writeFileSync(file, JSON.stringify(manifest));
    const loaded = new Set<string>();
    const lines: string[] = [];
    const code = await runCli(['validate', file], {
      plugins: counting<AnyPluginDefinition>(pluginCatalog, loaded),
      adapters: counting<AnyAdapterDefinition>(adapterCatalog, loaded),
      version: '0.0.0-test', env: {}, stdout: (l) => lines.push(l), stderr: (l) => lines.push(l),
    });
    return { code, out: lines.join('\n'), loaded };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const source = { id: 'temp', kind: 'value', driver: 'sim', options: { path: '/nonexistent' } };

test('only the named plugin and adapter types are loaded', async () => {
  const r = await validate({ name: 'small', adapters: [source], plugins: [{ id: 'poll', use: 'value-poller', adapters: { source: 'temp' }, config: { key: 't' } }] });
  assert.equal(r.code, 0, r.out);
  assert.deepEqual([...r.loaded].sort(), ['value', 'value-poller']);
});

test('an unknown type loads the whole catalogue, so the error names it with a hint', async () => {
  const r = await validate({ name: 'typo', adapters: [source], plugins: [{ id: 'poll', use: 'value-poler', adapters: { source: 'temp' }, config: { key: 't' } }] });
  assert.equal(r.code, 1);
  assert.match(r.out, /value-poler/);
  assert.match(r.out, /value-poller/, 'the did-you-mean hint needs the whole catalogue');
  assert.equal(r.loaded.size, pluginCatalog.length + adapterCatalog.length);
});
