// The redis-bridge worker reading entries another producer wrote with `redis-cli XADD`: the seed's
// format (`data "AA FF 04 10"`), fieldgate's former unseparated hex, and entries that cannot be
// decoded, which land in `can:raw:dead` with the reason instead of being acknowledged and dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import bridgePlugin from '../../plugins/redis-bridge/plugin.ts';
import { testManifest } from '../helpers/manifest.ts';
import { eventually } from '../helpers/eventually.ts';
import { redisSkip, startRedis } from '../helpers/redis.ts';

const CLI = process.env.FIELDGATE_REDIS_CLI ?? 'redis-cli';
const skip = redisSkip || (spawnSync(CLI, ['--version']).status === 0 ? false : 'redis-cli not found (apt-get install -y redis-tools)');

test('seed-format entries from redis-cli XADD become rows; undecodable ones go to can:raw:dead with the reason', { skip, timeout: 30_000 }, async () => {
  const redis = await startRedis();
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  let runtime: Runtime | null = null;
  const xadd = (...fields: string[]): string => {
    const r = spawnSync(CLI, ['-h', '127.0.0.1', '-p', String(redis.port), 'XADD', 'can:raw', '*', ...fields], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  try {
    await client.connect();
    // Written before the worker starts, as another producer would.
    const seed = xadd('id', '0x100', 'data', '36 0A D2 07', 'ts', '1734001123123', 'dlc', '4');
    const legacy = xadd('id', '0x100', 'data', '360AD207', 'ts', '1734001123223', 'dlc', '4');
    const ext = xadd('id', '0x18FF5001', 'data', '5E 06 D2 07', 'ts', '1734001123323', 'dlc', '4');
    const unknown = xadd('id', '0x7AB', 'data', '01 02', 'ts', '1734001123423', 'dlc', '2');
    const garbage = xadd('id', '0x100', 'data', 'hello', 'ts', '1734001123523');
    const badDlc = xadd('id', '0x100', 'data', '36 0A D2 07', 'ts', '1734001123623', 'dlc', '8');

    const { root } = memoryLog('error');
    const manifest = testManifest([{ id: 'bridge', use: 'redis-bridge', config: { url: redis.url, mode: 'worker', dbc: 'manifests/cea.dbc', blockMs: 100, reconnectMinMs: 50, reconnectMaxMs: 200, live: false } }]);
    runtime = await createRuntime({ manifest, plugins: [bridgePlugin], adapters: [], logRoot: root, dataDir: null, sim: true });
    await runtime.start();
    const rt = runtime;

    const rows = await eventually('3 rows', 5000, async () => {
      const r = (await rt.history.query('can_messages')).map((x) => x.data);
      return r.length === 3 && r;
    });
    const byId = new Map(rows.map((r) => [r.stream_id, r]));
    for (const id of [seed, legacy]) {
      const r = byId.get(id)!;
      assert.equal(r.message_type, 'FlowerBack_Psychro');
      assert.equal(r.raw_data, '36 0A D2 07');
      const v = JSON.parse(r.decoded_data as string) as Record<string, number>;
      assert.ok(Math.abs(v.DryBulb - 26.14) < 1e-9 && Math.abs(v.WetBulb - 20.02) < 1e-9, r.decoded_data as string);
    }
    assert.equal(byId.get(seed)!.timestamp, 1734001123123);
    assert.equal(byId.get(ext)!.can_id, '0x18FF5001');

    const dead = await eventually('3 dead letters', 5000, async () => {
      const d = (await client.xrange('can:raw:dead', '-', '+')) as Array<[string, string[]]>;
      return d.length === 3 && d.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])));
    });
    assert.deepEqual(dead.map((d) => d.source_id), [unknown, garbage, badDlc]);
    assert.match(dead[0].reason, /0x7AB: id not in the DBC/);
    assert.match(dead[1].reason, /data "hello" is not hex bytes/);
    assert.match(dead[2].reason, /dlc 8 does not match the 4 data bytes/);
    assert.equal(dead[1].data, 'hello', 'the original fields are kept');
    await eventually('nothing pending', 5000, async () => Number(((await client.xpending('can:raw', 'fieldgate')) as [number])[0]) === 0);
    assert.match(rt.health.report().checks['bridge.redis'].detail!, /consumed 6, rows 3, dead letters 3 \(can:raw:dead\), acked 6/);
  } finally {
    await runtime?.stop();
    client.disconnect();
    await redis.stop();
  }
});
