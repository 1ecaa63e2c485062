// Plugin `redis-bridge`, the seed's Redis design: every raw CAN frame → `XADD can:raw MAXLEN ~ N`
// (producer), the stream → `can_messages` rows through a consumer group with XREADGROUP/XACK,
// at-least-once with rows deduplicated by stream entry id (worker), and the live `sensor:*` keys
// mirrored to Redis with a TTL. While Redis is unreachable the producer decodes and writes rows
// directly to the history store and the health check says so; ioredis reconnects with backoff.
import type { Redis as RedisClient, RedisOptions } from 'ioredis';
import type { CanChannel, CanFrame } from '../../adapters/can/types.ts';
import type { StateChange } from '../../core/bus.ts';
import { definePlugin } from '../../core/plugin.ts';
import { DbcDecoder } from '../../adapters/can/dbc/decode.ts';
import { HistoryBatcher } from '../can-decoder/history.ts';
import { loadDbc, loadDbcSync } from '../../adapters/can/dbc/load.ts';
import { checkConfig, configSchema, redactUrl, resolveConfig, type RedisBridgeConfig } from './config.ts';
import { guardRedisStream } from './reply-guard.ts';
import { peerLimitCounter } from '../../core/peer-limits.ts';
import { type BridgeRow, compareStreamIds, fieldsFrame, frameFields, frameRow } from './stream.ts';

const LIVE_KEY = /^sensor:[A-Za-z0-9_.-]+(:ts)?$/;

