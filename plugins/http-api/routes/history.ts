// GET /api/history and GET /api/history/<series>: the history store over HTTP, bucketed
// (min/max/avg/last per step, in bounded memory) or as raw rows in pages, as JSON or CSV.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { HistoryRecord, HistoryStore } from '../../../core/history/types.ts';
import type { ServerDeps } from '../deps.ts';
import { listSeries, seriesFields } from '../history/catalog.ts';
import { bucketRange, RollupCache } from '../history/rollup.ts';
import { toCsv } from '../history/csv.ts';
import {
  AGGS, checkBuckets, encodeCursor, HistoryRequestError, parseCursor, parseKeys, parseStep, parseTime, parseWhere, type Cursor, type HistoryQueryString,
} from '../history/params.ts';

/** History answers computed at once; more wait their turn (in order). */
const MAX_CONCURRENT_READS = 2;

class Gate {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

const TIME_TEXT = 'Epoch seconds (1700000000, 1700000000.25) or ISO-8601 (2026-01-31T12:00:00Z), inclusive.';

export function historyRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { history, config } = deps;
  const rollups = new RollupCache(config.history.rollupCacheCells);
  // Reading a month of rows is seconds of CPU: queue the readers so they cannot starve the plugins.
  const readers = new Gate(MAX_CONCURRENT_READS);
  app.get('/api/history', {
    config: { access: 'read' },
    schema: {
      summary: 'Series in the history store',
      description: 'Every series the plugins write (can_messages, signaldatas, ...), with oldest/newest row (epoch s) and the fields its newest rows carry.',
      tags: ['history'],
    },
  }, async () => ({ series: await listSeries(history) }));

  app.get<{ Params: { series: string }; Querystring: HistoryQueryString }>('/api/history/:series', {
    config: { access: 'read' },
    schema: {
      summary: 'Rows of one history series: bucketed with step, raw pages without',
      description:
        'With `step` (s): rows grouped into epoch-aligned buckets [k*step, (k+1)*step) (a row on a boundary belongs to the later bucket); ' +
        'per requested key `<key>_min/_max/_avg/_last/_count`, or one column `<key>` with `agg`. Buckets without rows are left out. ' +
        `At most ${config.history.maxBuckets} buckets (400 says which step fits). ` +
        'Without `step`: raw rows oldest first, `limit` per page; pass `next` as `after` for the following page (CSV: header X-Next-Cursor). ' +
        'min/max/avg use numeric (and boolean as 0/1) values; last is the value with the latest ts of any type.',
      tags: ['history'],
      params: { type: 'object', properties: { series: { type: 'string', pattern: '^[a-z0-9_-]{1,64}$' } }, required: ['series'] },
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          keys: { type: 'string', description: 'Comma-separated fields of the rows; default: all (raw) or every numeric field (bucketed).' },
          from: { type: 'string', description: `${TIME_TEXT} Default: the oldest row.` },
          to: { type: 'string', description: `${TIME_TEXT} Default: now.` },
          step: { type: 'string', description: 'Bucket width: seconds (60) or a duration (30s, 5m, 1h, 1d; Grafana $__interval); omit for raw rows.' },
          agg: { type: 'string', enum: [...AGGS], description: 'One value per key and bucket instead of all four.' },
          limit: { type: 'integer', minimum: 1, maximum: config.history.maxLimit, default: 1000, description: 'Raw rows per page.' },
          after: { type: 'string', description: 'Paging cursor: the `next` of the previous page.' },
          where: { type: 'string', description: 'Exact field matches, e.g. `sensor:temp1,machine:m1`.' },
          format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
        },
      },
    },
  }, async (req, reply) => {
    try {
      return await readers.run(() => answer(deps, rollups, req.params.series, req.query, reply));
    } catch (err) {
      if (!(err instanceof HistoryRequestError)) throw err;
      return reply.code(err.status).send({ error: err.status === 404 ? 'not found' : 'bad request', message: err.message });
    }
  });
}

