// Every bundled plugin type, loaded only when needed.
import type { AnyPluginDefinition, CatalogEntry } from '../core/plugin.ts';

export const pluginCatalog: CatalogEntry<AnyPluginDefinition>[] = [
  { name: 'value-poller', load: async () => (await import('./value-poller/plugin.ts')).default },
  { name: 'http-api', load: async () => (await import('./http-api/plugin.ts')).default },
];
