// Writes schema/manifest.schema.json from the bundled plugin and adapter catalogues.
// Usage: node --import tsx scripts/build-schema.ts [--check]   (--check: exit 1 if the file is stale)
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { adapterCatalog } from '../adapters/catalog.ts';
import { pluginCatalog } from '../plugins/catalog.ts';
import { composeManifestSchema, widenForEnvironment } from '../core/manifest/compose.ts';

const target = fileURLToPath(new URL('../schema/manifest.schema.json', import.meta.url));

const plugins = await Promise.all(pluginCatalog.map((entry) => entry.load()));
const adapters = await Promise.all(adapterCatalog.map((entry) => entry.load()));
// Published widened: editors should accept "${API_PORT:-8080}" where a number goes (see widenForEnvironment).
const text = JSON.stringify(widenForEnvironment(composeManifestSchema({ plugins, adapters })), null, 2) + '\n';

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== text) {
    console.error(`${target} is out of date; run: node --import tsx scripts/build-schema.ts`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  await writeFile(target, text);
  console.log(`wrote ${target} (${plugins.length} plugin type(s), ${adapters.length} adapter kind(s))`);
}
