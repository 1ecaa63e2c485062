// A manifest whose `can` adapter plays a CAN device profile generated from a DBC: the can-decoder
// plugin decodes the values the profile's behaviours give (signals without a point at their start
// value or minimum), each message at its cycle time (the profile's, else GenMsgCycleTime), a silent
// message, a box silent for a window and a bus-off window on the injected clock; bad names in the
// profile fail naming adapter and path, bad shapes fail `validate` with manifest paths.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import type { CanSignalMessage } from '../../plugins/can-decoder/pipeline.ts';
import type { CanProfileDevice } from '../../sim/profiles/can-device.ts';
import type { DeviceFaults } from '../../sim/profiles/faults.ts';
import { checkProfile, ProfileError } from '../../sim/profiles/load.ts';
import { SimWorld } from '../../core/sim-world.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { AdapterContext } from '../../core/plugin.ts';
import canAdapter, { type CanAdapterOptions } from '../../adapters/can/adapter.ts';
import { DbcDecoder } from '../../adapters/can/dbc/decode.ts';
import { loadDbc } from '../../adapters/can/dbc/load.ts';

const DBC = `VERSION "boxes"

NS_ :
\tBA_DEF_
\tVAL_

BS_:

BU_: BOX1 BOX2 GW

BO_ 256 Climate: 8 BOX1
 SG_ DryBulb : 0|16@1- (0.01,0) [-40|85] "degC" GW
 SG_ Rh : 16|8@1+ (0.5,0) [0|100] "%" GW
 SG_ Fan : 24|2@1+ (1,0) [0|3] "" GW
 SG_ Co2 : 39|16@0+ (1,0) [400|5000] "ppm" GW

BO_ 257 Pressure: 4 BOX2
 SG_ Kpa : 0|16@1+ (0.01,0) [80|110] "kPa" GW
 SG_ Level : 16|8@1+ (1,0) [0|200] "" GW

BO_ 258 Spare: 2 BOX2
 SG_ Word : 0|16@1+ (1,0) [0|0] "" GW

BA_DEF_ BO_ "GenMsgCycleTime" INT 0 10000;
BA_DEF_ SG_ "GenSigStartValue" INT 0 100000;
BA_DEF_DEF_ "GenMsgCycleTime" 0;
BA_DEF_DEF_ "GenSigStartValue" 0;
BA_ "GenMsgCycleTime" BO_ 256 100;
BA_ "GenMsgCycleTime" BO_ 257 500;
BA_ "GenSigStartValue" SG_ 256 Co2 800;
VAL_ 256 Fan 0 "off" 1 "low" 2 "mid" 3 "high";
`;

function manifest(dbc: string, profile: Record<string, unknown>) {
  return {
    name: 'can-profile',
    log: { level: 'silent' },
    adapters: [{ id: 'canbus', kind: 'can', driver: 'sim', options: { sim: { profile } } }],
    plugins: [{ id: 'decoder', use: 'can-decoder', adapters: { can: 'canbus' }, config: { dbc, sensors: [{ name: 'dry_bulb', message: 'Climate', signal: 'DryBulb' }], history: { enabled: false } } }],
  };
}

const catalog = async () => {
  const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
  return { plugins, adapters };
};

