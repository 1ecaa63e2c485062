// Every bundled adapter kind. Definitions are light; real drivers and native modules load only in
// `real()`, simulators only in `sim()`.
import type { AnyAdapterDefinition, CatalogEntry } from '../core/plugin.ts';

export const adapterCatalog: CatalogEntry<AnyAdapterDefinition>[] = [
  { name: 'value', load: async () => (await import('./value/adapter.ts')).default },
  { name: 'modbus', load: async () => (await import('./modbus/adapter.ts')).default },
  { name: 'http', load: async () => (await import('./http/adapter.ts')).default },
  { name: 'gpio', load: async () => (await import('./gpio/adapter.ts')).default },
  { name: 'spi', load: async () => (await import('./spi/adapter.ts')).default },
  { name: 'fins', load: async () => (await import('./fins/adapter.ts')).default },
  { name: 'neasmart-base', load: async () => (await import('./neasmart-base/adapter.ts')).default },
  { name: 'odoo', load: async () => (await import('./odoo/adapter.ts')).default },
  { name: 's7', load: async () => (await import('./s7/adapter.ts')).default },
  { name: 'can', load: async () => (await import('./can/adapter.ts')).default },
];
