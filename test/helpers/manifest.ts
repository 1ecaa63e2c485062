// Builds a complete, validated-shape manifest for tests that drive the runtime directly.
import type { Manifest, PluginEntry } from '../../core/manifest/types.ts';

export function testManifest(plugins: Array<Partial<PluginEntry> & { id: string; use: string }>, overrides: Partial<Manifest> = {}): Manifest {
  return {
    name: 'test',
    log: { level: 'silent' },
    supervisor: { initialBackoffMs: 1000, maxBackoffMs: 8000, factor: 2, jitter: 0, resetAfterMs: 60000, stopTimeoutMs: 2000, maxRestarts: 0 },
    store: { commitDelayMs: 2, lazyFlushMs: 1000, snapshotIntervalMs: 300000, snapshotJournalBytes: 4 * 1024 * 1024, diskRetryMs: 5000 },
    history: { segmentMs: 3600000, retentionMs: 0 },
    adapters: [],
    ...overrides,
    plugins: plugins.map((p) => ({ enabled: true, adapters: {}, dependsOn: [], config: {}, ...p })),
  };
}
