// Assembles one gateway from a validated manifest: core services in the root container, adapters
// (real or simulated), a child container per plugin, and the supervisor that runs them.
import 'reflect-metadata';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import { Bus, OwnedBus } from '../bus.ts';
import { type Clock, systemClock } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import { HealthModel } from '../health.ts';
import { openHistory } from '../history/open.ts';
import type { HistoryStore } from '../history/types.ts';
import { RouteRegistry } from '../http-routes.ts';
import type { LogRoot, Logger } from '../log.ts';
import type { AdapterEntry, Manifest, PluginEntry } from '../manifest/types.ts';
import { MetricsRegistry } from '../metrics.ts';
import type { AdapterHandle, AnyAdapterDefinition, AnyPluginDefinition, PluginContext } from '../plugin.ts';
import { StoreHousekeeping } from '../store/housekeeping.ts';
import { openStore } from '../store/open.ts';
import type { StateStore } from '../store/types.ts';
import { ServiceRegistry } from '../services.ts';
import { SimWorld } from '../sim-world.ts';
import { Tokens } from '../tokens.ts';
import { startOrder } from './order.ts';
import type { PluginScope } from './scope.ts';
import { Supervisor, withTimeout } from './supervisor.ts';

type AnyPlugin = AnyPluginDefinition;
type AnyAdapter = AnyAdapterDefinition;

export interface RuntimeOptions {
  manifest: Manifest;
  plugins: AnyPlugin[];
  adapters: AnyAdapter[];
  logRoot: LogRoot;
  /** null keeps everything in memory (nothing on disk). */
  dataDir: string | null;
  clock?: Clock;
  /** Switch every adapter to its simulator... */
  sim?: boolean;
  /** ...except these adapter ids, which stay real. */
  real?: string[];
  random?: () => number;
}

/** The driver each adapter will use after `--sim` / `--real`. */
export function effectiveDriver(entry: AdapterEntry, options: { sim?: boolean; real?: string[] }): 'real' | 'sim' {
  if (!options.sim) return entry.driver;
  return options.real?.includes(entry.id) ? 'real' : 'sim';
}

export class Runtime {
  readonly container: DependencyContainer;
  // process_* and nodejs_* too: RSS, CPU seconds, heap, event-loop lag (on Deno nodejs_gc_duration_seconds is missing).
  readonly metrics = new MetricsRegistry({ defaultMetrics: true });
  readonly routes = new RouteRegistry();
  readonly services = new ServiceRegistry();
  readonly health: HealthModel;
  readonly supervisor: Supervisor;
  readonly log: Logger;
  readonly clock: Clock;
  readonly order: string[];
  readonly adapterHandles = new Map<string, AdapterHandle>();
  /** Shared simulator objects (plant models); tests reach the plant through it. */
  readonly world = new SimWorld();
  /** Trend retention and the store's size budget (see core/store/housekeeping.ts). */
  readonly storeHousekeeping: StoreHousekeeping;
  #stopped: Promise<void> | null = null;

