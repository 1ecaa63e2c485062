// Every bundled adapter kind. Definitions are light; real drivers and native modules load only in
// `real()`, simulators only in `sim()`.
import type { AdapterDefinition, CatalogEntry } from '../core/plugin.ts';

// deno-lint-ignore no-explicit-any -- each entry carries its own options and interface types
export const adapterCatalog: CatalogEntry<AdapterDefinition<any, any>>[] = [
  { name: 'value', load: async () => (await import('./value/adapter.ts')).default },
];
