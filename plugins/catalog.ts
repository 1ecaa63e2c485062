// Every bundled plugin type, loaded only when needed.
import type { AnyPluginDefinition, CatalogEntry } from '../core/plugin.ts';

export const pluginCatalog: CatalogEntry<AnyPluginDefinition>[] = [
  { name: 'value-poller', load: async () => (await import('./value-poller/plugin.ts')).default },
  { name: 'max31865', load: async () => (await import('./max31865/plugin.ts')).default },
  { name: 'http-api', load: async () => (await import('./http-api/plugin.ts')).default },
  { name: 'modbus-bridge', load: async () => (await import('./modbus-bridge/plugin.ts')).default },
  { name: 'modbus-server', load: async () => (await import('./modbus-server/plugin.ts')).default },
  { name: 'relay', load: async () => (await import('./relay/plugin.ts')).default },
  { name: 'neasmart', load: async () => (await import('./neasmart/plugin.ts')).default },
  { name: 'odoo-sync', load: async () => (await import('./odoo-sync/plugin.ts')).default },
  { name: 'batch-plc', load: async () => (await import('./batch-plc/plugin.ts')).default },
  { name: 'recorder', load: async () => (await import('./recorder/plugin.ts')).default },
  { name: 'can-decoder', load: async () => (await import('./can-decoder/plugin.ts')).default },
  { name: 'redis-bridge', load: async () => (await import('./redis-bridge/plugin.ts')).default },
  { name: 'pg-history', load: async () => (await import('./pg-history/plugin.ts')).default },
  { name: 'mqtt', load: async () => (await import('./mqtt/plugin.ts')).default },
];
