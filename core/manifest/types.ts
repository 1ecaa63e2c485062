// The validated manifest as the host sees it (after env interpolation, defaults and checks).
import type { AdapterDriver } from '../plugin.ts';
import type { LogLevel } from '../log.ts';
import type { DisplayMap } from '../display.ts';

export interface AdapterEntry {
  id: string;
  kind: string;
  driver: AdapterDriver;
  options: Record<string, unknown>;
}

export interface PluginEntry {
  id: string;
  /** Plugin type name. */
  use: string;
  enabled: boolean;
  /** Binding name → adapter id. */
  adapters: Record<string, string>;
  /** Plugin ids that must be running before this one starts. */
  dependsOn: string[];
  config: Record<string, unknown>;
}

export interface SupervisorSettings {
  initialBackoffMs: number;
  maxBackoffMs: number;
  factor: number;
  /** 0..1: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
  /** A plugin running this long without failing has its backoff reset. */
  resetAfterMs: number;
  /** How long a stop (one plugin, or the whole shutdown) may take before it is abandoned. */
  stopTimeoutMs: number;
  /** Give up and mark the plugin `failed` after this many restarts in a row (0 = never). */
  maxRestarts: number;
}

export interface StoreSettings {
  /** Group-commit window: mutations arriving within it share one fsync. */
  commitDelayMs: number;
  /** Non-durable writes are flushed at least this often (spares SD cards). */
  lazyFlushMs: number;
  snapshotIntervalMs: number;
  /** Snapshot early when the journal grows past this many bytes. */
  snapshotJournalBytes: number;
  /** How often to retry the disk while running from memory. */
  diskRetryMs: number;
  /** Trend rows older than this are deleted (0 = keep). Default 3600. Optional: defaults apply (core/store/housekeeping.ts). */
  trendRetentionS?: number;
  /** Budget for the database's used bytes (0 = none). Default 32 MiB. */
  budgetBytes?: number;
  /** Fraction of the budget from which health warns. Default 0.8. */
  warnRatio?: number;
  /** Period of trend retention and size measurement. Default 60000. */
  housekeepingMs?: number;
}

export interface HistorySettings {
  segmentMs: number;
  retentionMs: number;
}

export interface Manifest {
  $schema?: string;
  name: string;
  description?: string;
  dataDir?: string;
  log: { level: LogLevel };
  supervisor: SupervisorSettings;
  store: StoreSettings;
  history: HistorySettings;
  adapters: AdapterEntry[];
  plugins: PluginEntry[];
  /** Per state key: label, unit, number format, enum names, alarm limits (core/display.ts). */
  display?: DisplayMap;
}
