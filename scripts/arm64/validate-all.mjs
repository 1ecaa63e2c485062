// `fieldgate validate` of several manifests in one process: the built CLI's own runCli, catalogues and
// output, called once per manifest, so that qemu-user starts Node once instead of once per manifest.
// Usage: node scripts/arm64/validate-all.mjs <dist dir> <manifest.json>...   (exit 1 if any is invalid)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, ...manifests] = process.argv.slice(2);
if (!dist || manifests.length === 0) {
  console.error('usage: node scripts/arm64/validate-all.mjs <dist dir> <manifest.json>...');
  process.exit(2);
}
const from = (path) => import(pathToFileURL(resolve(dist, path)).href);
await import('reflect-metadata');
const [{ runCli }, { pluginCatalog }, { adapterCatalog }] = await Promise.all([
  from('core/cli/main.js'),
  from('plugins/catalog.js'),
  from('adapters/catalog.js'),
]);
const { version } = JSON.parse(readFileSync(resolve(dist, 'package.json'), 'utf8'));
let failed = 0;
for (const manifest of manifests) {
  const code = await runCli(['validate', manifest], { plugins: pluginCatalog, adapters: adapterCatalog, version });
  if (code !== 0) failed++;
}
process.exit(failed ? 1 : 0);
