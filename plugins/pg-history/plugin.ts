// Plugin `pg-history`: mirrors a history series (default `can_messages`, the can-decoder's rows) into
// PostgreSQL/TimescaleDB by tailing the local history store with a persisted cursor. While the
// database is down the rows simply stay in the history store (bounded by its retention) and the
// plugin backs off; when it returns they are drained in order. Inserts are idempotent, so the
// at-least-once replay after a crash between INSERT and cursor write never duplicates a row.
import { pgLimitProperties, resolvePgLimits } from '../../adapters/postgres/guard.ts';
import { definePlugin } from '../../core/plugin.ts';
import { peerLimitCounter } from '../../core/peer-limits.ts';
import type { JsonSchema } from '../../core/schema.ts';
import { Backoff } from '../../core/retry.ts';
import { PgCanSink, toPgRow } from './sink.ts';
import { isCursor, nextBatch, type TailCursor } from './tail.ts';

export interface PgHistoryConfig {
  /** `postgres://user:password@host:5432/db`; use `${DATABASE_URL}` in the manifest. */
  url: string;
  series: string;
  table: string;
  batchSize: number;
  intervalMs: number;
  connectTimeoutMs: number;
  retry: { initialMs: number; maxMs: number };
  /** Byte limits on PostgreSQL's replies (adapters/postgres/guard.ts). */
  maxMessageBytes: number;
  maxResultBytes: number;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, description: 'PostgreSQL connection string, e.g. ${DATABASE_URL}. Never logged (only host, port and database are).' },
    series: { type: 'string', minLength: 1, default: 'can_messages', description: 'History series to mirror.' },
    table: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$', default: 'can_messages', description: 'Target table (created if missing).' },
    batchSize: { type: 'integer', minimum: 1, maximum: 50000, default: 1000, description: 'Rows per INSERT.' },
    intervalMs: { type: 'integer', minimum: 10, default: 1000, description: 'Poll period once caught up.' },
    connectTimeoutMs: { type: 'integer', minimum: 100, default: 5000 },
    retry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        initialMs: { type: 'integer', minimum: 10, default: 1000 },
        maxMs: { type: 'integer', minimum: 10, default: 30000 },
      },
    },
    ...pgLimitProperties,
  },
};

export function withDefaults(raw: Partial<PgHistoryConfig> & { url: string }): PgHistoryConfig {
  return {
    url: raw.url,
    series: raw.series ?? 'can_messages',
    table: raw.table ?? 'can_messages',
    batchSize: raw.batchSize ?? 1000,
    intervalMs: raw.intervalMs ?? 1000,
    connectTimeoutMs: raw.connectTimeoutMs ?? 5000,
    retry: { initialMs: raw.retry?.initialMs ?? 1000, maxMs: raw.retry?.maxMs ?? 30000 },
    ...resolvePgLimits({ maxMessageBytes: raw.maxMessageBytes, maxResultBytes: raw.maxResultBytes }),
  };
}

/** The store key holding a plugin's cursor. */
export const cursorKey = (id: string): string => `pg-history:${id}:cursor`;

