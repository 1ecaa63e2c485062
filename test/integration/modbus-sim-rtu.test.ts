// `transport: "rtu"` under --sim: the modbus adapter's RTU master talks to the simulated device over a
// simulated serial line at the manifest's baud rate, on the runtime clock (no pty, no kernel: both
// runtimes). The device keeps its faults: offline is silence on the line, power cycle clears memory.
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
import { ModbusLinkError, type ModbusClient } from '../../adapters/modbus/types.ts';
import type { DeviceFaults } from '../../sim/profiles/faults.ts';
import { NJ301_MAP, type Nj301Simulator } from '../../sim/nj301.ts';
import { repoRoot } from '../helpers/spawn.ts';

const world = new SimWorld();
const clock = new FakeClock(Date.UTC(2026, 0, 1));
const ctx = (id: string): AdapterContext => ({ id, log: memoryLog('silent').root.logger(`adapter:${id}`), clock, bus: new Bus(), metrics: new MetricsRegistry(), health: new HealthModel({ clock }), world });
const RTU = { transport: 'rtu', path: '/dev/ttyUSB0', port: 502, timeoutMs: 500, baudRate: 9600, parity: 'even', dataBits: 8, stopBits: 1 } as const;
const SIM = { port: 0, unit: 1, timeScale: 1, taskMs: 40, plant: 'lab' };

/** Moves the clock 1 ms at a time until `p` settles: the line's bytes and the timeouts run on it. */
async function driven<T>(p: Promise<T>): Promise<T> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 20_000 && !done; i++) await clock.advance(1);
  return p;
}

const float32 = (words: number[]) => new DataView(Uint16Array.from(words).reverse().buffer).getFloat32(0, true);

describe('modbus adapter, transport rtu, on its simulator', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers) await c();
    await world.close();
  });

  test('an energy-meter profile answers the RTU master over a 9600-baud line, taking the line\'s time', async () => {
    const h = await modbusAdapter.sim({ ...RTU, sim: { ...SIM, profile: `${repoRoot}/manifests/energy-meter.profile.json` } }, ctx('meter'));
    closers.push(() => h.close());
    const link: ModbusClient = h.instance;
    const t0 = clock.monotonic();
    const words = await driven(link.readRegisters('input', 1, 70, 2));
    const took = clock.monotonic() - t0;
    assert.ok(Math.abs(float32(words) - 50) < 0.1, `supply frequency ${float32(words)} Hz, about 50`);
    // 8-byte request + 9-byte reply, 11 bits per character (8E1) at 9600 baud: 19.5 ms on the wire at least.
    assert.ok(took >= 19, `the exchange took ${took} ms of line time`);
    assert.ok(took < 100, `and not much more (${took} ms)`);
  });

  test('the lab NJ301 by default: a write reads back; offline is silence (a timeout), recover answers again', async () => {
    const h = await modbusAdapter.sim({ ...RTU, sim: SIM }, ctx('plc'));
    closers.push(() => h.close());
    const link: ModbusClient = h.instance;
    const plc = world.require<Nj301Simulator>('sim:plc');
    const faults = world.require<DeviceFaults>('faults:plc');
    await driven(link.writeRegisters(1, NJ301_MAP.mode, [0]));
    assert.equal(plc.register(NJ301_MAP.mode), 0, 'the register on the device');
    assert.deepEqual(await driven(link.readRegisters('holding', 1, NJ301_MAP.mode, 1)), [0]);

    await faults.offline();
    await assert.rejects(driven(link.readRegisters('holding', 1, NJ301_MAP.mode, 1)), (err: Error) => {
      assert.ok(err instanceof ModbusLinkError, String(err));
      assert.match(err.message, /modbus rtu sim:plc@9600: timed out after 500 ms reading HR \d+ from unit 1/);
      return true;
    });
    await faults.recover();
    assert.deepEqual(await driven(link.readRegisters('holding', 1, NJ301_MAP.mode, 1)), [0]);

    await faults.powerCycle({ memory: 'zero' });
    assert.equal(plc.real(NJ301_MAP.setpoint), 0, 'memory cleared by the power cycle');
    assert.deepEqual(await driven(link.readRegisters('holding', 1, NJ301_MAP.setpoint, 2)), [0, 0], 'and the master reads the cleared memory');
  });
});