describe('a CAN device profile from a DBC, decoded by the can-decoder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-can-profile-'));
  const dbc = join(dir, 'boxes.dbc');
  writeFileSync(dbc, DBC);
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 12));
  const got: CanSignalMessage[] = [];
  let runtime: Runtime;

  before(async () => {
    const profile = {
      name: 'greenhouse-boxes',
      protocol: 'can',
      tickMs: 100,
      can: {
        dbc,
        messages: {
          Climate: { faults: [{ kind: 'silent', atS: 5, forS: 2 }] },
          Pressure: { cycleMs: 250, faults: [{ kind: 'bus-off', atS: 8, forS: 1 }] },
          Spare: { silent: true },
        },
      },
      points: [
        { name: 'dry_bulb', signal: 'Climate.DryBulb', initial: 20, behaviour: { kind: 'ramp', rate: 0.5 } },
        { name: 'rh', signal: 'Rh', initial: 60, behaviour: { kind: 'formula', expr: '60 - dry_bulb' } },
        { name: 'kpa', signal: 'Kpa', initial: 101.3, behaviour: { kind: 'constant' } },
      ],
    };
    const { plugins, adapters } = await catalog();
    const { manifest: m } = parseManifest(JSON.stringify(manifest(dbc, profile)), 'can-profile.json', { plugins, adapters, env: {} });
    runtime = await createRuntime({ manifest: m, plugins, adapters, logRoot: memoryLog('silent').root, dataDir: null, sim: true, clock });
    runtime.bus.subscribe<CanSignalMessage>('can/signal', (msg) => {
      got.push(msg);
    });
    await runtime.start();
  });
  after(async () => {
    await runtime?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the decoder sees the behaviours\' values; undriven signals at their start value or minimum', async () => {
    await clock.advance(2000);
    const climate = got.filter((m) => m.message === 'Climate');
    assert.equal(climate.length, 20, 'GenMsgCycleTime 100 ms');
    assert.equal(got.filter((m) => m.message === 'Pressure').length, 8, 'the profile\'s 250 ms');
    assert.equal(got.filter((m) => m.message === 'Spare').length, 0, 'a silent message is never sent');
    const last = climate.at(-1)!;
    assert.ok(Math.abs(last.values.DryBulb - 21) < 0.011, `DryBulb ${last.values.DryBulb} = 20 + 0.5/s × 2 s`);
    assert.ok(Math.abs(last.values.Rh - 39) <= 0.5, `Rh ${last.values.Rh} follows its formula`);
    assert.equal(last.values.Co2, 800, 'GenSigStartValue');
    assert.deepEqual([last.values.Fan, last.labels?.Fan], [0, 'off'], 'no start value: the minimum');
    assert.ok(Math.abs(got.filter((m) => m.message === 'Pressure').at(-1)!.values.Kpa - 101.3) < 0.006);
    assert.ok(Math.abs(Number(runtime.store.get('sensor:dry_bulb')) - 21) < 0.011, 'the mapped sensor in the store');
  });

  test('fault windows: Climate silent from 5 s for 2 s, bus-off from 8 s for 1 s', async () => {
    const device = runtime.world.require<CanProfileDevice>('sim:canbus');
    await clock.advance(3500); // t = 5.5 s
    const at = got.length;
    await clock.advance(1000); // t = 6.5 s
    assert.equal(got.slice(at).filter((m) => m.message === 'Climate').length, 0, 'silent');
    assert.ok(got.slice(at).some((m) => m.message === 'Pressure'), 'the other box still sends');
    await clock.advance(1000); // t = 7.5 s
    assert.ok(got.slice(at).some((m) => m.message === 'Climate'), 'back after the window');
    await clock.advance(1000); // t = 8.5 s
    assert.equal(device.bus.busOff, true);
    const during = got.length;
    await clock.advance(400);
    assert.equal(got.length, during, 'nothing gets through a bus-off bus');
    await clock.advance(700); // t = 9.6 s
    assert.equal(device.bus.busOff, false);
    assert.ok(got.length > during, 'frames again');
    assert.match(runtime.health.report().checks['decoder.live'].detail ?? '', /error frames 1,/);
  });

  test('the common fault hooks: offline stops every box, a power cycle restarts the behaviours', async () => {
    const faults = runtime.world.require<DeviceFaults>('faults:canbus');
    await faults.offline();
    const at = got.length;
    await clock.advance(1000);
    assert.equal(got.length, at, 'offline: nothing on the bus');
    await faults.powerCycle();
    await clock.advance(200);
    const dry = got.filter((m) => m.message === 'Climate').at(-1)!.values.DryBulb;
    assert.ok(Math.abs(dry - 20.1) < 0.011, `DryBulb ${dry} restarted from its initial value`);
  });

  test('names the DBC does not have fail at start, naming the adapter and the profile path', async () => {
    const world = new SimWorld();
    const ctx = { id: 'bad', log: memoryLog('silent').root.logger('adapter:bad'), clock: new FakeClock(), world, metrics: new MetricsRegistry() } as unknown as AdapterContext;
    const profile = { name: 'bad', protocol: 'can', can: { dbc, messages: { Nope: { cycleMs: 100 } } }, points: [{ name: 'a', signal: 'Climate.Nope' }, { name: 'b', signal: 'Level' }, { name: 'c', signal: 'Rh' }, { name: 'd', signal: 'Climate.Rh' }] };
    const options = { source: 'socketcan', interface: 'can0', backend: 'auto', replay: { path: '', speed: 1, timestamps: 'now' }, sim: { periodMs: 1000, timeScale: 1, seed: 1, dbc: '', defaultCycleMs: 1000, profile } } as const;
    await assert.rejects(canAdapter.sim(structuredClone(options) as unknown as CanAdapterOptions, ctx), (e: Error) => {
      assert.match(e.message, /^can adapter "bad": options\.sim\.profile: device profile inline profile is invalid:/);
      assert.match(e.message, /\n {2}points\[0\]\.signal: message Climate has no signal "Nope" \(signals: DryBulb, Rh, Fan, Co2\)/);
      assert.match(e.message, /\n {2}points\[3\]\.signal: Climate\.Rh is already driven by points\[2\] \(c\)/);
      assert.match(e.message, /\n {2}can\.messages\.Nope: no message "Nope" in .*boxes\.dbc/);
      return true;
    });
    await assert.rejects(canAdapter.sim({ ...options, sim: { ...options.sim, profile: { ...profile, can: { dbc: join(dir, 'missing.dbc') }, points: [] } } } as unknown as CanAdapterOptions, ctx),
      /can adapter "bad": options\.sim\.profile: can\.dbc: cannot read the DBC/);
    assert.equal(world.has('sim:bad'), false, 'nothing half-started');
    await world.close();
  });

  test('the shipped manifests/cea-boxes.profile.json over manifests/cea.dbc: climate, SCD30 pages, a silent window', async () => {
    const world = new SimWorld();
    const fake = new FakeClock();
    const ctx = { id: 'cea', log: memoryLog('silent').root.logger('adapter:cea'), clock: fake, world, metrics: new MetricsRegistry() } as unknown as AdapterContext;
    const options = { source: 'socketcan', interface: 'can0', backend: 'auto', replay: { path: '', speed: 1, timestamps: 'now' }, sim: { periodMs: 1000, timeScale: 1, seed: 1, dbc: '', defaultCycleMs: 1000, profile: 'manifests/cea-boxes.profile.json' } };
    const handle = await canAdapter.sim(options as unknown as CanAdapterOptions, ctx);
    const decoder = new DbcDecoder((await loadDbc('manifests/cea.dbc')).dbc);
    const seen: Array<{ name: string; values: Record<string, number> }> = [];
    handle.instance.onFrame((f) => {
      const r = decoder.decode(f);
      if (r.ok) seen.push({ name: r.message.name, values: r.values });
    });
    try {
      await fake.advance(3000);
      const psychro = seen.filter((m) => m.name === 'FlowerBack_Psychro').at(-1)!.values;
      assert.ok(Math.abs(psychro.DryBulb - 24) < 0.01 && Math.abs(psychro.WetBulb - 20) < 0.01, JSON.stringify(psychro));
      const pages = seen.filter((m) => m.name === 'FlowerBack_SCD30').map((m) => m.values);
      assert.deepEqual(pages.map((v) => v.Channel).sort(), [0, 1, 2], 'one page a second');
      const co2 = pages.find((v) => v.Channel === 0)!.CO2;
      assert.ok(co2 >= 400 && co2 <= 1500, `CO2 ${co2}`);
      const temp = pages.find((v) => v.Channel === 1)!.Temperature;
      assert.ok(Math.abs(temp - 24) < 0.01, `the SCD30 temperature (a float32 signal) echoes the dry bulb: ${temp}`);
      assert.equal(seen.filter((m) => m.name === 'FlowerFront_Env').at(-1)!.values.Pressure, 300, 'an unlisted signal holds its DBC minimum');
      await fake.advance(600_000);
      const at = seen.length;
      await fake.advance(30_000);
      assert.equal(seen.slice(at).filter((m) => m.name === 'Veg_Psychro').length, 0, 'the veg box is silent from 600 s');
      assert.ok(seen.slice(at).some((m) => m.name === 'Veg_Env'), 'its other messages go on');
    } finally {
      await handle.close();
      await world.close();
    }
  });

  test('profile checks: a CAN profile names its DBC; signals and FINS addresses stay in their own protocols', () => {
    assert.throws(() => checkProfile({ name: 'x', protocol: 'can', points: [{ name: 'a', signal: 'M.S', type: 'uint16' }] }), (e: unknown) => {
      assert.ok(e instanceof ProfileError);
      assert.deepEqual(e.problems, ["points[0].type: a CAN signal's encoding is in the DBC", 'can.dbc: a CAN profile names the DBC it plays']);
      return true;
    });
    assert.throws(() => checkProfile({ name: 'x', protocol: 'modbus', points: [{ name: 'a', signal: 'M.S' }, { name: 'b', fins: 'D0' }] }), (e: unknown) => {
      assert.ok(e instanceof ProfileError);
      assert.deepEqual(e.problems, ['points[0].signal: a CAN signal in a modbus profile', 'points[1].fins: a FINS address in a modbus profile']);
      return true;
    });
  });

  test('validate reports a bad CAN profile shape with its manifest path', async () => {
    const { plugins, adapters } = await catalog();
    const bad = manifest(dbc, { name: 'bad', protocol: 'can', can: { dbc, messages: { Climate: { faults: [{ kind: 'explode', atS: 1 }] } } }, points: [{ name: 'a', signal: 'Climate:DryBulb' }] });
    assert.throws(() => parseManifest(JSON.stringify(bad), 'bad.json', { plugins, adapters, env: {} }), (e: Error) => {
      assert.match(e.message, /adapters\[0\]\.options\.sim\.profile\.can\.messages\.Climate\.faults\[0\]\.kind: must be one of: silent, bus-off/);
      assert.match(e.message, /adapters\[0\]\.options\.sim\.profile\.points\[0\]\.signal: must match pattern/);
      return true;
    });
  });
});