export default definePlugin<PgHistoryConfig>({
  type: 'pg-history',
  version: '0.1.0',
  description: 'Mirrors a history series (can_messages) into PostgreSQL/TimescaleDB with a persisted cursor; rows wait in the history store while the database is down.',
  configSchema,
  validateConfig(c) {
    const r = c.retry;
    return r && r.initialMs !== undefined && r.maxMs !== undefined && r.maxMs < r.initialMs ? ['retry.maxMs: must be >= retry.initialMs'] : [];
  },
  create({ id, config: raw, store, history, health, metrics, scope, log }) {
    const config = withDefaults(raw);
    const countLimit = peerLimitCounter(metrics);
    const sink = new PgCanSink({
      url: config.url,
      table: config.table,
      connectTimeoutMs: config.connectTimeoutMs,
      onError: (m) => log.warn(m),
      limits: { maxMessageBytes: config.maxMessageBytes, maxResultBytes: config.maxResultBytes },
      onLimit: (err, setting) => {
        countLimit(id);
        log.warn(`${err.message} (${setting} raises the limit); the next attempt opens a new connection`);
      },
    });
    const backoff = new Backoff({ initialMs: config.retry.initialMs, maxMs: Math.max(config.retry.maxMs, config.retry.initialMs) });
    const rowsTotal = metrics.counter('pg_history_rows_total', 'Rows sent to PostgreSQL by outcome', ['plugin', 'outcome']);
    const stored = store.get(cursorKey(id));
    let cursor: TailCursor = isCursor(stored) ? stored : { ts: null, skip: 0 };
    const state = { ready: false, lastError: null as string | null, sent: 0, inserted: 0, failures: 0, prunedWarned: false };

    const tick = async (): Promise<number> => {
      try {
        if (!state.ready) {
          const mode = await sink.init();
          state.ready = true;
          log.info(`mirroring history series ${config.series} into ${sink.description} as a ${mode}${mode === 'plain table' ? ' (timescaledb extension not available)' : ''}; ${cursor.ts === null ? 'from the oldest row kept' : `resuming after ${new Date(cursor.ts).toISOString()}`}`);
        }
        const oldest = history.status().series[config.series]?.oldestTs ?? null;
        if (cursor.ts !== null && oldest !== null && oldest > cursor.ts && !state.prunedWarned) {
          state.prunedWarned = true;
          log.warn(`history retention pruned ${config.series} rows between ${new Date(cursor.ts).toISOString()} and ${new Date(oldest).toISOString()} before they reached PostgreSQL`);
        }
        const batch = await nextBatch(history, config.series, cursor, config.batchSize);
        if (batch.records.length === 0) {
          recovered();
          return config.intervalMs;
        }
        const inserted = await sink.insert(batch.records.map(toPgRow));
        // Durable before moving on: a crash here replays the batch at most, which ON CONFLICT absorbs.
        await store.set(cursorKey(id), batch.cursor);
        cursor = batch.cursor;
        state.sent += batch.records.length;
        state.inserted += inserted;
        rowsTotal.inc({ plugin: id, outcome: 'inserted' }, inserted);
        if (batch.records.length > inserted) rowsTotal.inc({ plugin: id, outcome: 'duplicate' }, batch.records.length - inserted);
        recovered();
        return batch.records.length >= config.batchSize ? 0 : config.intervalMs;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        state.failures++;
        if (state.lastError === null) log.warn(`PostgreSQL unavailable, rows wait in the history store: ${message}`);
        state.lastError = message;
        const delay = backoff.next();
        log.debug(`retrying in ${delay} ms`);
        return delay;
      }
    };
    const recovered = (): void => {
      if (state.lastError !== null) log.info(`PostgreSQL reachable again, draining ${config.series}`);
      state.lastError = null;
      backoff.reset();
    };

    return {
      start() {
        scope.loop(tick, 0);
        scope.defer(health.setCheck(`${id}.postgres`, () => {
          const newest = history.status().series[config.series]?.newestTs ?? null;
          const behindS = newest === null ? 0 : cursor.ts === null ? null : Math.max(0, (newest - cursor.ts) / 1000);
          const where = `${sink.description}${sink.mode ? ` (${sink.mode})` : ''}`;
          const counts = `sent ${state.sent}, inserted ${state.inserted}, behind ${behindS === null ? 'everything' : `${behindS.toFixed(1)} s`}`;
          if (state.lastError !== null) return { ok: false, detail: `down, rows wait in the history store (${counts}): ${state.lastError}; ${where}` };
          if (!state.ready) return { ok: false, detail: `connecting to ${where}` };
          return { ok: true, detail: `${counts}; ${where}` };
        }, id));
      },
      async stop() {
        await sink.close();
      },
    };
  },
});
