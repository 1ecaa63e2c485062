// The `fins` adapter's sim driver with a device profile instead of the mixing line's CJ2M: points at
// Omron addresses (DM words, 32-bit values, CIO/W bits, H) served by the FINS/UDP server and read and
// written by the production client, behaviours on a FakeClock, and the common fault hooks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { SimWorld } from '../../core/sim-world.ts';
import { memoryLog } from '../../core/log.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import type { AdapterContext, AdapterHandle } from '../../core/plugin.ts';
import { type FinsClient, FinsEndCodeError, FinsLinkError } from '../../adapters/fins/types.ts';
import type { DeviceFaults } from '../../sim/profiles/faults.ts';
import type { FinsProfileDevice } from '../../sim/profiles/fins-device.ts';
import type { Cj2mSimulator } from '../../sim/cj2m.ts';
import { checkProfile, ProfileError } from '../../sim/profiles/load.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { eventually } from '../helpers/eventually.ts';

const PROFILE = {
  name: 'oven',
  protocol: 'fins',
  tickMs: 500,
  points: [
    { name: 'temp', fins: 'D100', initial: 90, scale: 0.1, behaviour: { kind: 'ramp', rate: 1 } },
    { name: 'setpoint', fins: 'D101', initial: 120 },
    { name: 'parts', fins: 'D102', type: 'uint32', initial: 70000, behaviour: { kind: 'counter', rate: 0.5 } },
    { name: 'power', fins: 'H10', type: 'float32', wordOrder: 'little', initial: 2.5, behaviour: { kind: 'constant' } },
    { name: 'hot', fins: 'W3.04', behaviour: { kind: 'formula', expr: 'temp >= 100' } },
    { name: 'heater', fins: 'CIO0.01', behaviour: { kind: 'formula', expr: 'temp < setpoint' } },
  ],
};
const OPTIONS = {
  port: 9600, plcNetwork: 0, plcNode: 2, plcUnit: 0, localNetwork: 0, localNode: 1, localPort: 0, timeoutMs: 200, retries: 0, onReplyLimit: () => {},
};