  constructor(
    readonly options: RuntimeOptions,
    readonly store: StateStore,
    readonly history: HistoryStore,
    readonly bus: Bus,
  ) {
    const { manifest, logRoot } = options;
    this.clock = options.clock ?? systemClock;
    this.log = logRoot.logger('core');
    this.health = new HealthModel({ clock: this.clock, store });
    this.order = startOrder(manifest.plugins.filter((p) => p.enabled));
    const restarts = this.metrics.counter('fieldgate_plugin_restarts_total', 'Plugin restarts by the supervisor', ['plugin']);
    const up = this.metrics.gauge('fieldgate_plugin_up', '1 while the plugin is running', ['plugin']);
    this.supervisor = new Supervisor({
      clock: this.clock,
      log: logRoot.logger('supervisor'),
      settings: manifest.supervisor,
      random: options.random,
      onRestart: (id) => restarts.inc({ plugin: id }),
      onStatus: (r) => up.set({ plugin: r.id }, r.status === 'running' ? 1 : 0),
    });
    this.bus.onListenerError((owner, err, topic) => {
      if (owner === 'core') this.log.error(`bus listener for ${topic} failed: ${errorMessage(err)}`);
      else this.supervisor.fail(owner, err);
    });
    this.health.setPluginsProvider(() => this.supervisor.statuses());
    const m = manifest.store;
    this.storeHousekeeping = new StoreHousekeeping({
      store, clock: this.clock, log: logRoot.logger('store'),
      settings: { trendRetentionS: m.trendRetentionS, budgetBytes: m.budgetBytes, warnRatio: m.warnRatio, everyMs: m.housekeepingMs },
    });
    this.health.setStoreProvider(() => {
      const size = this.storeHousekeeping.report;
      return size ? { ...store.status(), size } : store.status();
    });
    this.health.setCheck('store-size', () => this.storeHousekeeping.check());
    this.health.setHistoryProvider(() => history.status());
    this.#registerStoreMetrics();

    this.container = globalContainer.createChildContainer();
    const c = this.container;
    c.register(Tokens.Clock, { useValue: this.clock });
    c.register(Tokens.LogRoot, { useValue: logRoot });
    c.register(Tokens.Bus, { useValue: this.bus });
    c.register(Tokens.Store, { useValue: store });
    c.register(Tokens.History, { useValue: history });
    c.register(Tokens.Health, { useValue: this.health });
    c.register(Tokens.Metrics, { useValue: this.metrics });
    c.register(Tokens.HttpRoutes, { useValue: this.routes });
    c.register(Tokens.Supervisor, { useValue: this.supervisor });
    c.register(Tokens.Services, { useValue: this.services });
    c.register(Tokens.Manifest, { useValue: manifest });
  }

