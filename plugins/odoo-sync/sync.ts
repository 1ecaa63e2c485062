// The smart-wait sync: fetch open MOs from Odoo and queue them only when the mo_batch queue is
// empty (the PLC has worked through the last lot); otherwise just probe the link. Odoo failures
// back off and are logged once per outage; the sync never gives up and never fails the plugin.
import type { OdooClient, OdooMoSource } from '../../adapters/odoo/types.ts';
import { OdooError } from '../../adapters/odoo/errors.ts';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { Backoff } from '../../core/retry.ts';
import type { StateStore } from '../../core/store/types.ts';
import type { MoBatchStore } from './batch-repo.ts';
import { intervalMs, MAX_LIMIT, type OdooSyncConfig } from './config.ts';
import { mapMos, type SkippedMo } from './mapping.ts';

export const CONNECTED_KEY = 'erp_connected';
export const LAST_OK_KEY = 'erp_last_ok_ts';

export interface SyncOutcome {
  /** `synced`: MOs fetched and queued; `skipped`: the queue was not empty; `failed`: Odoo or the store failed. */
  status: 'synced' | 'skipped' | 'failed';
  message: string;
  /** Rows in the queue afterwards. */
  queue: number;
  fetched: number;
  inserted: number;
  updated: number;
  skipped: SkippedMo[];
  /** MOs Odoo still lists that were finished here (written back or waiting): never queued again. */
  alreadyFinished: string[];
  warnings: string[];
  source: OdooMoSource | null;
  /** Epoch seconds. */
  at: number;
}

export interface SyncDeps {
  config: OdooSyncConfig;
  odoo: OdooClient;
  repo: MoBatchStore;
  store: StateStore;
  log: Logger;
  /** The plugin scope's clock: its timers die with the plugin. */
  clock: Clock;
  random?: () => number;
}

export class MoSync {
  readonly #d: SyncDeps;
  readonly #backoff: Backoff;
  #inFlight: Promise<SyncOutcome> | null = null;
  #timer: TimerHandle | undefined;
  #stopped = false;
  /** Consecutive Odoo failures (0 = link up). */
  #failures = 0;
  #waitingLogged = false;
  #last: SyncOutcome | null = null;
  #lastError: string | null = null;
  #nextAt: number | null = null;

  constructor(deps: SyncDeps) {
    this.#d = deps;
    this.#backoff = new Backoff({ ...deps.config.backoff, random: deps.random });
  }

