// Picks where the mo_batch queue lives: PostgreSQL when the plugin's `database` option holds a
// connection string (the seed's DATABASE_URL), else the embedded store.
import { type PgGuardOptions, pgLimitProperties } from '../../adapters/postgres/guard.ts';
import type { PgByteLimits } from '../../adapters/postgres/message-scanner.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { StateStore } from '../../core/store/types.ts';
import type { MoBatchStore } from './batch-repo.ts';

export interface RepoFactoryDeps {
  store: StateStore;
  clock: Clock;
  log?: Logger;
  /** A PostgreSQL reply passed a byte limit (the connection was closed, the query failed). */
  onLimit?: PgGuardOptions['onLimit'];
}

/**
 * The queue's repository, not yet initialised (call `init()`). `config.database` empty or absent:
 * the embedded store; `postgres://` / `postgresql://` URL: PostgreSQL (`pg` loads only then).
 */
export async function createMoBatchRepository(config: { database?: string; table?: string; databaseLimits?: Partial<PgByteLimits> }, deps: RepoFactoryDeps): Promise<MoBatchStore> {
  const url = config.database?.trim();
  if (!url) {
    const { StoreMoBatchRepository } = await import('./store-repo.ts');
    return new StoreMoBatchRepository({ store: deps.store, clock: deps.clock });
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`odoo-sync: config.database must be a postgres:// or postgresql:// URL (or empty for the embedded store); got "${url.replace(/\/\/[^@/]*@/, '//***@')}"`);
  }
  const { PgMoBatchRepository } = await import('./pg-repo.ts');
  return new PgMoBatchRepository({
    connectionString: url,
    clock: deps.clock,
    table: config.table,
    onError: (m) => deps.log?.warn(m),
    limits: config.databaseLimits,
    onLimit: deps.onLimit,
  });
}

/** JSON Schema of the `database` option, for the odoo-sync config schema. */
export const databaseOptionSchema = {
  type: 'string',
  description: 'PostgreSQL connection string for the mo_batch table (e.g. "${DATABASE_URL:-}"); empty = the embedded store.',
  default: '',
} as const;

/** JSON Schema of the `databaseLimits` option: byte limits on PostgreSQL's replies. */
export const databaseLimitsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'Byte limits on what PostgreSQL sends (only with `database`); past one the connection is closed and the query fails.',
  properties: pgLimitProperties,
} as const;
