// The redis-bridge plugin against a real redis-server: frames from the greenhouse simulator become
// `can:raw` stream entries, a consumer group turns them into exactly one can_messages row each (and
// acks them all), a reset group re-delivers without duplicate rows, live keys carry a ≤ 10 s TTL;
// Redis killed → direct history writes and a failing health check; restarted → back on the stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import canAdapter from '../../adapters/can/adapter.ts';
import decoderPlugin from '../../plugins/can-decoder/plugin.ts';
import bridgePlugin from '../../plugins/redis-bridge/plugin.ts';
import type { BoxId, GreenhouseSim } from '../../sim/greenhouse.ts';
import { testManifest } from '../helpers/manifest.ts';
import { eventually } from '../helpers/eventually.ts';
import { redisSkip, startRedis } from '../helpers/redis.ts';

const SENSORS = [
  { name: 'dry_bulb_b', message: 'FlowerBack_Psychro', signal: 'DryBulb' },
  { name: 'co2_f', message: 'FlowerFront_SCD30', signal: 'CO2', min: 0, max: 5000 },
  { name: 'water_temp', message: 'Lab_Temps', signal: 'WaterTemp' },
];
const BOXES: BoxId[] = ['b', 'f', 'v', 'lab'];
// 16 frames per 50 ms round: ~320 frames/s on the real clock.
const SIM = { source: 'socketcan', interface: 'can0', replay: { path: '', speed: 1, timestamps: 'now' }, sim: { periodMs: 50, timeScale: 60, seed: 5 } };

async function start(url: string): Promise<Runtime> {
  const { root } = memoryLog('warn');
  const manifest = testManifest(
    [
      { id: 'decoder', use: 'can-decoder', adapters: { can: 'canbus' }, config: { dbc: 'manifests/cea.dbc', sensors: SENSORS, history: { enabled: false } } },
      {
        id: 'bridge',
        use: 'redis-bridge',
        adapters: { can: 'canbus' },
        config: { url, mode: 'both', dbc: 'manifests/cea.dbc', blockMs: 200, reconnectMinMs: 50, reconnectMaxMs: 300, flushMs: 100, batchSize: 50 },
      },
    ],
    { adapters: [{ id: 'canbus', kind: 'can', driver: 'sim', options: SIM }] },
  );
  const runtime = await createRuntime({ manifest, plugins: [decoderPlugin, bridgePlugin], adapters: [canAdapter], logRoot: root, dataDir: null, sim: true });
  await runtime.start();
  return runtime;
}

