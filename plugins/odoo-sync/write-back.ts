// The outbox worker: every finished batch recorded in mo_histories as `pending` is written back to
// Odoo (adapters/odoo/write-back.ts) until Odoo confirms, retried with backoff across Odoo outages
// and gateway restarts (the attempt count and next attempt time live in the row, not in memory).
import { OdooError } from '../../adapters/odoo/errors.ts';
import type { OdooClient } from '../../adapters/odoo/types.ts';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { Backoff } from '../../core/retry.ts';
import type { MoBatchStore } from './batch-repo.ts';
import type { BatchHistoryRow } from './history.ts';

/** "Every pending row" for due(): year 3000, still a valid PostgreSQL timestamp. */
const FAR_FUTURE_S = 32_503_680_000;

export interface WriteBackDeps {
  odoo: OdooClient;
  repo: MoBatchStore;
  clock: Clock;
  log: Logger;
  backoff: { initialMs: number; maxMs: number };
  /** Sweep period when nothing is due sooner (a missed kick, rows due later). */
  sweepMs: number;
  random?: () => number;
  /** Called after each state change (counts for the dashboard). */
  onChange?: () => void | Promise<void>;
}

/** The delay before attempt `attempts + 1`, from the persisted attempt count (so it survives restarts). */
export function retryDelay(attempts: number, o: { initialMs: number; maxMs: number; random?: () => number }): number {
  const b = new Backoff({ initialMs: o.initialMs, maxMs: o.maxMs, random: o.random });
  for (let i = 1; i < Math.min(attempts, 40); i++) b.next();
  return b.next();
}

/** The finished weight sent to Odoo: the PLC's actual weight, else the consumption drawn, else the plan. */
export function finishedQty(h: BatchHistoryRow): number {
  const w = h.actual_weight_quantity_finished_goods;
  if (w !== null && w > 0) return w;
  const drawn = Object.values(h.consumption).reduce((s, kg) => s + kg, 0);
  return drawn > 0 ? Math.round(drawn * 1000) / 1000 : h.quantity;
}

export class WriteBackWorker {
  readonly #d: WriteBackDeps;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #lastError: string | null = null;
  /**
   * Rows whose retry time could not be persisted (read-only disk, PostgreSQL read-only): key → epoch
   * ms before which they are not tried again, so a stuck outbox does not call Odoo every sweep.
   */
  readonly #notBefore = new Map<string, number>();

  constructor(deps: WriteBackDeps) {
    this.#d = deps;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  start(): void {
    this.kick();
  }

  stop(): void {
    this.#stopped = true;
    this.#d.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Works the due rows now (a batch just finished, an operator released one). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#d.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = this.#sweep().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /** Resolves when the sweep in progress (if any) has ended; for routes that want a fresh state. */
  async idle(): Promise<void> {
    await this.#running;
  }

  async #sweep(): Promise<void> {
    const { repo, clock, log } = this.#d;
    let nextInMs = this.#d.sweepMs;
    try {
      const rows = await repo.due(clock.now() / 1000);
      for (const row of rows) {
        if (this.#stopped) return;
        if ((this.#notBefore.get(row.key) ?? 0) > clock.now()) continue;
        await this.#attempt(row);
      }
      const pending = await repo.due(FAR_FUTURE_S);
      const keys = new Set(pending.map((r) => r.key));
      for (const k of this.#notBefore.keys()) if (!keys.has(k)) this.#notBefore.delete(k);
      const soonest = Math.min(...pending.map((r) => Math.max((r.next_attempt_at ?? 0) * 1000, this.#notBefore.get(r.key) ?? 0)));
      if (pending.length) nextInMs = Math.max(0, Math.min(nextInMs, soonest - clock.now()));
      await this.#d.onChange?.();
    } catch (err) {
      // The queue's database is down: try again at the sweep period.
      log.warn(`write-back: reading the outbox (${repo.description}) failed: ${errorMessage(err)}; retrying in ${this.#d.sweepMs / 1000} s`);
    }
    // The floor keeps a row whose next time lies in the past (not persisted) from spinning the sweep.
    if (!this.#stopped) this.#timer = this.#d.clock.setTimeout(() => this.kick(), Math.max(10, this.#d.backoff.initialMs, nextInMs));
  }

  async #attempt(h: BatchHistoryRow): Promise<void> {
    const { odoo, repo, clock, log } = this.#d;
    const attempts = h.attempts + 1;
    const delay = retryDelay(attempts, { ...this.#d.backoff, random: this.#d.random });
    // A patch the outbox refuses: the row is held back in memory instead, and said once per row.
    const persist = async (patch: Parameters<MoBatchStore['updateWriteBack']>[1]) => {
      try {
        await repo.updateWriteBack(h.key, patch);
        this.#notBefore.delete(h.key);
      } catch (err) {
        if (!this.#notBefore.has(h.key)) log.warn(`batch ${h.batch_no} (${h.mo_id}): the outbox (${repo.description}) cannot be updated: ${errorMessage(err)}; retrying this batch in ${Math.ceil(delay / 1000)} s`);
        this.#notBefore.set(h.key, clock.now() + delay);
      }
    };
    let r;
    try {
      r = await odoo.writeBack({
        moId: h.mo_id,
        consumption: h.consumption,
        components: h.components,
        finishedQty: finishedQty(h),
        equipmentId: h.equipment_id_batch,
        finishedAt: h.finished_at * 1000,
        baseline: h.baseline,
        beforeConsume: (baseline) => repo.updateWriteBack(h.key, { baseline }),
      });
    } catch (err) {
      const message = errorMessage(err);
      this.#lastError = message;
      if (err instanceof OdooError && err.kind === 'app') {
        await persist({ state: 'rejected', attempts, last_error: message, next_attempt_at: null });
        log.error(`batch ${h.batch_no} (${h.mo_id}): Odoo refused the write-back: ${message}; held for an operator (POST /api/admin/resolve-batch)`);
      } else {
        await persist({ attempts, last_error: message, next_attempt_at: (clock.now() + delay) / 1000 });
        if (attempts === 1) log.warn(`batch ${h.batch_no} (${h.mo_id}): write-back to Odoo failed: ${message}; kept in the outbox, retrying with backoff (next in ${Math.ceil(delay / 1000)} s)`);
        else log.debug(() => `batch ${h.batch_no} (${h.mo_id}): write-back attempt ${attempts} failed: ${message}`);
      }
      return;
    }
    // Odoo has it; if the outbox cannot record that, the retry only finds the MO done.
    await persist({ state: 'confirmed', attempts, confirmed_at: clock.now() / 1000, last_error: null, next_attempt_at: null });
    this.#lastError = null;
    const how = r.alreadyDone ? 'Odoo already had it done' : `${r.route === 'custom' ? 'grt_scada routes' : 'ORM'}${r.consumptionSkipped ? ', consumption already applied' : ''}`;
    log.info(`batch ${h.batch_no} (${h.mo_id}) written back to Odoo after ${attempts} attempt(s) (${how}): ${finishedQty(h)} kg`);
  }
}
