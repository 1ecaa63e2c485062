// Keeps the in-memory store bounded: prunes the core trend table to its retention and measures the
// database against a size budget on a timer (not per write), for /health, /metrics and the log.
import type { Clock, TimerHandle } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { CheckResult } from '../health.ts';
import type { Logger } from '../log.ts';
import type { StateStore, StoreSizeReport } from './types.ts';

export interface StoreHousekeepingSettings {
  /** Trend rows older than this many seconds are deleted (0 = keep; then a plugin must prune). */
  trendRetentionS: number;
  /** Budget for the database's used bytes (0 = no budget). */
  budgetBytes: number;
  /** Fraction of the budget from which health warns. */
  warnRatio: number;
  /** How often to prune and measure. */
  everyMs: number;
}

export const DEFAULT_HOUSEKEEPING: StoreHousekeepingSettings = {
  trendRetentionS: 3600,
  budgetBytes: 32 * 1024 * 1024,
  warnRatio: 0.8,
  everyMs: 60_000,
};

export class StoreHousekeeping {
  readonly #store: StateStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #s: StoreHousekeepingSettings;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | null = null;
  #report: StoreSizeReport | undefined;
  #lastError: string | null = null;

  constructor(options: { store: StateStore; clock: Clock; log: Logger; settings: Partial<StoreHousekeepingSettings> }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#s = { ...DEFAULT_HOUSEKEEPING, ...stripUndefined(options.settings) };
  }

  get settings(): Readonly<StoreHousekeepingSettings> {
    return this.#s;
  }

  /** The last measurement; undefined before the first run. */
  get report(): StoreSizeReport | undefined {
    return this.#report;
  }

  /** Runs once now, then every `everyMs` (a run still going is not overlapped). */
  start(): Promise<void> {
    this.#timer ??= this.#clock.setInterval(() => {
      this.run().catch(() => {}); // run() never rejects; the catch keeps a floating promise harmless
    }, this.#s.everyMs);
    return this.run();
  }

  stop(): void {
    this.#clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Waits for a run in progress (shutdown must not close the store under a prune). */
  async idle(): Promise<void> {
    await this.#running;
  }

  /** Prunes and measures once; failures are logged and shown in the check, never thrown. */
  run(): Promise<void> {
    this.#running ??= this.#run().finally(() => (this.#running = null));
    return this.#running;
  }

  /** The health check: failing from the warn ratio on, 'critical' above the budget. */
  check(): CheckResult {
    if (this.#lastError) return { ok: false, detail: `store housekeeping failed: ${this.#lastError}` };
    const r = this.#report;
    if (!r || r.level === 'ok') return { ok: true, ...(r ? { detail: describe(r) } : {}) };
    return { ok: false, severity: r.level === 'error' ? 'critical' : 'warning', detail: describe(r) };
  }

  async #run(): Promise<void> {
    try {
      if (this.#s.trendRetentionS > 0) {
        const removed = await this.#store.pruneTrend(this.#s.trendRetentionS);
        if (removed) this.#log.debug(() => `trend retention: ${removed} row(s) older than ${this.#s.trendRetentionS} s deleted`);
      }
      this.#measure();
      this.#lastError = null;
    } catch (err) {
      const msg = errorMessage(err);
      if (msg !== this.#lastError) this.#log.warn(`store housekeeping failed: ${msg}; retrying in ${this.#s.everyMs} ms`);
      this.#lastError = msg;
    }
  }

  #measure(): void {
    const size = this.#store.size();
    const { budgetBytes, warnRatio } = this.#s;
    const ratio = budgetBytes > 0 ? size.usedBytes / budgetBytes : 0;
    const level = budgetBytes <= 0 ? 'ok' : ratio > 1 ? 'error' : ratio >= warnRatio ? 'warning' : 'ok';
    const previous = this.#report?.level ?? 'ok';
    this.#report = { ...size, budgetBytes, ratio: Math.round(ratio * 1000) / 1000, level, measuredAt: this.#clock.now() };
    if (level === previous) return;
    if (level === 'ok') this.#log.info(`store size back within its budget: ${describe(this.#report)}`);
    else this.#log.warn(`${describe(this.#report)}; ${level === 'error' ? 'over budget' : 'approaching the budget'}: shorten retention (audit, trend, plugin tables) or raise store.budgetBytes`);
  }
}

function describe(r: StoreSizeReport): string {
  if (r.budgetBytes <= 0) return `store uses ${mib(r.usedBytes)} (no budget)`;
  return `store uses ${mib(r.usedBytes)} of its ${mib(r.budgetBytes)} budget (${Math.round(r.ratio * 100)} %; ${mib(r.allocatedBytes)} allocated)`;
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
