// The odoo-sync plugin's configuration, with the seed's environment variables as defaults in the
// manifest (ENABLE_AUTO_SYNC, SYNC_INTERVAL_MINUTES, SYNC_BATCH_LIMIT).
import type { JsonSchema } from '../../core/schema.ts';
import type { PgByteLimits } from '../../adapters/postgres/message-scanner.ts';
import { databaseLimitsSchema, databaseOptionSchema } from './repo-factory.ts';

export interface OdooSyncConfig {
  /** Run the scheduler; false leaves only the routes (trigger-sync still works). */
  enabled: boolean;
  /** Minutes between ticks (fractions allowed). */
  intervalMinutes: number;
  /** Overrides intervalMinutes when set (tests, demos). */
  intervalMs?: number;
  /** MOs fetched per sync, 1..200. */
  batchLimit: number;
  /** Map equipment 114/115 to the liquid tanks. */
  liquidTanks: boolean;
  /** `erp_last_ok_ts` older than this is stale in /health. */
  staleAfterS: number;
  /** Retry delays after Odoo failures. */
  backoff: { initialMs: number; maxMs: number };
  /** The Odoo write-back of finished batches (outbox); retries use `backoff`. */
  writeBack: { sweepMs: number };
  /** PostgreSQL URL for mo_batch (repo-factory.ts); empty = the embedded store. */
  database?: string;
  /** Byte limits on PostgreSQL's replies (adapters/postgres/guard.ts); defaults 1 MiB a message, 64 MiB a result. */
  databaseLimits?: Partial<PgByteLimits>;
}

export const MAX_LIMIT = 200;

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true, description: 'Automatic sync, e.g. "${ENABLE_AUTO_SYNC:-true}". Off: only POST /api/admin/trigger-sync fetches.' },
    intervalMinutes: { type: 'number', exclusiveMinimum: 0, maximum: 1440, default: 5, description: 'Minutes between syncs, e.g. "${SYNC_INTERVAL_MINUTES:-5}" (fractions allowed).' },
    intervalMs: { type: 'integer', minimum: 10, description: 'Interval in ms; overrides intervalMinutes (tests, demos).' },
    batchLimit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 10, description: 'MOs fetched per sync, e.g. "${SYNC_BATCH_LIMIT:-10}".' },
    liquidTanks: { type: 'boolean', default: false, description: 'Map equipment 114/115 to the liquid tanks (lq114, lq115) instead of skipping those components.' },
    staleAfterS: { type: 'number', exclusiveMinimum: 0, default: 900, description: 'Age of erp_last_ok_ts after which /health calls the ERP link stale.' },
    database: databaseOptionSchema,
    databaseLimits: databaseLimitsSchema,
    writeBack: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Write-back of finished batches to Odoo (retried with `backoff` until Odoo confirms).',
      properties: {
        sweepMs: { type: 'integer', minimum: 10, default: 30000, description: 'Outbox sweep period when nothing is due sooner.' },
      },
    },
    backoff: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Retry delays while Odoo fails (exponential, with jitter).',
      properties: {
        initialMs: { type: 'integer', minimum: 10, default: 5000 },
        maxMs: { type: 'integer', minimum: 10, default: 300000 },
      },
    },
  },
};

/** Fills defaults for configs that did not come through the manifest validator (tests, code). */
export function resolveConfig(raw: Partial<OdooSyncConfig> = {}): OdooSyncConfig {
  return {
    enabled: raw.enabled ?? true,
    intervalMinutes: raw.intervalMinutes ?? 5,
    ...(raw.intervalMs !== undefined ? { intervalMs: raw.intervalMs } : {}),
    batchLimit: raw.batchLimit ?? 10,
    liquidTanks: raw.liquidTanks ?? false,
    staleAfterS: raw.staleAfterS ?? 900,
    backoff: { initialMs: 5000, maxMs: 300000, ...raw.backoff },
    writeBack: { sweepMs: 30000, ...raw.writeBack },
    ...(raw.database ? { database: raw.database } : {}),
    ...(raw.databaseLimits ? { databaseLimits: raw.databaseLimits } : {}),
  };
}

export function checkConfig(c: OdooSyncConfig): string[] {
  const issues: string[] = [];
  if (!(Number.isInteger(c.batchLimit) && c.batchLimit >= 1 && c.batchLimit <= MAX_LIMIT)) issues.push(`batchLimit: must be an integer 1..${MAX_LIMIT}, got ${c.batchLimit}`);
  if (c.backoff.maxMs < c.backoff.initialMs) issues.push(`backoff.maxMs: must be >= backoff.initialMs (${c.backoff.initialMs})`);
  if (!(intervalMs(c) >= 10)) issues.push('intervalMinutes: the interval must be at least 10 ms');
  return issues;
}

export function intervalMs(c: OdooSyncConfig): number {
  return c.intervalMs ?? Math.round(c.intervalMinutes * 60_000);
}
