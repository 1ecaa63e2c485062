// Writes schema/manifest.schema.json from the bundled plugin and adapter catalogues, and
// schema/scenario.schema.json (fieldgate test) from core/scenario/schema.ts.
// Usage: node --import tsx scripts/build-schema.ts [--check]   (--check: exit 1 if a file is stale)
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { adapterCatalog } from '../adapters/catalog.ts';
import { pluginCatalog } from '../plugins/catalog.ts';
import { composeManifestSchema, widenForEnvironment } from '../core/manifest/compose.ts';
import { scenarioSchema } from '../core/scenario/schema.ts';

const target = fileURLToPath(new URL('../schema/manifest.schema.json', import.meta.url));
const scenarioTarget = fileURLToPath(new URL('../schema/scenario.schema.json', import.meta.url));

const plugins = await Promise.all(pluginCatalog.map((entry) => entry.load()));
const adapters = await Promise.all(adapterCatalog.map((entry) => entry.load()));
// Published widened: editors should accept "${API_PORT:-8080}" where a number goes (see widenForEnvironment).
const text = JSON.stringify(widenForEnvironment(composeManifestSchema({ plugins, adapters })), null, 2) + '\n';
const scenarioText = JSON.stringify(scenarioSchema, null, 2) + '\n';

if (process.argv.includes('--check')) {
  let stale = false;
  for (const [file, want] of [[target, text], [scenarioTarget, scenarioText]]) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== want) {
      console.error(`${file} is out of date; run: node --import tsx scripts/build-schema.ts`);
      stale = true;
    } else console.log(`${file} is up to date`);
  }
  if (stale) process.exit(1);
} else {
  await writeFile(target, text);
  console.log(`wrote ${target} (${plugins.length} plugin type(s), ${adapters.length} adapter kind(s))`);
  await writeFile(scenarioTarget, scenarioText);
  console.log(`wrote ${scenarioTarget}`);
}
