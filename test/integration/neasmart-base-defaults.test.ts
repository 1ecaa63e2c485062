// The simulated Neasmart base fills in zones the gateway holds nothing for: on a fresh register file
// every zone gets its room unit's state and setpoint (normal, 21 °C unless the manifest names one),
// a setpoint the gateway holds is kept and followed, and a zeroed register gets the last one back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { memoryLog } from '../../core/log.ts';
import { ModbusTcpServer, RegisterBank } from '../../sim/modbus-server.ts';
import { NeasmartBaseSimulator } from '../../sim/neasmart-base.ts';
import { decodeDpt9, encodeDpt9 } from '../../plugins/neasmart/dpt9001.ts';
import { ZONE, zoneAddress } from '../../plugins/neasmart/registers.ts';

const bank = new RegisterBank({ holding: 6100 });
const server = new ModbusTcpServer({ host: '127.0.0.1', port: 0, units: new Map([[240, bank]]) });
let base: NeasmartBaseSimulator;
const zone = (z: number) => {
  const a = zoneAddress(1, z);
  return { state: bank.holding[a + ZONE.state], setpoint: decodeDpt9(bank.holding[a + ZONE.setpoint]) };
};

before(async () => {
  await server.start();
  base = new NeasmartBaseSimulator({
    host: '127.0.0.1', port: server.port, unit: 240, pollMs: 1000, timeScale: 60, broadcastEvery: 0, outside: { mean: 5, amplitude: 0 },
    zones: [{ base: 1, zone: 1, setpoint: 22.5 }, { base: 1, zone: 2 }, { base: 1, zone: 3 }, { base: 1, zone: 4, state: 2, setpoint: 19 }],
    clock: new FakeClock(), log: memoryLog('silent').root.logger('base'),
  });
});
after(async () => {
  await base.stop();
  await server.stop();
});

test('a fresh register file: every zone gets its room unit\'s state and setpoint, none stays at 0 °C', async () => {
  await base.cycle();
  assert.deepEqual([1, 2, 3, 4].map(zone), [
    { state: 1, setpoint: 22.5 },
    { state: 1, setpoint: 21 },
    { state: 1, setpoint: 21 },
    { state: 2, setpoint: 19 },
  ]);
  assert.equal(base.model.target(base.model.zone(1, 2)), 21, 'the zone heats toward its setpoint, not free-floating');
});

test('a setpoint the gateway holds is kept and followed; a zeroed one gets the last known back', async () => {
  const a = zoneAddress(1, 3);
  bank.holding[a + ZONE.setpoint] = encodeDpt9(24);
  await base.cycle();
  assert.deepEqual(zone(3), { state: 1, setpoint: 24 });
  assert.equal(base.model.zone(1, 3).setpoint, 24);
  bank.holding.fill(0, a, a + 2); // the gateway restarted with its command registers zeroed
  await base.cycle();
  assert.deepEqual(zone(3), { state: 1, setpoint: 24 });
});
