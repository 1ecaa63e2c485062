// Every bundled plugin type, loaded only when needed.
import type { CatalogEntry, PluginDefinition } from '../core/plugin.ts';

// deno-lint-ignore no-explicit-any -- each entry carries its own config type
export const pluginCatalog: CatalogEntry<PluginDefinition<any>>[] = [
  { name: 'value-poller', load: async () => (await import('./value-poller/plugin.ts')).default },
];