export default definePlugin<Partial<RedisBridgeConfig> & { dbc: string }>({
  type: 'redis-bridge',
  version: '0.1.0',
  description: 'Raw CAN frames → Redis stream (XADD MAXLEN ~), a consumer-group worker writing can_messages rows, sensor:* live keys with a TTL; direct history writes while Redis is down.',
  adapters: { can: { kind: 'can', optional: true, description: 'The CAN channel whose frames go to the stream (producer and both modes).' } },
  configSchema,
  validateConfig: (raw) => {
    const issues = checkConfig(raw);
    if (typeof raw.dbc === 'string' && raw.dbc) {
      try {
        loadDbcSync(raw.dbc);
      } catch (err) {
        issues.push(`dbc: ${(err as Error).message}`);
      }
    }
    return issues;
  },
  async create({ id, config: raw, adapters, store, history, bus, health, scope, log, metrics }) {
    const config = resolveConfig(raw, id);
    const issues = checkConfig(config);
    if (issues.length) throw new Error(`redis-bridge "${id}": invalid config:\n  ${issues.map((i) => `config.${i}`).join('\n  ')}`);
    const producing = config.mode !== 'worker';
    const working = config.mode !== 'producer';
    const channel = adapters.can as CanChannel | undefined;
    if (producing && !channel) throw new Error(`redis-bridge "${id}": mode "${config.mode}" needs the "can" adapter binding`);
    const decoder = new DbcDecoder((await loadDbc(config.dbc)).dbc);
    const { Redis } = await import('ioredis');
    const where = redactUrl(config.url);
    const lastIdKey = `redis-bridge:${id}:last_id`;

    const counts = { xadded: 0, xaddFailed: 0, direct: 0, skipped: 0, consumed: 0, duplicates: 0, rows: 0, dead: 0, acked: 0, live: 0 };
    let down: { since: number; error: string } | null = { since: scope.clock.now(), error: 'not connected yet' };
    let lastError = '';

    const redisOptions = (name: string): RedisOptions => ({
      lazyConnect: true,
      connectionName: `fieldgate:${id}:${name}`,
      // Commands fail at once while disconnected (→ fallback), instead of queueing without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (times: number) => {
        const ms = Math.min(config.reconnectMinMs * 2 ** Math.min(times - 1, 20), config.reconnectMaxMs);
        return Math.round(ms * (1 + Math.random() * 0.1));
      },
    });
    const connections: RedisClient[] = [];
    const countLimit = peerLimitCounter(metrics);
    const open = (name: string): RedisClient => {
      const c = new Redis(config.url, redisOptions(name));
      // Each reconnect is a new socket, so the reply size guard is attached per connection.
      c.on('connect', () => guardRedisStream(c.stream, {
        peer: `redis ${where}`,
        limit: config.maxReplyBytes,
        onLimit: (err) => {
          countLimit(id);
          lastError = err.message;
          log.warn(`${err.message} (maxReplyBytes raises the limit); reconnecting`);
        },
      }));
      c.on('error', (err: Error) => {
        lastError = err.message;
      });
      connections.push(c);
      return c;
    };
    // Commands (XADD, SET, XACK) on one auto-pipelined connection; the worker's blocking reads on another.
    const cmd = open('cmd');
    const reader = working ? open('reader') : null;
    const ready = (): boolean => cmd.status === 'ready' && (!reader || reader.status === 'ready');
    const noteState = (): void => {
      if (ready()) {
        if (down) log.info(`Redis ${where} ready${producing ? `: frames go to stream ${config.stream} again` : ''} (was down ${Math.round((scope.clock.now() - down.since) / 1000)} s)`);
        down = null;
      } else if (!down) {
        down = { since: scope.clock.now(), error: lastError || 'connection closed' };
        log.warn(`Redis ${where} unavailable (${down.error})${producing ? ': writing can_messages rows directly to the history store' : ''}; reconnecting with backoff`);
      }
    };
    for (const c of connections) for (const ev of ['ready', 'close', 'end', 'reconnecting']) c.on(ev, noteState);

    // Direct history writes (the fallback); rows carry stream_id null.
    const direct = new HistoryBatcher({
      history,
      series: config.series,
      batchSize: config.batchSize,
      onError: (err, rows) => log.error(`direct history append of ${rows} ${config.series} rows failed: ${(err as Error).message}`),
    });
    const writeDirect = (frame: CanFrame): void => {
      const row = frameRow(decoder, frame, null);
      if (typeof row === 'string') {
        counts.skipped++;
        return;
      }
      direct.add(row);
      counts.direct++;
    };
    const onFrame = (frame: CanFrame): void => {
      if (frame.err || frame.rtr) {
        counts.skipped++;
        return;
      }
      if (cmd.status !== 'ready') {
        writeDirect(frame);
        return;
      }
      cmd.xadd(config.stream, 'MAXLEN', '~', String(config.maxLen), '*', ...frameFields(frame)).then(
        () => {
          counts.xadded++;
        },
        () => {
          // Lost with the connection: the entry may or may not have reached Redis (at-least-once).
          counts.xaddFailed++;
          writeDirect(frame);
        },
      );
    };

    // Worker: rows are deduplicated against the highest stream id already written.
    let lastId = '0-0';
    const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
      new Promise((resolve) => {
        if (signal.aborted) return resolve();
        const t = scope.setTimeout(resolve, ms);
        signal.addEventListener('abort', () => {
          scope.clearTimer(t);
          resolve();
        }, { once: true });
      });
    const ensureGroup = async (): Promise<void> => {
      try {
        await cmd.xgroup('CREATE', config.stream, config.group, '0', 'MKSTREAM');
        log.info(`created consumer group ${config.group} on ${config.stream}`);
      } catch (err) {
        if (!/BUSYGROUP/.test((err as Error).message)) throw err;
      }
    };
    const consume = async (entries: Array<[string, string[]]>): Promise<void> => {
      const rows: BridgeRow[] = [];
      const dead: Array<{ entryId: string; reason: string; fields: string[] }> = [];
      let high = lastId;
      for (const [entryId, fields] of entries) {
        counts.consumed++;
        if (compareStreamIds(entryId, lastId) <= 0) {
          counts.duplicates++;
          continue;
        }
        const frame = fieldsFrame(fields, entryId);
        const row = typeof frame === 'string' ? frame : frameRow(decoder, frame, entryId);
        if (typeof row === 'string') dead.push({ entryId, reason: row, fields });
        else rows.push(row);
        high = entryId;
      }
      // Rows and dead letters first (durable), then the high-water mark, then the ack: a crash in
      // between re-delivers entries that the mark or the newest rows then skip.
      if (rows.length) await history.append(config.series, rows.map((r) => ({ ts: r.timestamp, data: r })));
      counts.rows += rows.length;
      if (dead.length) {
        const p = cmd.pipeline();
        for (const d of dead) p.xadd(config.deadStream, 'MAXLEN', '~', String(config.maxLen), '*', 'reason', d.reason, 'source_stream', config.stream, 'source_id', d.entryId, ...d.fields.slice(0, 40).map((v) => v.slice(0, 1024)));
        const results = await p.exec();
        const failed = results?.find(([err]) => err);
        if (failed) throw new Error(`cannot write ${dead.length} undecodable entries to ${config.deadStream}: ${(failed[0] as Error).message}`);
        counts.dead += dead.length;
        log.warn(`${dead.length} ${config.stream} entr${dead.length === 1 ? 'y' : 'ies'} could not be decoded → ${config.deadStream} (first: ${dead[0].entryId}: ${dead[0].reason})`);
      }
      if (high !== lastId) {
        lastId = high;
        await store.set(lastIdKey, lastId, { durable: false });
      }
      await cmd.xack(config.stream, config.group, ...entries.map(([entryId]) => entryId));
      counts.acked += entries.length;
    };
    const work = async (signal: AbortSignal): Promise<void> => {
      // Own pending entries first ('0'), then new ones ('>').
      let cursor = '0';
      let groupReady = false;
      while (!signal.aborted) {
        if (!reader || reader.status !== 'ready' || cmd.status !== 'ready') {
          groupReady = false;
          cursor = '0';
          await sleep(config.reconnectMinMs, signal);
          continue;
        }
        try {
          if (!groupReady) {
            await ensureGroup();
            groupReady = true;
          }
          const res = (await reader.xreadgroup('GROUP', config.group, config.consumer, 'COUNT', config.readCount, 'BLOCK', config.blockMs, 'STREAMS', config.stream, cursor)) as Array<[string, Array<[string, string[]]>]> | null;
          const entries = res?.[0]?.[1] ?? [];
          if (entries.length) await consume(entries);
          else if (cursor === '0') cursor = '>';
        } catch (err) {
          if (signal.aborted) return;
          const msg = (err as Error).message;
          if (/NOGROUP/.test(msg)) groupReady = false; // Redis restarted without its data
          else log.warn(`stream worker: ${msg}`);
          cursor = '0';
          await sleep(config.reconnectMinMs, signal);
        }
      }
    };

    const recoverLastId = async (): Promise<void> => {
      const stored = store.get<string>(lastIdKey);
      if (typeof stored === 'string' && /^\d+-\d+$/.test(stored)) lastId = stored;
      // Rows written just before a crash, before the mark was: the newest rows name their entries.
      const newest = await history.query(config.series, { newestFirst: true, limit: 2000 });
      for (const r of newest) {
        const sid = r.data.stream_id;
        if (typeof sid === 'string' && compareStreamIds(sid, lastId) > 0) lastId = sid;
      }
    };

    return {
      async start() {
        scope.defer(async () => {
          await direct.flush();
        });
        scope.defer(() => {
          for (const c of connections) c.disconnect();
        });
        for (const c of connections) c.connect().catch(() => {}); // failures: 'error' events, retried by retryStrategy
        if (working) {
          await recoverLastId();
          scope.run((signal) => work(signal));
        }
        if (producing) scope.defer(channel!.onFrame(onFrame));
        scope.every(config.flushMs, () => direct.flush());
        if (config.live) {
          scope.defer(bus.subscribe<StateChange>('state/+', (change) => {
            if (change.value === null || change.value === undefined || !LIVE_KEY.test(change.key) || cmd.status !== 'ready') return;
            cmd.set(change.key, String(change.value), 'EX', config.ttlS).then(
              () => {
                counts.live++;
              },
              () => {},
            );
          }));
        }
        scope.defer(health.setCheck(`${id}.redis`, () => {
          const c = counts;
          const stats = `${producing ? `xadd ${c.xadded}, ` : ''}${working ? `consumed ${c.consumed}, rows ${c.rows}, dead letters ${c.dead} (${config.deadStream}), acked ${c.acked}, duplicates ${c.duplicates}, ` : ''}direct rows ${c.direct}, skipped ${c.skipped}, live sets ${c.live}`;
          if (down) {
            const fallback = producing ? 'falling back to direct history writes' : 'stream worker paused';
            return { ok: false, detail: `Redis ${where} unavailable since ${new Date(down.since).toISOString()} (${lastError || down.error}): ${fallback}, reconnecting with backoff; ${stats}` };
          }
          return { ok: true, detail: `Redis ${where} connected (mode ${config.mode}, stream ${config.stream}, group ${config.group}); ${stats}` };
        }, id));
        log.info(`mode ${config.mode}: ${producing ? `${channel!.description} → ${config.stream} (MAXLEN ~${config.maxLen}); ` : ''}${working ? `${config.stream} → ${config.series} as ${config.group}/${config.consumer}; ` : ''}Redis ${where}`);
      },
    };
  },
});
