// Batch history and the operator's decisions on finished batches, contributed to http-api: the
// POSTs need the API key and are audited there (route, key id, body); the decision is also kept
// on the batch's own history row (resolution, resolved_at).
import type { RouteContribution } from '../../core/http-routes.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { MoBatchStore } from './batch-repo.ts';
import type { BatchHistoryRow } from './history.ts';
import type { WriteBackWorker } from './write-back.ts';

interface Req {
  query: Record<string, unknown>;
  body: Record<string, unknown>;
}

interface Reply {
  code(status: number): Reply;
}

export interface HistoryRouteEnv {
  repo: MoBatchStore;
  worker: WriteBackWorker;
  clock: Clock;
  log: Logger;
}

const TAGS = ['odoo-sync'];
const OPEN = new Set(['held', 'rejected']);

/** A history row as the API shows it (without the queued row it was made from). */
export function historyView(h: BatchHistoryRow) {
  const { row: _row, ...rest } = h;
  return rest;
}

/** `2026-01-01T08:00:00Z`, or epoch seconds, to epoch seconds; undefined when absent; NaN when unreadable. */
function epoch(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v);
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? Number.NaN : ms / 1000;
}

export function historyRoutes(env: HistoryRouteEnv): RouteContribution[] {
  const { repo, worker, clock, log } = env;
  return [
    {
      method: 'GET',
      url: '/api/admin/batch-log',
      schema: { summary: 'Finished batches', description: 'The last 20 finished/failed batches as a flat table, with the operator buttons (the dashboard panel).', tags: [...TAGS, 'dashboard'] },
      panel: {
        wide: true,
        rowActions: [
          { label: 'Retry on PLC', url: '/api/admin/resolve-batch', keyField: '_key', body: { action: 'retry-plc' }, when: { field: 'state', values: ['held', 'rejected'] } },
          { label: 'Write back', url: '/api/admin/resolve-batch', keyField: '_key', body: { action: 'write-back' }, when: { field: 'state', values: ['held', 'rejected'] }, confirm: 'Write back what the PLC reported consumed and mark the MO done in Odoo?' },
          { label: 'Dismiss', url: '/api/admin/resolve-batch', keyField: '_key', body: { action: 'dismiss' }, when: { field: 'state', values: ['held', 'rejected'] }, confirm: 'Close this batch without writing anything to Odoo?' },
        ],
      },
      handler: async () => (await repo.history({ limit: 20 })).map((h) => ({
        _key: h.key,
        batch: h.batch_no,
        mo_id: h.mo_id,
        finished: new Date(h.finished_at * 1000).toISOString().slice(5, 16).replace('T', ' '),
        kg: h.actual_weight_quantity_finished_goods,
        state: h.state,
        note: h.last_error ?? h.resolution ?? (h.status_operation ? 'PLC: failed' : ''),
      })),
    },
    {
      method: 'GET',
      url: '/api/admin/batch-history',
      schema: {
        summary: 'Finished and failed batches with times, consumption and write-back state',
        tags: TAGS,
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string', description: 'ISO date-time or epoch seconds (finished at or after)' },
            to: { type: 'string', description: 'ISO date-time or epoch seconds (finished at or before)' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
          },
        },
      },
      handler: async (req, reply) => {
        const q = (req as Req).query;
        const from = epoch(q.from);
        const to = epoch(q.to);
        const bad = Object.entries({ from, to }).filter(([, v]) => Number.isNaN(v)).map(([k]) => k);
        if (bad.length) {
          (reply as Reply).code(400);
          return { status: 'error', error: 'bad request', message: `${bad.join(' and ')} must be an ISO date-time or epoch seconds`, fields: Object.fromEntries(bad.map((k) => [`querystring.${k}`, 'not a date'])) };
        }
        const rows = await repo.history({ from, to, limit: Number(q.limit ?? 200) });
        const count = (s: string) => rows.filter((r) => r.state === s).length;
        return {
          status: 'success',
          message: `${rows.length} batch(es)`,
          data: {
            from: from ?? null, to: to ?? null, count: rows.length,
            pending: count('pending'), confirmed: count('confirmed'), held: count('held') + count('rejected'),
            batches: rows.map(historyView),
          },
        };
      },
    },
    {
      method: 'POST',
      url: '/api/admin/resolve-batch',
      write: true,
      schema: {
        summary: 'An operator decision on a failed or refused batch: retry it on the PLC, write back what was consumed, or dismiss it',
        tags: TAGS,
        body: {
          type: 'object',
          required: ['key', 'action'],
          additionalProperties: false,
          properties: {
            key: { type: 'string', minLength: 1, description: 'The batch\'s history key (GET /api/admin/batch-history)' },
            action: { enum: ['retry-plc', 'write-back', 'dismiss'] },
            note: { type: 'string', maxLength: 200 },
          },
        },
      },
      handler: async (req, reply) => {
        const { key, action, note } = (req as Req).body as { key: string; action: 'retry-plc' | 'write-back' | 'dismiss'; note?: string };
        const h = await repo.getHistory(key);
        if (!h) {
          (reply as Reply).code(404);
          return { status: 'error', error: 'not found', message: `no finished batch with key ${JSON.stringify(key)}; see GET /api/admin/batch-history` };
        }
        if (!OPEN.has(h.state)) {
          (reply as Reply).code(409);
          return { status: 'error', error: 'conflict', message: `batch ${h.batch_no} (${h.mo_id}) is "${h.state}"; only held or rejected batches take a decision; nothing was done` };
        }
        const at = clock.now() / 1000;
        const text = `${action}${note ? `: ${note}` : ''}`;
        if (action === 'retry-plc') {
          try {
            const batchNo = await repo.requeue(key, { text, at });
            log.info(`operator: ${h.mo_id} (failed batch ${h.batch_no}) queued again for the PLC as batch ${batchNo}`);
            worker.kick();
            return { status: 'success', message: `${h.mo_id} queued again as batch ${batchNo}`, data: { key, batch_no: batchNo } };
          } catch (err) {
            (reply as Reply).code(409);
            return { status: 'error', error: 'conflict', message: `${h.mo_id} not queued again: ${(err as Error).message}` };
          }
        }
        if (action === 'write-back') {
          await repo.updateWriteBack(key, { state: 'pending', next_attempt_at: at, last_error: null, resolution: text, resolved_at: at });
          log.info(`operator: batch ${h.batch_no} (${h.mo_id}) released for write-back of what was consumed`);
          worker.kick();
          return { status: 'success', message: `batch ${h.batch_no} (${h.mo_id}) will be written back to Odoo with what was consumed`, data: { key } };
        }
        await repo.updateWriteBack(key, { state: 'dismissed', next_attempt_at: null, resolution: text, resolved_at: at });
        log.info(`operator: batch ${h.batch_no} (${h.mo_id}) dismissed without write-back`);
        worker.kick();
        return { status: 'success', message: `batch ${h.batch_no} (${h.mo_id}) dismissed; nothing written to Odoo`, data: { key } };
      },
    },
  ];
}
