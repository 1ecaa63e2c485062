// The `modbus` and `http` adapters' sim drivers choose their device by profile: without one they
// still play the seed devices (NJ301, ESP32 relay) as named behaviours, whose common fault hooks
// (`faults:<id>`) work like a profile device's; a bad profile fails naming adapter, file and path.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { Bus } from '../../core/bus.ts';
import { HealthModel } from '../../core/health.ts';
import { memoryLog } from '../../core/log.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { SimWorld } from '../../core/sim-world.ts';
import type { AdapterContext } from '../../core/plugin.ts';
import modbusAdapter from '../../adapters/modbus/adapter.ts';
import httpAdapter from '../../adapters/http/adapter.ts';
import s7Adapter from '../../adapters/s7/adapter.ts';
import canAdapter from '../../adapters/can/adapter.ts';
import type { CanChannel } from '../../adapters/can/types.ts';
import { NJ301_MAP, type Nj301Simulator } from '../../sim/nj301.ts';
import type { Esp32RelaySimulator } from '../../sim/esp32-relay.ts';
import type { DeviceFaults } from '../../sim/profiles/faults.ts';
import type { ModbusClient } from '../../adapters/modbus/types.ts';
import type { HttpDevice } from '../../adapters/http/types.ts';
import { ModbusExceptionError } from '../../adapters/modbus/types.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';

const world = new SimWorld();
const clock = new FakeClock();
const ctx = (id: string): AdapterContext => ({ id, log: memoryLog('silent').root.logger(`adapter:${id}`), clock, bus: new Bus(), metrics: new MetricsRegistry(), health: new HealthModel({ clock }), world });
const SIM = { port: 0, unit: 1, timeScale: 1, taskMs: 40, plant: 'lab' };
const MODBUS = { transport: 'tcp', port: 502, timeoutMs: 1000, baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 } as const;

