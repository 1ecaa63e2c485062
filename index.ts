// The package's public API: the contract external plugins and adapters are written against.
// Values are limited to core/plugin.ts (which imports only types), so importing it loads nothing else.
export { CONTRACT_VERSION, defineAdapter, definePlugin } from './core/plugin.ts';
export type {
  AdapterContext,
  AdapterDefinition,
  AdapterDriver,
  AdapterHandle,
  AdapterRequirement,
  PluginContext,
  PluginDefinition,
  PluginInstance,
} from './core/plugin.ts';
export type { JsonSchema } from './core/schema.ts';
export type { Logger, LogLevel } from './core/log.ts';
export type { Clock, TimerHandle } from './core/clock.ts';
export type { Bus, OwnedBus, StateChange } from './core/bus.ts';
export type { StateEntry, StateStore, WriteOptions, WriteResult } from './core/store/types.ts';
export type { HistoryQuery, HistoryRecord, HistoryStore } from './core/history/types.ts';
export type { HealthModel, HeartbeatSpec } from './core/health.ts';
export type { MetricsRegistry } from './core/metrics.ts';
export type { PluginScope } from './core/host/scope.ts';
export type { SimWorld } from './core/sim-world.ts';
