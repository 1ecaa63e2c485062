// The seed middleware's admin and SCADA routes, contributed to http-api (which checks the API key,
// validates the schemas and audits the POSTs). Answers keep the seed's envelope:
// `{status: 'success' | 'skipped' | 'error', message, data}`; errors add `error` (http-api's shape).
import type { OdooClient } from '../../adapters/odoo/types.ts';
import { OdooError } from '../../adapters/odoo/errors.ts';
import type { RouteContribution } from '../../core/http-routes.ts';
import { errorMessage } from '../../core/errors.ts';
import type { HealthModel } from '../../core/health.ts';
import { SILO_LETTERS, type MoBatchRepository, type MoBatchRow } from './batch-repo.ts';
import { MAX_LIMIT } from './config.ts';
import { LAST_OK_KEY, type MoSync } from './sync.ts';

interface Req {
  query: Record<string, unknown>;
}

interface Reply {
  code(status: number): Reply;
}

export interface RouteEnv {
  odoo: OdooClient;
  repo: MoBatchRepository;
  sync: MoSync;
  health: HealthModel;
}

const TAGS = ['odoo-sync'];

/** HTTP status for an Odoo failure: the gateway works, its upstream did not (502), or timed out (504). */
function odooFailure(reply: Reply, err: unknown, what: string) {
  const kind = err instanceof OdooError ? err.kind : 'error';
  reply.code(kind === 'timeout' ? 504 : 502);
  return { status: 'error', error: `odoo ${kind}`, message: `${what}: ${errorMessage(err)}` };
}

/** One queued batch as a flat table row for the dashboard. */
export function queueRow(r: MoBatchRow) {
  const silos = SILO_LETTERS.filter((l) => r.consumptions[l] !== undefined)
    .map((l) => `${l.toUpperCase()}(${r.silos[l]}) ${r.consumptions[l]}`)
    .concat(Object.entries(r.liquids ?? {}).map(([t, v]) => `${t} ${v.consumption}`));
  return {
    batch_no: r.batch_no,
    mo_id: r.mo_id,
    finished_goods: r.finished_goods ?? '',
    consumption: r.consumption,
    silos: silos.join(', '),
    state: r.status_manufacturing ? (r.status_operation ? 'failed' : 'finished') : 'queued',
  };
}

export function odooSyncRoutes(env: RouteEnv): RouteContribution[] {
  const { odoo, repo, sync, health } = env;
  return [
    {
      method: 'GET',
      url: '/api/health',
      schema: { summary: 'The Odoo sync\'s health: ERP link, queue size, last sync', tags: TAGS },
      handler: async () => {
        const s = sync.status();
        const beat = health.report().heartbeats[LAST_OK_KEY];
        const queue = await repo.count().catch(() => null);
        const healthy = s.erpConnected === true && beat?.stale === false && queue !== null;
        return {
          status: 'success',
          message: healthy ? 'Odoo reachable' : `degraded: ${s.lastError ?? (beat?.stale ? 'no successful Odoo call recently' : queue === null ? 'mo_batch unreadable' : 'not connected yet')}`,
          data: {
            healthy,
            erp: { description: odoo.description, connected: s.erpConnected, lastOkTs: s.erpLastOkTs, ageS: beat?.ageS ?? null, stale: beat?.stale ?? true, consecutiveFailures: s.consecutiveFailures, lastError: s.lastError },
            queue: { count: queue, repository: repo.description },
            sync: { enabled: s.enabled, intervalMs: s.intervalMs, batchLimit: s.batchLimit, nextSyncAt: s.nextSyncAt, last: s.lastSync },
          },
        };
      },
    },
    {
      method: 'POST',
      url: '/api/scada/authenticate',
      write: true,
      schema: { summary: 'Checks that the gateway can log in to Odoo', tags: TAGS },
      handler: async (_req, reply) => {
        try {
          const info = await odoo.authenticate();
          await sync.linkOk();
          return { status: 'success', message: `authenticated to ${odoo.description}`, data: { uid: info.uid, db: info.db, username: info.username, name: info.name ?? null, server_version: info.server_version ?? null } };
        } catch (err) {
          await sync.linkFailed(err);
          return odooFailure(reply as Reply, err, 'Odoo login failed');
        }
      },
    },
    {
      method: 'POST',
      url: '/api/scada/mo-list-detailed',
      write: true,
      schema: {
        summary: 'Open manufacturing orders from Odoo, as is (passed through; nothing is queued)',
        tags: TAGS,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', default: 10, description: `1..${MAX_LIMIT}` },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
      },
      handler: async (req, reply) => {
        const { limit, offset } = (req as Req).query as { limit: number; offset: number };
        if (!(limit >= 1 && limit <= MAX_LIMIT)) {
          (reply as Reply).code(400);
          return { status: 'error', error: 'bad request', message: `limit must be between 1 and ${MAX_LIMIT}, got ${limit}; nothing was fetched`, fields: { 'querystring.limit': `must be 1..${MAX_LIMIT}` } };
        }
        try {
          const r = await odoo.fetchManufacturingOrders({ limit, offset });
          await sync.linkOk();
          return { status: 'success', count: r.mos.length, source: r.source, data: r.mos };
        } catch (err) {
          await sync.linkFailed(err);
          return odooFailure(reply as Reply, err, 'fetching MOs failed');
        }
      },
    },
    {
      method: 'GET',
      url: '/api/admin/batch-status',
      schema: { summary: 'The mo_batch queue: rows and counts', tags: TAGS },
      handler: async () => {
        const rows = await repo.list();
        const finished = rows.filter((r) => r.status_manufacturing).length;
        const failed = rows.filter((r) => r.status_manufacturing && r.status_operation).length;
        return {
          status: 'success',
          message: rows.length ? `${rows.length} batch(es) queued` : 'queue empty; the next sync fetches new MOs',
          data: { total_batches: rows.length, queued: rows.length - finished, finished, failed, queue_empty: rows.length === 0, last_sync: sync.status().lastSync, batches: rows },
        };
      },
    },
    {
      method: 'GET',
      url: '/api/admin/batch-queue',
      schema: { summary: 'MO batch queue', description: 'The queue as a flat table (the dashboard panel).', tags: [...TAGS, 'dashboard'] },
      panel: {
        wide: true,
        actions: [
          { label: 'Trigger sync', url: '/api/admin/trigger-sync' },
          { label: 'Clear queue', url: '/api/admin/clear-mo-batch', confirm: 'Remove every batch from the queue? Batches already on the PLC finish there; the next sync fetches again.' },
        ],
      },
      handler: async () => (await repo.list()).map(queueRow),
    },
    {
      method: 'POST',
      url: '/api/admin/clear-mo-batch',
      write: true,
      schema: { summary: 'Empties the mo_batch queue (the next sync fetches new MOs)', tags: TAGS },
      handler: async () => {
        const cleared = await repo.clear();
        return { status: 'success', message: `cleared ${cleared} batch(es) from mo_batch`, data: { cleared } };
      },
    },
    {
      method: 'POST',
      url: '/api/admin/trigger-sync',
      write: true,
      schema: { summary: 'Syncs now; skipped while the queue is not empty', tags: TAGS },
      handler: async (_req, reply) => {
        const outcome = await sync.sync('trigger');
        if (outcome.status === 'failed') {
          (reply as Reply).code(502);
          return { status: 'error', error: 'sync failed', message: outcome.message, data: outcome };
        }
        return { status: outcome.status === 'skipped' ? 'skipped' : 'success', message: outcome.message, data: outcome };
      },
    },
  ];
}