describe('adapters pick their simulated device by profile', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers) await c();
    await world.close();
  });

  test('modbus without a profile is the lab NJ301; its faults:<id> hooks power-cycle it to its defaults', async () => {
    const h = await modbusAdapter.sim({ ...MODBUS, sim: SIM }, ctx('plc'));
    closers.push(() => h.close());
    const plc = world.require<Nj301Simulator>('sim:plc');
    const faults = world.require<DeviceFaults>('faults:plc');
    const link: ModbusClient = h.instance;
    await link.writeRegisters(1, NJ301_MAP.mode, [0]);
    assert.equal(plc.register(NJ301_MAP.mode), 0);
    faults.exception(4, { address: NJ301_MAP.setpoint });
    await assert.rejects(link.readRegisters('holding', 1, NJ301_MAP.setpoint, 2), (e: Error) => e instanceof ModbusExceptionError && e.code === 4);
    faults.hang();
    faults.slow(200);
    assert.deepEqual(faults.state(), { offline: false, hung: true, slowMs: 200, exceptions: 1 });
    await faults.powerCycle({ memory: 'initial' });
    assert.deepEqual(faults.state(), { offline: false, hung: false, slowMs: 0, exceptions: 0 });
    assert.equal(plc.register(NJ301_MAP.mode), 1, 'back to the program default (auto)');
    assert.equal(plc.real(NJ301_MAP.setpoint), 25);
    await faults.powerCycle({ memory: 'zero' });
    assert.equal(plc.real(NJ301_MAP.setpoint), 0);
  });

  test('s7 without a profile is the production line, the built-in "production-line" named behaviour; the client reads its counters', async () => {
    const base = { port: 102, rack: 0, slot: 1, timeoutMs: 1000, reconnect: { initialMs: 100, maxMs: 1000 }, breaker: { failureThreshold: 3, openMs: 1000 } };
    const sim = { port: 0, dbs: { 1: 256 }, line: 'pl', timeScale: 1, seed: 7 };
    const h = await s7Adapter.sim({ ...base, sim: { ...sim, profile: 'production-line' } }, ctx('line-plc'));
    closers.push(() => h.close());
    assert.ok(world.get('line:pl', () => null), 'the production line model runs in the sim world');
    const values = await h.instance.read(['DB1,DINT4', 'DB1,REAL0']);
    assert.equal(typeof values['DB1,DINT4'], 'number');
    await assert.rejects(s7Adapter.sim({ ...base, sim: { ...sim, port: 0, profile: { name: 'x', protocol: 's7', behaviour: 'bottling-line' } } }, ctx('bad-s7')),
      /s7 adapter "bad-s7": profile "x" names the behaviour "bottling-line", which does not exist \(known: production-line\)/);
  });

  test('can without a profile is the greenhouse, the built-in "greenhouse" named behaviour; an unknown behaviour is named', async () => {
    const sim = { periodMs: 100, timeScale: 60, seed: 1, dbc: '', defaultCycleMs: 1000 };
    const h = await canAdapter.sim({ source: 'sim', interface: 'can0', sim } as never, ctx('canbus'));
    closers.push(() => h.close());
    const channel = h.instance as CanChannel;
    const ids = new Set<number>();
    channel.onFrame((f) => ids.add(f.id));
    for (let i = 0; i < 5 && ids.size === 0; i++) await clock.advance(200);
    assert.ok(ids.size > 0, 'the greenhouse boxes send frames');
    assert.ok(world.get('sim:canbus', () => null), 'reachable as sim:<id> for the scenario runner');
    await assert.rejects(canAdapter.sim({ source: 'sim', interface: 'can0', sim: { ...sim, profile: { name: 'y', protocol: 'can', behaviour: 'orchard' } } } as never, ctx('bad-can')),
      /can adapter "bad-can": profile "y" names the behaviour "orchard", which does not exist \(known: greenhouse\)/);
  });

  test('http without a profile is the ESP32 lab relay; faults:<id> takes it offline and back', async () => {
    const h = await httpAdapter.sim({ sim: { device: 'esp32-lab', port: 0, timeScale: 1 } }, ctx('relay'));
    closers.push(() => h.close());
    const relay = world.require<Esp32RelaySimulator>('sim:relay');
    const faults = world.require<DeviceFaults>('faults:relay');
    const device: HttpDevice = h.instance;
    assert.equal(typeof (await device.json<{ relay: unknown }>({ path: '/status' })), 'object');
    await faults.offline();
    assert.equal(relay.offline, true);
    await assert.rejects(device.json({ path: '/status' }));
    faults.exception(500);
    assert.throws(() => faults.exception(503), /can only answer 500, not 503/);
    await faults.recover();
    assert.deepEqual(faults.state(), { offline: false, hung: false, slowMs: 0, exceptions: 0 });
    await device.json({ path: '/status' });
  });

  test('a named built-in (modbus-memory) and an inline profile; protocol and path errors name the adapter', async () => {
    const h = await modbusAdapter.sim({ ...MODBUS, sim: { ...SIM, profile: 'modbus-memory' } }, ctx('mem'));
    closers.push(() => h.close());
    await h.instance.writeRegisters(1, 1000, [1, 2, 3]);
    assert.deepEqual(await h.instance.readRegisters('holding', 1, 1000, 3), [1, 2, 3]);

    await assert.rejects(modbusAdapter.sim({ ...MODBUS, sim: { ...SIM, profile: 'esp32-lab' } }, ctx('bad1')),
      /modbus adapter "bad1": options\.sim\.profile: device profile built-in profile "esp32-lab" is invalid:\n {2}protocol: is "http" but this adapter speaks modbus/);
    await assert.rejects(modbusAdapter.sim({ ...MODBUS, sim: { ...SIM, profile: { name: 'x', protocol: 'modbus', points: [{ name: 'a', table: 'holding', address: 70000 }] } } }, ctx('bad2')),
      /modbus adapter "bad2": options\.sim\.profile: device profile inline profile is invalid:\n {2}points\[0\]\.address: must be <= 65535/);
    await assert.rejects(httpAdapter.sim({ sim: { device: 'esp32-lab', port: 0, timeScale: 1, profile: { name: 'x', protocol: 'http', behaviour: 'nope' } } }, ctx('bad3')),
      /http adapter "bad3": profile "x" names the behaviour "nope", which does not exist \(known: esp32-relay\)/);
    assert.equal(world.has('sim:bad1') || world.has('sim:bad2') || world.has('sim:bad3'), false, 'nothing half-started');
  });

  test('validate reports an inline profile\'s errors with their manifest paths', async () => {
    const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
    const manifest = {
      name: 'bad-profile',
      adapters: [{ id: 'm', kind: 'modbus', driver: 'real', options: { host: 'x', sim: { profile: { name: 'b', protocol: 'modbus', points: [{ name: 'a', table: 'holding', address: 0, type: 'float64' }] } } } }],
      plugins: [{ id: 'p', use: 'modbus-bridge', adapters: { link: 'm' }, config: { map: [{ key: 'a', table: 'holding', address: 0 }] } }],
    };
    assert.throws(() => parseManifest(JSON.stringify(manifest), 'bad.json', { plugins, adapters, env: {} }),
      (e: Error) => /adapters\[0\]\.options\.sim\.profile\.points\[0\]\.type: must be one of: bool, int16/.test(e.message));
  });
});
