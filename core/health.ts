// The health model behind /health: heartbeat ages against per-key limits, plugin states, the store's
// status and named checks, folded into one report that never throws, even when every device is down.
import type { Clock } from './clock.ts';
import { errorMessage } from './errors.ts';
import type { StateStore, StoreStatus } from './store/types.ts';

export interface HeartbeatSpec {
  key: string;
  maxAgeS: number;
  owner?: string;
}

export interface HeartbeatReport {
  key: string;
  ageS: number | null;
  stale: boolean;
  maxAgeS: number;
  lastTs: number | null;
  owner?: string;
}

export interface PluginHealth {
  id: string;
  type: string;
  status: 'starting' | 'running' | 'backing-off' | 'failed' | 'stopped' | 'stopping';
  restarts: number;
  lastError: string | null;
  nextRestartAt: number | null;
  since: number;
}

export interface CheckResult {
  ok: boolean;
  detail?: string;
  /** How an alarm raised from a failing check is graded (default 'warning'). */
  severity?: 'warning' | 'critical';
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  /** Epoch seconds. */
  time: number;
  heartbeats: Record<string, HeartbeatReport>;
  plugins: Record<string, PluginHealth>;
  store: StoreStatus | null;
  history: unknown | null;
  checks: Record<string, CheckResult>;
}

interface Check {
  fn: () => CheckResult;
  owner?: string;
}

// A number value counts as a timestamp only when it looks like one (after 2001-09-09); anything else
// (a reading, a counter) falls back to the entry's updatedAt. Above 1e11 (year 5138 in s) it is ms.
const MIN_EPOCH_S = 1e9;
const MS_THRESHOLD = 1e11;

export class HealthModel {
  readonly #clock: Clock;
  readonly #store?: StateStore;
  readonly #watches = new Map<string, HeartbeatSpec>();
  readonly #beats = new Map<string, number>();
  readonly #checks = new Map<string, Check>();
  #plugins: (() => Record<string, PluginHealth>) | null = null;
  #storeStatus: (() => StoreStatus | null) | null = null;
  #history: (() => unknown) | null = null;

  constructor(options: { clock: Clock; store?: StateStore }) {
    this.#clock = options.clock;
    this.#store = options.store;
  }

  /**
   * Watches a heartbeat state key: its age is now - value (if the value is a number of epoch
   * seconds, as the seed's `sensor_last_ts`) or now - updatedAt otherwise; missing key → ageS null,
   * stale true. Watching a key again replaces its limit (a restarted plugin re-registers).
   */
  watch(spec: HeartbeatSpec): () => void {
    const copy = { ...spec };
    this.#watches.set(spec.key, copy);
    return () => {
      if (this.#watches.get(spec.key) === copy) this.#watches.delete(spec.key);
    };
  }

  /** Removes every heartbeat watch and check registered by `owner`. */
  unwatchOwner(owner: string): void {
    for (const [key, spec] of this.#watches) if (spec.owner === owner) this.#watches.delete(key);
    for (const [name, check] of this.#checks) if (check.owner === owner) this.#checks.delete(name);
  }

  /** Convenience for plugins: writes `key` = now (epoch seconds, non-durable store write); works without a store too. */
  beat(key: string): void {
    const nowS = this.#clock.now() / 1000;
    this.#beats.set(key, nowS);
    if (!this.#store) return;
    try {
      // Not awaited: a heartbeat must not wait for the disk; a failed write shows in the store's status.
      this.#store.set(key, nowS, { durable: false }).catch(() => {});
    } catch {
      // Same: the in-memory beat above still counts.
    }
  }

  setPluginsProvider(fn: () => Record<string, PluginHealth>): void {
    this.#plugins = fn;
  }

  /** Overrides the default (the store's own `status()`). */
  setStoreProvider(fn: () => StoreStatus | null): void {
    this.#storeStatus = fn;
  }

  setHistoryProvider(fn: () => unknown): void {
    this.#history = fn;
  }

  /** Named extra checks (e.g. 'modbus-plc': circuit state). Returns a function that removes it. */
  setCheck(name: string, fn: () => CheckResult, owner?: string): () => void {
    const check: Check = { fn, owner };
    this.#checks.set(name, check);
    return () => {
      if (this.#checks.get(name) === check) this.#checks.delete(name);
    };
  }

  /** Current report; never throws. 'degraded' when a heartbeat is stale, a plugin failed or backs off, the store is not ok, or a check fails. */
  report(): HealthReport {
    const nowS = this.#clock.now() / 1000;
    const checks: Record<string, CheckResult> = {};

    const heartbeats: Record<string, HeartbeatReport> = {};
    for (const spec of this.#watches.values()) {
      let lastTs: number | null = null;
      try {
        lastTs = this.#lastBeat(spec.key);
      } catch (err) {
        checks[`heartbeat:${spec.key}`] = { ok: false, detail: errorMessage(err) };
      }
      const ageS = lastTs === null ? null : round3(Math.max(0, nowS - lastTs));
      heartbeats[spec.key] = {
        key: spec.key,
        ageS,
        stale: ageS === null || ageS > spec.maxAgeS,
        maxAgeS: spec.maxAgeS,
        lastTs,
        ...(spec.owner !== undefined ? { owner: spec.owner } : {}),
      };
    }

    const plugins = guard(checks, 'health:plugins', () => this.#plugins?.() ?? {}, {});
    const ownStore = this.#store;
    const storeFn = this.#storeStatus ?? (ownStore ? () => ownStore.status() : null);
    const store = storeFn ? guard(checks, 'health:store', storeFn, null) : null;
    const history = this.#history ? guard(checks, 'health:history', this.#history, null) : null;

    for (const [name, check] of this.#checks) {
      try {
        const r = check.fn();
        checks[name] = { ok: r?.ok === true, ...(r?.detail !== undefined ? { detail: String(r.detail) } : {}), ...(r?.severity === 'critical' || r?.severity === 'warning' ? { severity: r.severity } : {}) };
      } catch (err) {
        checks[name] = { ok: false, detail: errorMessage(err) };
      }
    }

    const degraded =
      Object.values(heartbeats).some((h) => h.stale) ||
      Object.values(plugins ?? {}).some((p) => p?.status === 'failed' || p?.status === 'backing-off') ||
      (store !== null && store !== undefined && store.ok === false) ||
      Object.values(checks).some((c) => !c.ok);

    return { status: degraded ? 'degraded' : 'ok', time: nowS, heartbeats, plugins: plugins ?? {}, store: store ?? null, history: history ?? null, checks };
  }

  /** Epoch seconds of the key's last beat: the newer of the store's value and an in-memory beat. */
  #lastBeat(key: string): number | null {
    let ts = this.#beats.get(key) ?? null;
    const entry = this.#store?.getEntry(key);
    if (entry) {
      const fromStore = epochSeconds(entry.value) ?? (Number.isFinite(entry.updatedAt) ? entry.updatedAt : null);
      if (fromStore !== null && (ts === null || fromStore > ts)) ts = fromStore;
    }
    return ts;
  }
}

function epochSeconds(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < MIN_EPOCH_S) return null;
  return n > MS_THRESHOLD ? n / 1000 : n;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Runs a provider; a throw becomes a failed check and the fallback value. */
function guard<T>(checks: Record<string, CheckResult>, name: string, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    checks[name] = { ok: false, detail: errorMessage(err) };
    return fallback;
  }
}