  /** Starts the schedule (first tick at once) when `enabled`. */
  start(): void {
    if (this.#d.config.enabled) this.#schedule(0);
    else this.#d.log.info('automatic sync is off (enabled: false); POST /api/admin/trigger-sync fetches on demand');
  }

  stop(): void {
    this.#stopped = true;
    this.#d.clock.clearTimeout(this.#timer!);
    this.#timer = undefined;
  }

  /** The last outcome, the link state and when the next tick is due, for /api/health and batch-status. */
  status() {
    return {
      enabled: this.#d.config.enabled,
      intervalMs: intervalMs(this.#d.config),
      batchLimit: this.#d.config.batchLimit,
      erpConnected: this.#d.store.get<boolean>(CONNECTED_KEY) ?? null,
      erpLastOkTs: this.#d.store.get<number>(LAST_OK_KEY) ?? null,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
      nextSyncAt: this.#nextAt,
      lastSync: this.#last,
    };
  }

  /**
   * One sync now (shared with one already running): skipped when the queue is not empty, else
   * fetch up to batchLimit MOs, map and upsert them. Never rejects: failures are in the outcome.
   */
  sync(reason: 'schedule' | 'trigger'): Promise<SyncOutcome> {
    this.#inFlight ??= this.#run(reason).finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  /** Marks a successful Odoo call made elsewhere (the SCADA routes). */
  async linkOk(): Promise<void> {
    await this.#linkUp();
  }

  /** Marks a failed Odoo call made elsewhere; transient failures count as an outage. */
  async linkFailed(err: unknown): Promise<void> {
    if (err instanceof OdooError && !err.transient && err.kind !== 'auth') return;
    await this.#linkDown(err, null);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#nextAt = (this.#d.clock.now() + ms) / 1000;
    this.#timer = this.#d.clock.setTimeout(async () => {
      this.#timer = undefined;
      const outcome = await this.sync('schedule');
      this.#schedule(outcome.status === 'failed' && this.#failures > 0 ? this.#backoff.next() : intervalMs(this.#d.config));
    }, ms);
  }

  async #run(reason: 'schedule' | 'trigger'): Promise<SyncOutcome> {
    const { repo, odoo, config, log } = this.#d;
    const base = { fetched: 0, inserted: 0, updated: 0, skipped: [] as SkippedMo[], alreadyFinished: [] as string[], warnings: [] as string[], source: null };
    let queue: number;
    try {
      queue = await repo.count();
    } catch (err) {
      return this.#finish({ ...base, status: 'failed', message: `mo_batch (${repo.description}) cannot be read: ${errorMessage(err)}`, queue: 0 }, 'error');
    }
    if (queue > 0) {
      const message = `queue has ${queue} batch(es); waiting for the PLC`;
      if (reason === 'trigger') log.info(`trigger-sync skipped: ${message}`);
      else if (!this.#waitingLogged) log.info(message);
      this.#waitingLogged = true;
      // Cheap link probe so erp_connected / erp_last_ok_ts stay honest while the PLC works.
      try {
        await odoo.fetchManufacturingOrders({ limit: 1 });
        await this.#linkUp();
      } catch (err) {
        await this.#linkDown(err, reason === 'schedule' ? this.#peekDelay() : null);
        return this.#finish({ ...base, status: 'failed', message: `${message}; Odoo probe failed: ${errorMessage(err)}`, queue }, null);
      }
      return this.#finish({ ...base, status: 'skipped', message, queue }, null);
    }
    this.#waitingLogged = false;

    let finished: Set<string>;
    try {
      finished = await repo.finishedMoIds();
    } catch (err) {
      return this.#finish({ ...base, status: 'failed', message: `the batch history (${repo.description}) cannot be read, nothing fetched: ${errorMessage(err)}`, queue }, 'error');
    }
    let fetched;
    try {
      // MOs finished here may still be listed until their write-back lands: fetch past them.
      fetched = await odoo.fetchManufacturingOrders({ limit: Math.min(MAX_LIMIT, config.batchLimit + finished.size), offset: 0 });
      await this.#linkUp();
    } catch (err) {
      await this.#linkDown(err, reason === 'schedule' ? this.#peekDelay() : null);
      return this.#finish({ ...base, status: 'failed', message: `fetching MOs from ${odoo.description} failed: ${errorMessage(err)}`, queue }, null);
    }
    const fresh = fetched.mos.filter((m) => !finished.has(String(m?.mo_id ?? '').trim()));
    const alreadyFinished = fetched.mos.filter((m) => finished.has(String(m?.mo_id ?? '').trim())).map((m) => String(m.mo_id));
    const mapped = mapMos(fresh.slice(0, config.batchLimit), { liquidTanks: config.liquidTanks });
    const partial = { ...base, fetched: fetched.mos.length, skipped: mapped.skipped, alreadyFinished, warnings: mapped.warnings, source: fetched.source };
    let written = { inserted: 0, updated: 0 };
    try {
      const r = await repo.upsert(mapped.batches);
      written = { inserted: r.inserted, updated: r.updated };
      // Finished while the fetch was in flight: the repository skipped it under its own lock.
      for (const m of r.alreadyFinished ?? []) if (!alreadyFinished.includes(m)) alreadyFinished.push(m);
    } catch (err) {
      return this.#finish({ ...partial, status: 'failed', message: `queueing ${mapped.batches.length} MO(s) in mo_batch failed, nothing queued: ${errorMessage(err)}`, queue }, 'error');
    }
    const after = await repo.count().catch(() => queue + written.inserted);
    const skippedText = mapped.skipped.length ? `; ${mapped.skipped.length} MO(s) skipped (${mapped.skipped.map((s) => `${s.mo_id}: ${s.reason}`).join('; ')})` : '';
    const doneText = alreadyFinished.length ? `; ${alreadyFinished.length} already finished here, not queued again` : '';
    const message = `fetched ${fetched.mos.length} MO(s) from ${fetched.source}: ${written.inserted} queued, ${written.updated} updated${skippedText}${doneText}; ${mapped.warnings.length} warning(s)`;
    return this.#finish({ ...partial, ...written, status: 'synced', message, queue: after }, 'info');
  }

  #finish(o: Omit<SyncOutcome, 'at'>, level: 'info' | 'error' | null): SyncOutcome {
    const outcome: SyncOutcome = { ...o, at: this.#d.clock.now() / 1000 };
    this.#last = outcome;
    if (level === 'error') {
      this.#lastError = outcome.message;
      this.#d.log.error(outcome.message);
    } else if (level === 'info') {
      this.#d.log.info(outcome.message, { inserted: outcome.inserted, updated: outcome.updated, queue: outcome.queue });
      for (const w of outcome.warnings) this.#d.log.warn(w);
    }
    return outcome;
  }

  /** The delay the next scheduled retry will use (the schedule draws it right after). */
  #peekDelay(): number {
    // An estimate for the log line only: the real draw includes jitter.
    return Math.min(this.#d.config.backoff.maxMs, this.#d.config.backoff.initialMs * 2 ** this.#backoff.attempt);
  }

  async #linkUp(): Promise<void> {
    const nowS = this.#d.clock.now() / 1000;
    if (this.#failures > 0) this.#d.log.info(`Odoo (${this.#d.odoo.description}) answers again after ${this.#failures} failed attempt(s)`);
    this.#failures = 0;
    this.#lastError = null;
    this.#backoff.reset();
    await this.#d.store.setMany({ [CONNECTED_KEY]: true, [LAST_OK_KEY]: nowS }, { durable: false }).catch(() => {});
  }

  async #linkDown(err: unknown, retryMs: number | null): Promise<void> {
    this.#failures++;
    this.#lastError = errorMessage(err);
    if (this.#failures === 1) {
      const hint = err instanceof OdooError && err.kind === 'auth' ? ' (check ODOO_DB, ODOO_USERNAME and ODOO_PASSWORD)' : '';
      const retry = retryMs !== null ? `; retrying in about ${Math.ceil(retryMs / 1000)} s, with backoff` : '';
      this.#d.log.warn(`Odoo unreachable: ${this.#lastError}${hint}${retry}`);
    } else {
      this.#d.log.debug(() => `Odoo still failing (attempt ${this.#failures}): ${this.#lastError}`);
    }
    if (this.#d.store.get(CONNECTED_KEY) !== false) await this.#d.store.set(CONNECTED_KEY, false, { durable: false }).catch(() => {});
  }
}
