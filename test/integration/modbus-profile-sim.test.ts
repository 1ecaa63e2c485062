// The generic Modbus profile simulator on loopback TCP, playing manifests/energy-meter.profile.json
// on a FakeClock: values on the wire through the production client, writes taken, and every fault
// seen on the wire (power cycle clears, hang keeps the socket silent, slow delays, exception codes).
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, settle } from '../../core/clock-fake.ts';
import { SerialModbusClient } from '../../adapters/modbus/client.ts';
import { ModbusExceptionError } from '../../adapters/modbus/types.ts';
import { resolveProfile } from '../../sim/profiles/load.ts';
import { ModbusProfileDevice } from '../../sim/profiles/modbus-device.ts';
import { RawModbus } from '../helpers/modbus-raw.ts';
import { eventually } from '../helpers/eventually.ts';

const float = (hi: number, lo: number) => {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint16(0, hi);
  v.setUint16(2, lo);
  return v.getFloat32(0);
};
const words = (x: number) => {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x);
  return [v.getUint16(0), v.getUint16(2)];
};
/** FC4 read of two input registers as a request PDU. */
const readIr = (address: number, count = 2) => [4, address >> 8, address & 0xff, 0, count];

describe('Modbus profile simulator (energy meter)', () => {
  let clock: FakeClock;
  let device: ModbusProfileDevice;
  let client: SerialModbusClient;
  const raws: RawModbus[] = [];
  const raw = async () => {
    const r = await RawModbus.connect(device.host, device.port);
    raws.push(r);
    return r;
  };
  const reading = async (address: number) => {
    const [hi, lo] = await client.readRegisters('input', 1, address, 2);
    return float(hi, lo);
  };

  before(async () => {
    clock = new FakeClock();
    device = new ModbusProfileDevice({ profile: await resolveProfile('manifests/energy-meter.profile.json'), clock });
    await device.start();
    client = new SerialModbusClient({ transport: 'tcp', host: device.host, port: device.port, timeoutMs: 1000 }, clock);
  });
  afterEach(async () => {
    for (const r of raws.splice(0)) r.close();
    await device.faults.recover();
  });
  after(async () => {
    await client.close();
    await device.close();
  });

  test('float32 input registers carry the profile values and move with the clock', async () => {
    assert.equal(await reading(0), 230);
    assert.equal(await reading(70), 50);
    const e0 = await reading(72);
    assert.equal(e0, Math.fround(1234.5));
    await clock.advance(60_000);
    const v1 = await reading(0);
    assert.ok(v1 !== 230 && v1 >= 225 && v1 <= 236, `voltage ${v1}`);
    const f = await reading(70);
    assert.ok(f >= 49.9 && f <= 50.1 && f !== 50, `frequency ${f}`);
    const p = await reading(52);
    assert.ok(Math.abs(p - device.value('p_total')) < 0.01, 'power on the wire is the device value');
    // ~9.2 kW for one minute is ~0.15 kWh.
    const e1 = await reading(72);
    assert.ok(e1 - e0 > 0.1 && e1 - e0 < 0.25, `energy moved by ${e1 - e0}`);
  });

  test('a write to an echo register is kept; reads of the refused block answer exception 2', async () => {
    await client.writeRegisters(1, 0, words(15000));
    await clock.advance(1000);
    assert.equal(device.value('demand_limit'), 15000);
    const [hi, lo] = await client.readRegisters('holding', 1, 0, 2);
    assert.equal(float(hi, lo), 15000);
    await assert.rejects(client.readRegisters('input', 1, 100, 2), (e: Error) => e instanceof ModbusExceptionError && e.code === 2);
    const r = await raw();
    r.send(1, readIr(120));
    await eventually('exception reply', 2000, () => r.responses().length === 1);
    assert.deepEqual(r.responses()[0], [0x84, 2]);
  });

  test('faults.exception: the injected code is answered on the wire until recover()', async () => {
    device.faults.exception(4, { address: 6 });
    assert.equal(device.faults.state().exceptions, 1);
    const r = await raw();
    r.send(1, readIr(6));
    r.send(1, readIr(0));
    await eventually('two replies', 2000, () => r.responses().length === 2);
    assert.deepEqual(r.responses()[0], [0x84, 4]);
    assert.equal(r.responses()[1][0], 4, 'another address still answers');
    await device.faults.recover();
    r.send(1, readIr(6));
    await eventually('third reply', 2000, () => r.responses().length === 3);
    assert.equal(r.responses()[2][0], 4);
  });

  test('faults.hang: the request is taken, nothing comes back, the socket stays open', async () => {
    const r = await raw();
    device.faults.hang();
    const seen = device.server.requestCount;
    r.send(1, readIr(0));
    await eventually('the device received the request', 2000, () => device.server.requestCount > seen);
    await clock.advance(120_000);
    await settle();
    assert.deepEqual(r.responses(), []);
    assert.equal(r.closed, false);
    assert.deepEqual(device.faults.state(), { offline: false, hung: true, slowMs: 0, exceptions: 0 });
    await device.faults.recover();
    r.send(1, readIr(0));
    await eventually('an answer after recover', 2000, () => r.responses().length === 1);
  });

  test('faults.slow: the answer waits exactly the given time of the injected clock', async () => {
    const r = await raw();
    device.faults.slow(500);
    const seen = device.server.requestCount;
    r.send(1, readIr(70));
    await eventually('received', 2000, () => device.server.requestCount > seen);
    await clock.advance(499);
    assert.deepEqual(r.responses(), []);
    await clock.advance(1);
    await eventually('the delayed answer', 2000, () => r.responses().length === 1);
    assert.equal(r.responses()[0][0], 4);
  });

  test('faults.powerCycle: connections dropped, memory back to the initial values (or zero)', async () => {
    await client.writeRegisters(1, 0, words(111));
    await client.writeRegisters(1, 10, [77]);
    await clock.advance(30_000);
    const r = await raw();
    const before = device.restarts;
    const cycling = device.faults.powerCycle({ offMs: 2000 });
    await eventually('the old connection closed', 2000, () => r.closed);
    await assert.rejects(RawModbus.connect(device.host, device.port), /ECONNREFUSED/, 'off while the power is off');
    await clock.advance(2000);
    await cycling;
    // A new session, as the gateway opens after a power cycle (its reconnect logic is tested elsewhere).
    await client.close();
    client = new SerialModbusClient({ transport: 'tcp', host: device.host, port: device.port, timeoutMs: 1000 }, clock);
    assert.equal(device.restarts, before + 1);
    const [hi, lo] = await client.readRegisters('holding', 1, 0, 2);
    assert.equal(float(hi, lo), 20000, 'echo register back to its initial value');
    assert.deepEqual(await client.readRegisters('holding', 1, 10, 1), [0], 'plain memory cleared');
    assert.equal(await reading(72), Math.fround(1234.5), 'the counter restarts from its initial value');

    await device.faults.powerCycle({ memory: 'zero' });
    await client.close();
    client = new SerialModbusClient({ transport: 'tcp', host: device.host, port: device.port, timeoutMs: 1000 }, clock);
    const [h2, l2] = await client.readRegisters('holding', 1, 0, 2);
    assert.equal(float(h2, l2), 0);
    assert.equal(await reading(72), 0);
    await clock.advance(200);
    assert.equal(await reading(0), 225, 'a random walk from 0 is held at its minimum');
  });

  test('faults.offline refuses connections; recover() brings the device back on the same port', async () => {
    const port = device.port;
    await device.faults.offline();
    assert.equal(device.faults.state().offline, true);
    await assert.rejects(RawModbus.connect(device.host, port), /ECONNREFUSED/);
    await device.faults.recover();
    assert.equal(device.port, port);
    const r = await raw();
    r.send(1, readIr(0));
    await eventually('answer', 2000, () => r.responses().length === 1);
  });
});
