// Plugin `can-decoder`: decodes a CAN channel's frames with a DBC into the seed's live sensor keys
// (10 s TTL), `can_messages` history rows and `can/signal` bus messages.
import { definePlugin } from '../../core/plugin.ts';
import type { CanChannel } from '../../adapters/can/types.ts';
import { DbcDecoder } from '../../adapters/can/dbc/decode.ts';
import { loadDbc, loadDbcSync } from '../../adapters/can/dbc/load.ts';
import { checkConfig, configSchema, type DecoderConfig, withDefaults } from './config.ts';
import { HistoryBatcher } from './history.ts';
import { LiveSensors } from './live.ts';
import { CycleWatch } from './cycle-watch.ts';
import { MessageRates } from './message-rates.ts';
import type { RouteRegistry } from '../../core/http-routes.ts';
import { Tokens } from '../../core/tokens.ts';
import { bindSensors, type CanSignalMessage, CanPipeline } from './pipeline.ts';

/** Schema-level checks plus the DBC itself: `fieldgate validate` reports an unreadable DBC or a sensor naming nothing in it. */
export function validateDecoderConfig(config: DecoderConfig): string[] {
  const issues = checkConfig(config);
  if (typeof config.dbc !== 'string' || !config.dbc) return issues;
  try {
    const { dbc, path } = loadDbcSync(config.dbc);
    bindSensors(dbc, config.sensors ?? [], path);
  } catch (err) {
    issues.push(`dbc: ${(err as Error).message.replace(/^can-decoder: /, '')}`);
  }
  return issues;
}

export default definePlugin<DecoderConfig>({
  type: 'can-decoder',
  version: '0.1.0',
  description: 'Decodes CAN frames with a DBC into live sensor keys (sensor:<name>, 10 s TTL), can_messages history rows and can/signal bus messages.',
  adapters: { can: { kind: 'can', description: 'The CAN channel (SocketCAN, the greenhouse simulator or a candump replay).' } },
  configSchema,
  validateConfig: validateDecoderConfig,
  async create({ id, config: raw, adapters, store, history, bus, health, metrics, scope, log, container }) {
    const config = withDefaults(raw);
    const issues = checkConfig(config);
    if (issues.length) throw new Error(`can-decoder "${id}": invalid config:\n  ${issues.map((i) => `config.${i}`).join('\n  ')}`);
    const dbcFile = await loadDbc(config.dbc);
    const dbc = dbcFile.dbc;
    const sensors = bindSensors(dbc, config.sensors, dbcFile.path);
    const channel = adapters.can as CanChannel;
    const decoder = new DbcDecoder(dbc);
    const clock = scope.clock;
    const cycles = new CycleWatch(dbc);
    const rates = new MessageRates(dbc, clock.now());
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
    const reported = { decoded: 0, unknownId: 0, wrongDlc: 0, errorFrames: 0, remote: 0, droppedLines: 0, flagged: 0 };
    const reportCounts = (): void => {
      const c = { ...decoder.counts, droppedLines: channel.stats().dropped };
      for (const k of ['decoded', 'unknownId', 'wrongDlc', 'errorFrames', 'remote', 'droppedLines'] as const) {
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
        scope.defer(channel.onFrame((f) => {
          pipeline.onFrame(f);
          const now = scope.clock.now();
          cycles.seen(f, now);
          rates.seen(f, now);
        }));
        scope.every(config.liveFlushMs, async () => {
          reportCounts();
          await live.flush();
        });
        scope.every(1000, () => rates.tick(scope.clock.now()));
        // The dashboard's "CAN messages" panel: frames per second per message, next to the sensor tiles.
        const routes = container.isRegistered(Tokens.HttpRoutes, true) ? container.resolve<RouteRegistry>(Tokens.HttpRoutes) : null;
        if (routes) {
          scope.defer(routes.add(id, {
            method: 'GET',
            url: `/api/can/${id}/messages`,
            schema: { summary: `CAN messages (${id}): frames per second`, description: 'Per DBC message: frames since start, frames per second over the last 10 s, seconds since the last frame.', tags: ['can', 'dashboard'] },
            panel: { hint: 'Frames per second over the last 10 s; "last s ago" grows when a box stops sending.' },
            handler: () => rates.rows(scope.clock.now()),
          }));
        }
        scope.every(config.sweepMs, () => {
          const gone = live.sweep();
          if (gone.length) log.warn(`no valid value for ${config.ttlS} s, live keys set to null: ${gone.join(', ')}`);
          const change = cycles.check(scope.clock.now());
          for (const m of change.missing) log.warn(`message ${m.name} (${m.id}) missing: none for ${m.silentMs} ms, ${CycleWatch.PERIODS} of its ${m.cycleTimeMs} ms cycle (GenMsgCycleTime)`);
          for (const m of change.back) log.info(`message ${m.name} (${m.id}) is back`);
        });
        if (batcher) scope.every(config.history.flushMs, () => batcher.flush());
        scope.defer(health.setCheck(`${id}.live`, () => {
          const stale = live.stale();
          const c = decoder.counts;
          const ch = channel.stats();
          const counts = `frames ${pipeline.counts.frames}, decoded ${c.decoded}, unknown id ${c.unknownId}, wrong DLC ${c.wrongDlc}, error frames ${c.errorFrames}, remote frames ${c.remote}, dropped lines ${ch.dropped}, flagged ${pipeline.counts.flagged}, rows ${pipeline.counts.rows}`;
          const busState = ch.state === 'bus-off' || ch.state === 'down' ? `channel ${ch.state}; ` : '';
          const missing = cycles.missing();
          const missingText = missing.length ? `missing (no frame for ${CycleWatch.PERIODS} cycle times): ${missing.map((m) => m.name).join(', ')}; ` : '';
          return {
            ok: stale.length === 0 && missing.length === 0 && ch.state !== 'bus-off' && ch.state !== 'down',
            detail: `${busState}${missingText}${stale.length ? `stale: ${stale.join(', ')}; ` : ''}${counts} (${channel.description})`,
          };
        }, id));
        log.info(`decoding ${channel.description} with ${dbcFile.path} (${dbc.messages.length} messages, ${config.sensors.length} sensors)`);
      },
    };
  },
});