  /** Opens adapters, then starts plugins in dependency order. Resolves when every start has settled. */
  async start(): Promise<void> {
    const { manifest } = this.options;
    const plugins = new Map(manifest.plugins.map((p) => [p.id, p]));
    await this.storeHousekeeping.start();
    const failedAdapters = await this.#openAdapters();
    const startable: string[] = [];
    for (const id of this.order) {
      const entry = plugins.get(id)!;
      const def = this.#pluginDef(entry.use);
      const unit = {
        id,
        type: entry.use,
        create: (scope: PluginScope) => Promise.resolve(def.create(this.#context(entry, scope))),
        cleanup: () => this.#cleanupOwner(id),
      };
      const broken = Object.values(entry.adapters).find((a) => failedAdapters.has(a));
      if (broken) {
        this.supervisor.markFailed(unit, `adapter "${broken}" could not be opened: ${failedAdapters.get(broken)}`);
        continue;
      }
      this.supervisor.add(unit);
      startable.push(id);
    }
    await this.supervisor.startAll(startable);
  }

  /** Stops plugins in reverse order, closes adapters, then flushes history and the store last. Bounded in time. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    const started = this.order.filter((id) => this.supervisor.statuses()[id]);
    await this.supervisor.stopAll(started.filter((id) => this.supervisor.status(id).status !== 'failed'));
    for (const [id, handle] of [...this.adapterHandles].reverse()) {
      try {
        await withTimeout(this.clock, handle.close(), this.options.manifest.supervisor.stopTimeoutMs, `adapter ${id}: close()`);
      } catch (err) {
        this.log.warn(`adapter ${id}: close failed: ${errorMessage(err)}`);
      }
    }
    await this.world.close();
    this.storeHousekeeping.stop();
    await this.storeHousekeeping.idle();
    await this.history.close();
    await this.store.close();
  }

  #pluginDef(type: string): AnyPlugin {
    const def = this.options.plugins.find((p) => p.type === type);
    if (!def) throw new Error(`plugin type "${type}" is not in the catalogue`);
    return def;
  }

  async #openAdapters(): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    const { manifest } = this.options;
    const used = new Set(manifest.plugins.filter((p) => p.enabled).flatMap((p) => Object.values(p.adapters)));
    for (const entry of manifest.adapters) {
      if (!used.has(entry.id)) continue;
      const def = this.options.adapters.find((a) => a.kind === entry.kind);
      const driver = effectiveDriver(entry, this.options);
      const log = this.options.logRoot.logger(`adapter:${entry.id}`);
      try {
        if (!def) throw new Error(`adapter kind "${entry.kind}" is not in the catalogue`);
        const ctx = { id: entry.id, log, clock: this.clock, bus: this.bus, metrics: this.metrics, health: this.health, world: this.world };
        const handle = driver === 'sim' ? await def.sim(entry.options, ctx) : await def.real(entry.options, ctx);
        this.adapterHandles.set(entry.id, handle);
        log.info(`opened (${entry.kind}, ${driver === 'sim' ? 'simulator' : 'real hardware'})`);
      } catch (err) {
        failed.set(entry.id, errorMessage(err));
        log.error(`could not open (${entry.kind}, ${driver}): ${errorMessage(err)}; the plugins bound to it are marked failed`);
      }
    }
    return failed;
  }

  #context(entry: PluginEntry, scope: PluginScope): PluginContext<Record<string, unknown>> {
    const child = this.container.createChildContainer();
    const log = this.options.logRoot.logger(`plugin:${entry.id}`);
    const bus = new OwnedBus(this.bus, entry.id);
    const adapters: Record<string, unknown> = {};
    for (const [binding, adapterId] of Object.entries(entry.adapters)) adapters[binding] = this.adapterHandles.get(adapterId)?.instance;
    child.register(Tokens.PluginConfig, { useValue: entry.config });
    child.register(Tokens.PluginAdapters, { useValue: adapters });
    child.register(Tokens.Log, { useValue: log });
    child.register(Tokens.PluginBus, { useValue: bus });
    child.register(Tokens.PluginScope, { useValue: scope });
    child.register(Tokens.Clock, { useValue: scope.clock });
    return {
      id: entry.id,
      config: entry.config,
      container: child,
      log,
      bus,
      store: this.store,
      history: this.history,
      health: this.health,
      metrics: this.metrics,
      scope,
      clock: scope.clock,
      adapters,
    };
  }

  #cleanupOwner(id: string): void {
    this.bus.removeOwner(id);
    this.health.unwatchOwner(id);
    this.routes.removeOwner(id);
    this.services.removeOwner(id);
  }

  #registerStoreMetrics(): void {
    const lag = this.metrics.gauge('fieldgate_store_journal_lag_seconds', 'Age of the oldest store mutation not yet on disk');
    const pending = this.metrics.gauge('fieldgate_store_pending_writes', 'Store mutations applied in memory but not yet on disk');
    const memory = this.metrics.gauge('fieldgate_store_memory_fallback', '1 while the store runs from memory after a disk failure');
    // From the periodic measurement, not measured per scrape.
    const allocated = this.metrics.gauge('fieldgate_store_allocated_bytes', 'Bytes the in-memory database has allocated (pages times page size)');
    const used = this.metrics.gauge('fieldgate_store_used_bytes', 'Bytes the in-memory database uses (allocated minus free pages)');
    const budget = this.metrics.gauge('fieldgate_store_budget_bytes', 'Configured budget for fieldgate_store_used_bytes (0 = none)');
    this.metrics.onCollect(() => {
      const s = this.store.status();
      lag.set(s.journalLagMs / 1000);
      pending.set(s.pendingWrites);
      memory.set(s.mode === 'memory' ? 1 : 0);
      const size = this.storeHousekeeping.report;
      budget.set(this.storeHousekeeping.settings.budgetBytes);
      if (size) {
        allocated.set(size.allocatedBytes);
        used.set(size.usedBytes);
      }
    });
  }
}

/** Opens the store and history for a manifest and builds the runtime (not yet started). */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const clock = options.clock ?? systemClock;
  const { manifest, logRoot, dataDir } = options;
  const bus = new Bus();
  const { commitDelayMs, lazyFlushMs, snapshotIntervalMs, snapshotJournalBytes, diskRetryMs } = manifest.store;
  const store = await openStore({ dataDir, clock, log: logRoot.logger('store'), bus, commitDelayMs, lazyFlushMs, snapshotIntervalMs, snapshotJournalBytes, diskRetryMs });
  const history = await openHistory({ dataDir, clock, log: logRoot.logger('history'), segmentMs: manifest.history.segmentMs, retentionMs: manifest.history.retentionMs });
  return new Runtime(options, store, history, bus);
}
