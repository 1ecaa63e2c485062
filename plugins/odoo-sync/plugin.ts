// Plugin `odoo-sync`: Odoo 14 manufacturing orders → the mo_batch queue of the mixing PLC. Offers
// the queue as service `mo-batch:<id>` (the PLC link consumes it), runs the smart-wait sync and
// contributes the seed middleware's admin/SCADA routes and a dashboard panel.
import type { OdooClient } from '../../adapters/odoo/types.ts';
import type { RouteRegistry } from '../../core/http-routes.ts';
import { peerLimitCounter } from '../../core/peer-limits.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { ServiceRegistry } from '../../core/services.ts';
import { Tokens } from '../../core/tokens.ts';
import { moBatchService } from './batch-repo.ts';
import { checkConfig, configSchema, intervalMs, resolveConfig, type OdooSyncConfig } from './config.ts';
import { COUNT_KEY, ObservedMoBatchRepository, QUEUE_TOPIC, type QueueChange } from './observed-repo.ts';
import { odooSyncRoutes } from './routes.ts';
import { createMoBatchRepository } from './repo-factory.ts';
import { LAST_OK_KEY, MoSync } from './sync.ts';
import { historyRoutes } from './routes-history.ts';
import { WriteBackWorker } from './write-back.ts';

export const PENDING_KEY = 'batches_pending_writeback';
export const HELD_KEY = 'batches_held';

export default definePlugin<Partial<OdooSyncConfig>>({
  type: 'odoo-sync',
  version: '0.1.0',
  description: 'SCADA ↔ Odoo 14: fetches manufacturing orders, maps components to silos 101..113 (A..M) and queues them as mo_batch rows for the mixing PLC, only when the queue is empty; admin and SCADA routes.',
  adapters: {
    erp: { kind: 'odoo', description: 'The Odoo 14 server the manufacturing orders come from.' },
  },
  configSchema,
  validateConfig: (raw) => checkConfig(resolveConfig(raw)),
  async create({ id, config: raw, container, adapters, store, bus, health, metrics, scope, log }) {
    const config = resolveConfig(raw);
    const issues = checkConfig(config);
    if (issues.length) throw new Error(`odoo-sync "${id}": invalid config:\n  ${issues.map((i) => `config.${i}`).join('\n  ')}`);
    const odoo = adapters.erp as OdooClient;
    const services = container.resolve<ServiceRegistry>(Tokens.Services);
    const routes = container.resolve<RouteRegistry>(Tokens.HttpRoutes);
    const clock = scope.clock;
    const countLimit = peerLimitCounter(metrics);
    const inner = await createMoBatchRepository(config, {
      store,
      clock,
      log,
      onLimit: (err, setting) => {
        countLimit(id);
        log.warn(`${err.message} (databaseLimits.${setting} raises the limit); the next query opens a new connection`);
      },
    });
    let worker: WriteBackWorker | null = null;
    const outbox = { pending: 0, held: 0 };
    const counts = async () => {
      const open = await inner.history({ limit: 1000 }).catch(() => null);
      if (!open) return;
      outbox.pending = open.filter((h) => h.state === 'pending').length;
      outbox.held = open.filter((h) => h.state === 'held' || h.state === 'rejected').length;
      await store.setMany({ [PENDING_KEY]: outbox.pending, [HELD_KEY]: outbox.held }, { durable: false }).catch(() => {});
    };
    const repo = new ObservedMoBatchRepository(inner, async (change) => {
      await store.set(COUNT_KEY, change.count, { durable: false }).catch(() => {});
      bus.publish<QueueChange>(QUEUE_TOPIC, { key: 'mo_batch', value: change, ts: clock.now() / 1000 });
      // A batch just finished: its write-back starts now, not at the next sweep.
      if (change.change === 'finished') worker?.kick();
    });
    const sync = new MoSync({ config, odoo, repo, store, log, clock });
    worker = new WriteBackWorker({ odoo, repo, clock, log, backoff: config.backoff, sweepMs: config.writeBack.sweepMs, onChange: counts });

    return {
      async start() {
        // Registered first: a PostgreSQL pool must close even when init() fails (the supervisor retries).
        scope.defer(() => repo.close());
        await repo.init();
        await store.set(COUNT_KEY, await repo.count(), { durable: false });
        scope.defer(services.provide(id, moBatchService(id), repo));
        for (const r of odooSyncRoutes({ odoo, repo, sync, health })) scope.defer(routes.add(id, r));
        for (const r of historyRoutes({ repo, worker: worker!, clock, log })) scope.defer(routes.add(id, r));
        scope.defer(() => worker!.stop());
        // Not ok while a batch waits for an operator: the health panel says so.
        scope.defer(health.setCheck(`odoo-writeback:${id}`, () => ({
          ok: outbox.held === 0,
          detail: `${outbox.pending} batch(es) waiting for Odoo${worker!.lastError && outbox.pending ? ` (last error: ${worker!.lastError})` : ''}; ${outbox.held} held for an operator decision (POST /api/admin/resolve-batch)`,
        }), id));
        await counts();
        worker!.start();
        scope.defer(health.watch({ key: LAST_OK_KEY, maxAgeS: config.staleAfterS, owner: id }));
        scope.defer(() => sync.stop());
        sync.start();
        log.info(`syncing ${odoo.description} every ${intervalMs(config) / 1000} s (limit ${config.batchLimit} MOs, ${config.enabled ? 'automatic' : 'on demand only'}) into ${repo.description}`);
      },
    };
  },
});
