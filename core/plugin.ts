// The plugin contract: what a plugin module exports and what the host hands it.
import type { DependencyContainer } from 'tsyringe';
import type { Bus, OwnedBus } from './bus.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';
import type { JsonSchema } from './schema.ts';
import type { StateStore } from './store/types.ts';
import type { HealthModel } from './health.ts';
import type { MetricsRegistry } from './metrics.ts';
import type { PluginScope } from './host/scope.ts';
import type { HistoryStore } from './history/types.ts';
import type { SimWorld } from './sim-world.ts';

/** An adapter binding a plugin needs: the manifest maps the binding name to an adapter id. */
export interface AdapterRequirement {
  kind: string;
  optional?: boolean;
  description?: string;
}

export interface PluginContext<C> {
  /** The plugin's id from the manifest (unique). */
  id: string;
  config: C;
  /** The plugin's child container: resolve core services by `Tokens`. */
  container: DependencyContainer;
  log: Logger;
  /** Owner-bound bus: listeners are removed when the plugin stops. */
  bus: OwnedBus;
  store: StateStore;
  history: HistoryStore;
  health: HealthModel;
  metrics: MetricsRegistry;
  /** Tracked timers and cleanups, cancelled when the plugin stops; failures restart the plugin. */
  scope: PluginScope;
  clock: Clock;
  /** Adapter instances by binding name. */
  adapters: Record<string, unknown>;
}

export interface PluginInstance {
  /**
   * Starts the plugin. Resolve once it is running; long-running loops must use `scope` timers or
   * `scope.run()`, and end when `signal` aborts. A throw or rejection is a failure.
   */
  start(signal: AbortSignal): void | Promise<void>;
  /** Releases what `scope` does not track (sockets, servers). Called before every restart too. */
  stop?(): void | Promise<void>;
}

/**
 * Version of the plugin and adapter contract (this file's interfaces). An external plugin or
 * adapter declares the version it was written for in `contract`; the loader refuses any other.
 * Raised only by a change that breaks existing plugins.
 */
export const CONTRACT_VERSION = 1;

export interface PluginDefinition<C = Record<string, unknown>> {
  /** The `use` name in manifests, e.g. `max31865`. */
  type: string;
  version: string;
  /** The contract version this plugin was written for; required for external plugins (see CONTRACT_VERSION). */
  contract?: number;
  description: string;
  /** JSON Schema for `config`; unknown keys should be refused with `additionalProperties: false`. */
  configSchema: JsonSchema;
  adapters?: Record<string, AdapterRequirement>;
  /**
   * Checks JSON Schema cannot express (overlapping addresses, say), run by `fieldgate validate`
   * and before start on a config that passed the schema. One `path: message` line per problem,
   * the path relative to `config` (`map[1].address: overlaps map[0]`).
   */
  validateConfig?(config: C): string[];
  create(ctx: PluginContext<C>): PluginInstance | Promise<PluginInstance>;
}

/** Identity helper that types a plugin definition. */
export function definePlugin<C>(definition: PluginDefinition<C>): PluginDefinition<C> {
  return definition;
}

/** Whether an adapter runs against real hardware or its bundled simulator. */
export type AdapterDriver = 'real' | 'sim';

export interface AdapterContext {
  id: string;
  log: Logger;
  clock: Clock;
  bus: Bus;
  metrics: MetricsRegistry;
  health: HealthModel;
  /** Objects shared by this runtime's simulators (plant models); see core/sim-world.ts. */
  world: SimWorld;
}

export interface AdapterHandle<I = unknown> {
  instance: I;
  /** Closes connections and stops the simulator if one was started. */
  close(): Promise<void>;
}

export interface AdapterDefinition<O = Record<string, unknown>, I = unknown> {
  kind: string;
  /** The contract version this adapter was written for; required for external adapters (see CONTRACT_VERSION). */
  contract?: number;
  description: string;
  optionsSchema: JsonSchema;
  /** Opens the real implementation; load native modules here with `await import()`, never at top level. */
  real(options: O, ctx: AdapterContext): Promise<AdapterHandle<I>>;
  /** Starts the bundled simulator in-process and returns the same interface connected to it. */
  sim(options: O, ctx: AdapterContext): Promise<AdapterHandle<I>>;
}

export function defineAdapter<O, I>(definition: AdapterDefinition<O, I>): AdapterDefinition<O, I> {
  return definition;
}

/** A lazily loaded catalogue entry: the module is imported only when a manifest names it. */
export interface CatalogEntry<D> {
  name: string;
  load(): Promise<D>;
}

// Catalogues hold definitions of many config types; each validates its own config, so the
// element type is deliberately erased here (and only here).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPluginDefinition = PluginDefinition<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAdapterDefinition = AdapterDefinition<any, any>;