describe('FINS profile simulator through the fins adapter', () => {
  const clock = new FakeClock();
  const world = new SimWorld();
  const { root } = memoryLog('silent');
  const ctx = (id: string) => ({ id, log: root.logger(`adapter:${id}`), clock, world, metrics: new MetricsRegistry() }) as unknown as AdapterContext;
  let handle: AdapterHandle<FinsClient>;
  let fins: FinsClient;
  let device: FinsProfileDevice;
  let faults: DeviceFaults;

  before(async () => {
    const { default: adapter } = await import('../../adapters/fins/adapter.ts');
    handle = await adapter.sim({ ...OPTIONS, sim: { port: 0, timeScale: 1, mixingMs: 60000, profile: PROFILE } }, ctx('oven'));
    fins = handle.instance;
    device = world.require<FinsProfileDevice>('sim:oven');
    faults = world.require<DeviceFaults>('faults:oven');
  });
  after(async () => {
    await handle.close();
    await world.close();
  });

  /** Resolves once `n` more timers are armed on the clock (the client's deadline, the server's delay): a request is in flight. */
  const armed = async (n: number, start: () => void) => {
    const base = clock.pendingTimers();
    start();
    await eventually(`${n} more timer(s) armed`, 5000, () => clock.pendingTimers() >= base + n);
  };

  const power = async () => {
    const [lo, hi] = await fins.readWords('H', 10, 2);
    const v = new DataView(new ArrayBuffer(4));
    v.setUint16(0, hi);
    v.setUint16(2, lo);
    return v.getFloat32(0);
  };

  test('values at their FINS addresses move with the clock; bits follow formulas', async () => {
    assert.deepEqual(await fins.readWords('DM', 100, 4), [900, 120, 1, 70000 - 65536]);
    assert.equal(await power(), 2.5);
    assert.deepEqual(await fins.readBits('W', 3, 4, 1), [false]);
    assert.deepEqual(await fins.readBits('CIO', 0, 1, 1), [true]);
    await clock.advance(20_000);
    assert.deepEqual(await fins.readWords('DM', 100, 4), [1100, 120, 1, 70010 - 65536]);
    assert.deepEqual(await fins.readBits('W', 3, 4, 1), [true]);
    assert.deepEqual(await fins.readMany([{ area: 'DM', address: 101 }, { area: 'W', address: 3 }]), [120, 1 << 4]);
    assert.equal(world.has('faults:oven'), true);
  });

  test('a client write lands in the echo point and drives the formulas', async () => {
    await fins.writeWords('DM', 101, [105]);
    assert.equal(device.value('setpoint'), 105);
    await clock.advance(500);
    assert.deepEqual(await fins.readBits('CIO', 0, 1, 1), [false], 'temp is above the new setpoint');
    await fins.writeWords('DM', 500, [1234]);
    assert.deepEqual(await fins.readWords('DM', 500, 1), [1234], 'memory outside the points keeps what is written');
  });

  test('an injected end code refuses matching requests; recover clears it', async () => {
    faults.exception(0x2101, { area: 'DM', address: 101 });
    await assert.rejects(fins.readWords('DM', 100, 2), (e: unknown) => e instanceof FinsEndCodeError && e.endCode === 0x2101);
    assert.equal((await fins.readWords('H', 10, 2)).length, 2, 'other areas answer');
    assert.equal(faults.state().exceptions, 1);
    await faults.recover();
    assert.deepEqual(await fins.readWords('DM', 101, 1), [105]);
  });

  test('a power cycle clears memory and brings the points back to their initial values', async () => {
    const cycle = faults.powerCycle({ offMs: 1000 });
    await clock.advance(1000);
    await cycle;
    assert.equal(device.restarts, 1);
    assert.deepEqual(await fins.readWords('DM', 500, 1), [0], 'the word written before is gone');
    assert.deepEqual(await fins.readWords('DM', 100, 2), [900, 120], 'points at their initial values, time restarted');
    await faults.powerCycle({ memory: 'zero' });
    assert.deepEqual(await fins.readWords('DM', 101, 1), [0], 'an echo point restarts from 0 with memory "zero"');
    assert.deepEqual(await fins.readWords('DM', 100, 1), [900], 'a computed point is recomputed at once');
  });

  test('offline: the client times out; recover: it answers again on the same port', async () => {
    const port = device.port;
    await faults.offline();
    assert.equal(faults.state().offline, true);
    let failed!: Promise<void>;
    await armed(1, () => {
      failed = assert.rejects(fins.readWords('DM', 100, 1), (e: unknown) => e instanceof FinsLinkError && e.kind === 'timeout' && /no answer within 200 ms/.test(e.message));
    });
    await clock.advance(250);
    await failed;
    await faults.recover();
    assert.equal(device.port, port);
    assert.deepEqual(await fins.readWords('DM', 100, 1), [900]);
  });

  test('hang: requests are read and never answered; slow: answers wait on the injected clock', async () => {
    faults.hang();
    let hung!: Promise<void>;
    await armed(1, () => {
      hung = assert.rejects(fins.readWords('DM', 100, 1), (e: unknown) => e instanceof FinsLinkError && e.kind === 'timeout');
    });
    await eventually('the hung device read the request', 5000, () => device.server.requests.at(-1)?.dropped === true);
    await clock.advance(250);
    await hung;
    await faults.recover();
    faults.slow(100);
    let slow!: Promise<number[]>;
    await armed(2, () => {
      slow = fins.readWords('DM', 101, 1);
    });
    await clock.advance(100);
    assert.deepEqual(await slow, [0]);
    assert.deepEqual(faults.state(), { offline: false, hung: false, slowMs: 100, exceptions: 0 });
    await faults.recover();
  });

  test('without a profile the adapter still plays the CJ2M mixing line, with faults:<id> hooks', async () => {
    const { default: adapter } = await import('../../adapters/fins/adapter.ts');
    const h = await adapter.sim({ ...OPTIONS, sim: { port: 0, timeScale: 1, mixingMs: 60000 } }, ctx('cj2m'));
    try {
      const plc = world.require<Cj2mSimulator>('sim:cj2m');
      const cj2mFaults = world.require<DeviceFaults>('faults:cj2m');
      await h.instance.writeWords('DM', 6000, [7]);
      assert.deepEqual(plc.read('DM', 6000, 1), [7]);
      await cj2mFaults.powerCycle();
      assert.deepEqual(await h.instance.readWords('DM', 6000, 1), [7], 'DM is battery-backed');
      await cj2mFaults.powerCycle({ memory: 'zero' });
      assert.deepEqual(await h.instance.readWords('DM', 6000, 1), [0]);
    } finally {
      await h.close();
    }
  });

  test('FINS profile checks: addresses parse, overlap is refused, bit addresses are bool', () => {
    assert.throws(() => checkProfile({ name: 'x', protocol: 'fins', points: [
      { name: 'a', fins: 'D10', type: 'int32' },
      { name: 'b', fins: 'D11' },
      { name: 'c', fins: 'W3.04', type: 'uint16' },
      { name: 'd', fins: 'W4.01' },
      { name: 'e', fins: 'W4' },
      { name: 'f', fins: 'D32767', type: 'float32' },
      { name: 'g', fins: 'W5.16' },
    ] }), (e: unknown) => {
      assert.ok(e instanceof ProfileError);
      assert.deepEqual(e.problems, [
        'points[1].fins: D11 overlaps points[0] (a)',
        'points[2].type: W3.04 is a bit; its type is bool',
        'points[4].fins: W4 overlaps points[3] (d)',
        'points[5].fins: D32767 (2 words) is past the end of DM (32768 words on a CJ2M)',
        'points[6].fins: "W5.16": bit 16 is not 0..15',
      ]);
      return true;
    });
  });

  test('a manifest with a FINS profile: validated (defaults filled), its adapter entry opened in sim mode, read by the client', async () => {
    const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
    const text = JSON.stringify({
      name: 'fins-profile',
      adapters: [{ id: 'oven2', kind: 'fins', driver: 'real', options: { host: '${PLC_HOST:-192.168.250.1}', timeoutMs: 200, retries: 0, sim: { profile: PROFILE } } }],
      plugins: [],
    });
    const { manifest } = parseManifest(text, 'fins-profile.json', { plugins, adapters, env: {} });
    const entry = manifest.adapters[0];
    const { default: adapter } = await import('../../adapters/fins/adapter.ts');
    const h = await adapter.sim(entry.options as Parameters<typeof adapter.sim>[0], ctx(entry.id));
    try {
      assert.equal((entry.options as { port: number }).port, 9600, 'defaults filled by validation');
      assert.notEqual(world.require<FinsProfileDevice>('sim:oven2'), device, 'a device of its own');
      assert.deepEqual(await h.instance.readWords('DM', 100, 2), [900, 120]);
      await clock.advance(5000);
      assert.deepEqual(await h.instance.readWords('DM', 100, 2), [950, 120], 'the ramp moves on the clock');
    } finally {
      await h.close();
    }
  });

  test('validate reports a bad inline FINS profile with its manifest path', async () => {
    const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
    const manifest = {
      name: 'bad-fins-profile',
      adapters: [{ id: 'plc', kind: 'fins', driver: 'sim', options: { sim: { profile: { name: 'b', protocol: 'fins', points: [{ name: 'a', fins: 'E100' }] } } } }],
      plugins: [],
    };
    assert.throws(() => parseManifest(JSON.stringify(manifest), 'bad.json', { plugins, adapters, env: {} }),
      (e: Error) => /adapters\[0\]\.options\.sim\.profile\.points\[0\]\.fins: must match pattern/.test(e.message));
  });
});