async function answer(deps: ServerDeps, rollups: RollupCache, series: string, q: HistoryQueryString, reply: FastifyReply): Promise<unknown> {
  const { history, clock, config } = deps;
  const known = history.listSeries();
  if (!known.includes(series)) {
    throw new HistoryRequestError(404, `no history series "${series}"; known: ${known.length ? known.join(', ') : '(none yet)'}`);
  }
  const fields = await seriesFields(history, series);
  const requested = parseKeys(q.keys);
  if (requested) {
    const names = new Set(fields.map((f) => f.name));
    const unknown = requested.filter((k) => !names.has(k));
    if (unknown.length) {
      throw new HistoryRequestError(400, `unknown key(s) ${unknown.join(', ')} in series "${series}"; known: ${[...names].join(', ') || '(no rows yet)'}`);
    }
  }
  const to = q.to === undefined ? clock.now() : parseTime('to', q.to);
  const from = q.from === undefined ? Math.min(history.status().series[series]?.oldestTs ?? to, to) : parseTime('from', q.from);
  if (from > to) throw new HistoryRequestError(400, `from (${new Date(from).toISOString()}) is after to (${new Date(to).toISOString()}); swap them`);
  const where = parseWhere(q.where);

  if (q.step === undefined) {
    if (q.agg !== undefined) throw new HistoryRequestError(400, 'agg needs step (the bucket width in seconds), e.g. step=60&agg=avg');
    const keys = requested ?? fields.map((f) => f.name);
    const page = await rawPage(history, series, { from, to, where, limit: q.limit ?? 1000, after: q.after === undefined ? null : parseCursor(q.after) });
    const rows = page.rows.map((r) => rawRow(r, keys));
    const next = page.next ? encodeCursor(page.next) : null;
    if (q.format === 'csv') {
      if (next) void reply.header('x-next-cursor', next);
      return reply.type('text/csv; charset=utf-8').send(toCsv(['ts', 'time', ...keys], rows));
    }
    return { series, from: from / 1000, to: to / 1000, keys, rows, next };
  }

  const stepMs = parseStep(q.step);
  checkBuckets(from, to, stepMs, config.history.maxBuckets);
  const keys = requested ?? fields.filter((f) => f.types.includes('number')).map((f) => f.name);
  if (keys.length === 0) throw new HistoryRequestError(400, `series "${series}" has no numeric fields to bucket; name them with keys=`);
  const bucketer = await bucketRange(history, series, { from, to, keys, stepMs, where }, rollups);
  if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(bucketer.columns(q.agg), bucketer.rows(q.agg)));
  return { series, from: from / 1000, to: to / 1000, step: stepMs / 1000, agg: q.agg ?? null, keys, rows: bucketer.rows(q.agg) };
}

function rawRow(r: HistoryRecord, keys: readonly string[]): Record<string, unknown> {
  const row: Record<string, unknown> = { ts: r.ts / 1000, time: new Date(r.ts).toISOString() };
  for (const k of keys) row[k] = r.data[k] ?? null;
  return row;
}

/**
 * One page of raw rows after `after` (oldest first). Rows at the cursor's ts that the previous page
 * returned are skipped by count, so rows sharing a timestamp are neither lost nor repeated.
 */
async function rawPage(
  history: HistoryStore,
  series: string,
  opts: { from: number; to: number; where?: Record<string, string | number | boolean | null>; limit: number; after: Cursor | null },
): Promise<{ rows: HistoryRecord[]; next: Cursor | null }> {
  const after = opts.after && opts.after.ts >= opts.from ? opts.after : null;
  const got = await history.query(series, {
    from: after ? after.ts : opts.from,
    to: opts.to,
    where: opts.where,
    limit: (after?.skip ?? 0) + opts.limit,
  });
  let lead = 0;
  if (after) while (lead < after.skip && lead < got.length && got[lead].ts === after.ts) lead++;
  const rows = got.slice(lead);
  if (rows.length < opts.limit) return { rows, next: null };
  const last = rows[rows.length - 1].ts;
  let skip = 0;
  for (let i = got.length - 1; i >= 0 && got[i].ts === last; i--) skip++;
  return { rows, next: { ts: last, skip } };
}
