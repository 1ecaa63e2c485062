// Picks where the mo_batch queue lives: PostgreSQL when the plugin's `database` option holds a
// connection string (the seed's DATABASE_URL), else the embedded store.
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { StateStore } from '../../core/store/types.ts';
import type { MoBatchStore } from './batch-repo.ts';

export interface RepoFactoryDeps {
  store: StateStore;
  clock: Clock;
  log?: Logger;
}

/**
 * The queue's repository, not yet initialised (call `init()`). `config.database` empty or absent:
 * the embedded store; `postgres://` / `postgresql://` URL: PostgreSQL (`pg` loads only then).
 */
export async function createMoBatchRepository(config: { database?: string; table?: string }, deps: RepoFactoryDeps): Promise<MoBatchStore> {
  const url = config.database?.trim();
  if (!url) {
    const { StoreMoBatchRepository } = await import('./store-repo.ts');
    return new StoreMoBatchRepository({ store: deps.store, clock: deps.clock });
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error(`odoo-sync: config.database must be a postgres:// or postgresql:// URL (or empty for the embedded store); got "${url.replace(/\/\/[^@/]*@/, '//***@')}"`);
  }
  const { PgMoBatchRepository } = await import('./pg-repo.ts');
  return new PgMoBatchRepository({ connectionString: url, clock: deps.clock, table: config.table, onError: (m) => deps.log?.warn(m) });
}

/** JSON Schema of the `database` option, for the odoo-sync config schema. */
export const databaseOptionSchema = {
  type: 'string',
  description: 'PostgreSQL connection string for the mo_batch table (e.g. "${DATABASE_URL:-}"); empty = the embedded store.',
  default: '',
} as const;