test('redis-bridge: stream, consumer group, idempotent rows, TTL keys, outage fallback and recovery', { skip: redisSkip, timeout: 30_000 }, async () => {
  const redis = await startRedis();
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  client.on('error', () => {});
  let runtime: Runtime | null = null;
  try {
    await client.connect();
    runtime = await start(redis.url);
    const rt = runtime;
    const sim = rt.world.require<GreenhouseSim>('sim:canbus');
    const quiet = (on: boolean): void => BOXES.forEach((b) => sim.silence(b, on));
    const check = () => rt.health.report().checks['bridge.redis'];
    const rows = async (): Promise<Array<Record<string, unknown>>> => (await rt.history.query('can_messages')).map((r) => r.data);
    const pending = async (): Promise<number> => Number(((await client.xpending('can:raw', 'fieldgate')) as [number])[0]);
    // Stops the boxes, then waits until every entry is consumed and acked: one row per entry.
    const settle = async (what: string): Promise<{ len: number; streamRows: number }> => {
      quiet(true);
      return await eventually(`${what}: every stream entry written once and acked`, 5000, async () => {
        const len = await client.xlen('can:raw');
        const streamRows = (await rows()).filter((r) => r.stream_id !== null).length;
        const groups = (await client.xinfo('GROUPS', 'can:raw')) as unknown[][];
        const info = Object.fromEntries(Array.from({ length: groups[0].length / 2 }, (_, i) => [groups[0][2 * i], groups[0][2 * i + 1]]));
        return len > 0 && Number(info.pending) === 0 && Number(info['entries-read']) === len && streamRows >= len && { len, streamRows };
      });
    };

    // 1. Stream entries in the seed's format.
    await eventually('health ok and entries in can:raw', 5000, async () => check()?.ok && (await client.xlen('can:raw')) > 20);
    const [[firstId, fields]] = (await client.xrange('can:raw', '-', '+', 'COUNT', 1)) as Array<[string, string[]]>;
    assert.match(firstId, /^\d+-\d+$/);
    assert.deepEqual(fields.filter((_, i) => i % 2 === 0), ['id', 'data', 'ts', 'dlc']);
    const f = Object.fromEntries([0, 2, 4, 6].map((i) => [fields[i], fields[i + 1]]));
    assert.match(f.id, /^0x([0-9A-F]{3}|[0-9A-F]{8})$/);
    assert.match(f.data, /^[0-9A-F]{2}( [0-9A-F]{2})*$/, 'the seed\'s "AA FF 04 10"');
    assert.equal(f.data.split(' ').length, Number(f.dlc));
    assert.ok(Math.abs(Number(f.ts) - Date.now()) < 10_000, `ts ${f.ts} is epoch ms`);

    // 2. Consumer group: every entry → exactly one row, nothing pending.
    let s = await settle('first pass');
    assert.equal(s.streamRows, s.len);
    assert.equal(await pending(), 0);
    const sample = (await rows()).find((r) => r.stream_id === firstId)!;
    assert.equal(sample.can_id, f.id);
    assert.equal(sample.dlc, Number(f.dlc));
    assert.ok(typeof sample.message_type === 'string' && JSON.parse(sample.decoded_data as string));

    // 3. At-least-once made idempotent: the group re-delivers everything, no row is added.
    await client.xgroup('SETID', 'can:raw', 'fieldgate', '0');
    await eventually('re-delivered entries seen as duplicates', 5000, () => /duplicates [1-9]/.test(check()!.detail!) && /duplicates (\d+)/.exec(check()!.detail!)![1] === String(s.len));
    s = await settle('after re-delivery');
    assert.equal(s.streamRows, s.len, 'no duplicate rows');

    // 4. Live keys with the 10 s TTL.
    quiet(false);
    await eventually('sensor:co2_f in Redis with a TTL', 5000, async () => {
      const ttl = await client.ttl('sensor:co2_f');
      return ttl > 0 && ttl <= 10;
    });
    const ttlTs = await client.ttl('sensor:co2_f:ts');
    assert.ok(ttlTs > 0 && ttlTs <= 10, `TTL sensor:co2_f:ts ${ttlTs}`);
    assert.ok(Number(await client.get('sensor:co2_f')) > 400);
    assert.equal(await client.ttl('sensor:rh_v'), -2, 'only mapped sensors have keys');

    // 5. Redis killed: direct history writes, health says so.
    const directBefore = (await rows()).filter((r) => r.stream_id === null).length;
    await redis.kill();
    await eventually('health reports the fallback', 5000, () => {
      const c = check();
      return c && !c.ok && /unavailable.*falling back to direct history writes/.test(c.detail!);
    });
    await eventually('rows written directly while Redis is down', 5000, async () => (await rows()).filter((r) => r.stream_id === null).length > directBefore + 32);
    assert.equal(rt.health.report().status, 'degraded');

    // 6. Restarted (empty: no persistence): reconnects, recreates the group, back on the stream.
    const streamRowsBefore = (await rows()).filter((r) => r.stream_id !== null).length;
    await redis.restart();
    await eventually('health ok again', 5000, () => check()?.ok);
    await eventually('entries in the new stream', 5000, async () => (await client.xlen('can:raw').catch(() => 0)) > 20);
    const directAfter = (await rows()).filter((r) => r.stream_id === null).length;
    const after = await settle('after the restart');
    assert.equal(after.streamRows - streamRowsBefore, after.len, 'every new entry became one row');
    assert.ok((await rows()).filter((r) => r.stream_id === null).length - directAfter < 80, 'direct writes stopped (what was buffered at most)');
  } finally {
    await runtime?.stop();
    client.disconnect();
    await redis.stop();
  }
});
