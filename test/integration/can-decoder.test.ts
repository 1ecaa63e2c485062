// The can-decoder plugin in a real runtime: the greenhouse simulator on fake time → live sensor keys
// with a 10 s TTL (a silent box goes null and stale), calibration and min/max flags, bus-off seen in
// health; and the fixture candump log replayed → exactly one can_messages row per decodable frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import canAdapter from '../../adapters/can/adapter.ts';
import decoderPlugin from '../../plugins/can-decoder/plugin.ts';
import type { GreenhouseSim } from '../../sim/greenhouse.ts';
import { testManifest } from '../helpers/manifest.ts';
import { eventually } from '../helpers/eventually.ts';

const FIXTURE = new URL('../fixtures/can/greenhouse-20s.log', import.meta.url).pathname;
const SENSORS = [
  { name: 'dry_bulb_b', message: 'FlowerBack_Psychro', signal: 'DryBulb' },
  { name: 'co2_f', message: 'FlowerFront_SCD30', signal: 'CO2', min: 0, max: 5000 },
  { name: 'rh_v', message: 'Veg_SCD30', signal: 'RH', gain: 1.02, offset: -0.5, min: 0, max: 100 },
  { name: 'pressure_v', message: 'Veg_Env', signal: 'Pressure' },
  { name: 'water_temp', message: 'Lab_Temps', signal: 'WaterTemp' },
];

async function start(adapterOptions: Record<string, unknown>, clock?: FakeClock): Promise<Runtime> {
  const { root } = memoryLog('warn');
  const manifest = testManifest(
    [{ id: 'decoder', use: 'can-decoder', adapters: { can: 'canbus' }, config: { dbc: 'manifests/cea.dbc', sensors: SENSORS, history: { batchSize: 50 } } }],
    { adapters: [{ id: 'canbus', kind: 'can', driver: 'sim', options: adapterOptions }] },
  );
  const runtime = await createRuntime({ manifest, plugins: [decoderPlugin], adapters: [canAdapter], logRoot: root, dataDir: null, sim: true, clock });
  await runtime.start();
  return runtime;
}

const SIM = { source: 'socketcan', interface: 'can0', replay: { path: '', speed: 1, timestamps: 'now' }, sim: { periodMs: 1000, timeScale: 60, seed: 3 } };

test('greenhouse on fake time: live keys, calibration, flags, 10 s TTL and bus-off', async () => {
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 12));
  const runtime = await start(SIM, clock);
  try {
    const sim = runtime.world.require<GreenhouseSim>('sim:canbus');
    await clock.advance(1100);
    const s = runtime.store;
    const dry = s.get<number>('sensor:dry_bulb_b')!;
    assert.ok(dry > 20 && dry < 30, `dry_bulb_b ${dry}`);
    assert.equal(s.get('sensor:dry_bulb_b:ts'), clock.now() - 100);
    assert.ok(s.get<number>('sensor:co2_f')! > 400);
    const p = s.get<number>('sensor:pressure_v')!;
    assert.ok(p > 1000 && p < 1020, `pressure_v ${p}`);
    assert.ok(Math.abs(s.get<number>('sensor:water_temp')! - 18.5) < 0.1);
    // Calibration: the box sends RH 70.00 → 70 * 1.02 - 0.5.
    sim.overrides.set('rh_v', 70);
    await clock.advance(1000);
    assert.ok(Math.abs(s.get<number>('sensor:rh_v')! - 70.9) < 1e-4, `rh_v ${s.get('sensor:rh_v')}`);
    // Outside min/max: flagged, the live key keeps the last valid value.
    sim.overrides.set('co2_f', 9000);
    const before = s.get<number>('sensor:co2_f');
    await clock.advance(1000);
    assert.equal(s.get('sensor:co2_f'), before);
    const rows = await runtime.history.query('can_messages', { where: { message_type: 'FlowerFront_SCD30' }, newestFirst: true, limit: 3 });
    assert.ok(rows.some((r) => JSON.parse(r.data.decoded_data as string)._invalid?.includes('co2_f')), 'the row says which value was flagged');
    // A silent box: its keys go null 10..11 s after its last frame; the others stay.
    sim.silence('b');
    await clock.advance(9000);
    assert.notEqual(s.get('sensor:dry_bulb_b'), null);
    await clock.advance(2000);
    assert.equal(s.get('sensor:dry_bulb_b'), null);
    assert.equal(s.get('sensor:dry_bulb_b:ts'), null);
    assert.notEqual(s.get('sensor:water_temp'), null);
    let check = runtime.health.report().checks['decoder.live'];
    assert.equal(check.ok, false);
    assert.match(check.detail!, /stale: .*dry_bulb_b/);
    assert.match(check.detail!, /stale: .*co2_f/, 'co2_f has been flagged for 10 s: no valid value, stale too');
    sim.silence('b', false);
    sim.overrides.clear();
    await clock.advance(1100);
    assert.ok(s.get<number>('sensor:dry_bulb_b')! > 20);
    check = runtime.health.report().checks['decoder.live'];
    assert.equal(check.ok, true, check.detail);
    // Bus-off: the health check says so; error frames are counted, not decoded.
    sim.injectErrorFrames(3);
    sim.busOff(true);
    await clock.advance(1000);
    check = runtime.health.report().checks['decoder.live'];
    assert.equal(check.ok, false);
    assert.match(check.detail!, /bus-off.*error frames 4/);
  } finally {
    await runtime.stop();
  }
});

test('the fixture log replayed through the plugin: exact row count and seed row shape', async () => {
  const runtime = await start({ ...SIM, source: 'replay', replay: { path: FIXTURE, speed: 'max', timestamps: 'log' } });
  try {
    await eventually('the replay decoded', 5000, () => /frames 324, decoded 320, unknown id 2, wrong DLC 1, error frames 1, remote frames 0, dropped lines 1, flagged 0, rows 320 /.test(runtime.health.report().checks['decoder.live']?.detail ?? ''));
    // The last partial batch is appended by the flush timer (1 s).
    await eventually('320 rows in history', 5000, async () => (await runtime.history.query('can_messages')).length === 320);
  const rows = await runtime.history.query('can_messages');
  const first = rows[0].data;
  assert.deepEqual(Object.keys(first).sort(), ['can_id', 'decoded_data', 'dlc', 'message_type', 'node_id', 'raw_data', 'timestamp']);
  assert.equal(first.can_id, '0x100');
  assert.equal(first.node_id, 'FLOWER_BACK');
  assert.equal(first.message_type, 'FlowerBack_Psychro');
  assert.equal(first.dlc, 4);
  assert.equal(first.raw_data, '36 0A D2 07');
  const decoded = JSON.parse(first.decoded_data as string) as Record<string, number>;
  assert.deepEqual(Object.keys(decoded), ['DryBulb', 'WetBulb']);
  assert.ok(Math.abs(decoded.DryBulb - 26.14) < 1e-9 && Math.abs(decoded.WetBulb - 20.02) < 1e-9, first.decoded_data as string);
  assert.equal(rows.filter((r) => r.data.can_id === '0x18FF5001').length, 20);
  } finally {
    await runtime.stop();
  }
});
