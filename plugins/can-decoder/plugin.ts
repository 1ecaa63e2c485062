// Plugin `can-decoder`: decodes a CAN channel's frames with a DBC into the seed's live sensor keys
// (10 s TTL), `can_messages` history rows and `can/signal` bus messages.
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { definePlugin } from '../../core/plugin.ts';
import type { CanChannel } from '../../adapters/can/types.ts';
import { DbcDecoder } from './dbc/decode.ts';
import { parseDbc } from './dbc/parse.ts';
import { checkConfig, configSchema, type DecoderConfig, withDefaults } from './config.ts';
import { HistoryBatcher } from './history.ts';
import { LiveSensors } from './live.ts';
import { bindSensors, type CanSignalMessage, CanPipeline } from './pipeline.ts';

const INSTALL_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Reads the DBC: absolute, else relative to the working directory, else to the fieldgate install (bundled DBCs). */
export async function loadDbcFile(path: string): Promise<{ text: string; path: string }> {
  const candidates = isAbsolute(path) ? [path] : [resolve(path), resolve(INSTALL_ROOT, path)];
  let lastErr: unknown;
  for (const p of candidates) {
    try {
      return { text: await readFile(p, 'utf8'), path: p };
    } catch (err) {
      lastErr = err;
    }
  }
  throw new Error(`can-decoder: cannot read the DBC "${path}" (looked in ${candidates.join(', ')}): ${(lastErr as Error).message}`, { cause: lastErr });
}

export default definePlugin<DecoderConfig>({
  type: 'can-decoder',
  version: '0.1.0',
  description: 'Decodes CAN frames with a DBC into live sensor keys (sensor:<name>, 10 s TTL), can_messages history rows and can/signal bus messages.',
  adapters: { can: { kind: 'can', description: 'The CAN channel (SocketCAN, the greenhouse simulator or a candump replay).' } },
  configSchema,
  validateConfig: checkConfig,
  async create({ id, config: raw, adapters, store, history, bus, health, metrics, scope, log }) {
    const config = withDefaults(raw);
    const issues = checkConfig(config);
    if (issues.length) throw new Error(`can-decoder "${id}": invalid config:\n  ${issues.map((i) => `config.${i}`).join('\n  ')}`);
    const dbcFile = await loadDbcFile(config.dbc);
    const dbc = parseDbc(dbcFile.text, dbcFile.path);
    const sensors = bindSensors(dbc, config.sensors, dbcFile.path);
    const channel = adapters.can as CanChannel;
    const decoder = new DbcDecoder(dbc);
    const clock = scope.clock;
    const live = new LiveSensors({ store, clock, ttlMs: config.ttlS * 1000, names: config.sensors.map((s) => s.name) });
    const batcher = config.history.enabled
      ? new HistoryBatcher({
          history,
          series: config.history.series,
          batchSize: config.history.batchSize,
          onError: (err, rows) => log.error(`history append of ${rows} ${config.history.series} rows failed: ${(err as Error).message}`),
        })
      : null;
    const pipeline = new CanPipeline({
      decoder,
      sensors,
      live,
      history: batcher,
      publish: config.publish ? (msg: CanSignalMessage) => bus.publish('can/signal', msg) : null,
    });

    // prom-client counters are too slow to touch per frame; deltas are added on each flush tick.
    const frames = metrics.counter('can_frames_total', 'CAN frames by outcome', ['plugin', 'outcome']);
    const flaggedTotal = metrics.counter('can_values_flagged_total', 'Mapped sensor values outside their min/max (not published)', ['plugin']);
    const reported = { decoded: 0, unknownId: 0, wrongDlc: 0, errorFrames: 0, remote: 0, flagged: 0 };
    const reportCounts = (): void => {
      const c = decoder.counts;
      for (const k of ['decoded', 'unknownId', 'wrongDlc', 'errorFrames', 'remote'] as const) {
        if (c[k] > reported[k]) frames.inc({ plugin: id, outcome: k }, c[k] - reported[k]);
        reported[k] = c[k];
      }
      if (pipeline.counts.flagged > reported.flagged) flaggedTotal.inc({ plugin: id }, pipeline.counts.flagged - reported.flagged);
      reported.flagged = pipeline.counts.flagged;
    };

    return {
      start() {
        // Cleanups run in reverse: the channel is let go first, then what is buffered is written.
        scope.defer(async () => {
          reportCounts();
          await live.flush();
          await batcher?.flush();
        });
        scope.defer(channel.onFrame((f) => pipeline.onFrame(f)));
        scope.every(config.liveFlushMs, async () => {
          reportCounts();
          await live.flush();
        });
        scope.every(config.sweepMs, () => {
          const gone = live.sweep();
          if (gone.length) log.warn(`no valid value for ${config.ttlS} s, live keys set to null: ${gone.join(', ')}`);
        });
        if (batcher) scope.every(config.history.flushMs, () => batcher.flush());
        scope.defer(health.setCheck(`${id}.live`, () => {
          const stale = live.stale();
          const c = decoder.counts;
          const ch = channel.stats();
          const counts = `frames ${pipeline.counts.frames}, decoded ${c.decoded}, unknown id ${c.unknownId}, wrong DLC ${c.wrongDlc}, error frames ${c.errorFrames}, flagged ${pipeline.counts.flagged}, rows ${pipeline.counts.rows}`;
          const busState = ch.state === 'bus-off' ? 'channel bus-off; ' : '';
          return {
            ok: stale.length === 0 && ch.state !== 'bus-off',
            detail: `${busState}${stale.length ? `stale: ${stale.join(', ')}; ` : ''}${counts} (${channel.description})`,
          };
        }, id));
        log.info(`decoding ${channel.description} with ${dbcFile.path} (${dbc.messages.length} messages, ${config.sensors.length} sensors)`);
      },
    };
  },
});
