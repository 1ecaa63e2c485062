// Entry point: the core CLI with the bundled plugin and adapter catalogues.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { runCli } from '../core/cli/main.ts';
import { pluginCatalog } from '../plugins/catalog.ts';
import { adapterCatalog } from '../adapters/catalog.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const code = await runCli(process.argv.slice(2), {
  plugins: pluginCatalog,
  adapters: adapterCatalog,
  version: pkg.version,
  tools: { sqliteToPostgres: async () => (await import('../plugins/pg-history/migrate.ts')).migrateSqliteToPostgres },
});
process.exit(code);
