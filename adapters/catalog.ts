// Every bundled adapter kind. Definitions are light; real drivers and native modules load only in
// `real()`, simulators only in `sim()`.
import type { AnyAdapterDefinition, CatalogEntry } from '../core/plugin.ts';

export const adapterCatalog: CatalogEntry<AnyAdapterDefinition>[] = [
  { name: 'value', load: async () => (await import('./value/adapter.ts')).default },
];
