// Conformance of our Modbus RTU master (adapters/modbus/rtu-client.ts on the libc FFI serial line)
// with a slave we did not write: Debian's python3-pymodbus on a socat pty pair, through the `modbus`
// adapter with `backend: "auto"`, on Node (koffi) and on Deno (Deno.dlopen). Every function code
// the client uses, read back from the slave's own memory; an illegal address is exception 2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../core/clock.ts';
import { Bus } from '../../core/bus.ts';
import { HealthModel } from '../../core/health.ts';
import { memoryLog } from '../../core/log.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { SimWorld } from '../../core/sim-world.ts';
import { libcLoadError } from '../../adapters/ffi/libc.ts';
import modbusAdapter from '../../adapters/modbus/adapter.ts';
import { RtuModbusClient } from '../../adapters/modbus/rtu-client.ts';
import { type ModbusClient, ModbusExceptionError, ModbusLinkError } from '../../adapters/modbus/types.ts';
import { type PymodbusRtuSlave, pymodbusRtuSkip, startPymodbusRtuSlave } from '../helpers/pymodbus-rtu.ts';

const ffiError = await libcLoadError();
const skip = pymodbusRtuSkip || (ffiError ? `libc FFI does not load here: ${ffiError.message}` : false);

describe('RTU master against pymodbus as RTU slave (socat pty pair)', { skip }, () => {
  let slave: PymodbusRtuSlave;
  let client: ModbusClient;
  let close: () => Promise<void>;

  before(async () => {
    slave = await startPymodbusRtuSlave(38400);
    const world = new SimWorld();
    const ctx = { id: 'rtu', log: memoryLog('silent').root.logger('adapter:rtu'), clock: systemClock, bus: new Bus(), metrics: new MetricsRegistry(), health: new HealthModel({ clock: systemClock }), world };
    const h = await modbusAdapter.real({
      transport: 'rtu', path: slave.masterPath, backend: 'auto', baudRate: 38400, parity: 'none', dataBits: 8, stopBits: 1, timeoutMs: 1000, port: 502,
      sim: { port: 0, unit: 1, timeScale: 1, taskMs: 40, plant: 'lab' },
    }, ctx);
    client = h.instance;
    close = h.close;
  });
  after(async () => {
    await close?.();
    await slave?.stop();
  });

  test('backend auto picks the FFI master', async () => {
    assert.ok(client instanceof RtuModbusClient, client.constructor.name);
    await client.connect();
    assert.equal(client.connected, true);
    assert.equal(client.description, `rtu ${slave.masterPath}@38400`);
  });

  test('FC4 input registers and FC2 discrete inputs are the slave\'s values', async () => {
    assert.deepEqual(await client.readRegisters('input', 1, 0, 5), [1000, 1001, 1002, 1003, 1004]);
    assert.deepEqual(await client.readRegisters('input', 1, 95, 5), [1095, 1096, 1097, 1098, 1099]);
    assert.deepEqual(await client.readBits('discrete', 1, 0, 10), [true, false, false, true, false, false, true, false, false, true]);
  });

  test('FC6 and FC16 writes land in the slave; FC3 reads them back', async () => {
    await client.writeRegisters(1, 3, [0xbeef]);
    assert.deepEqual(await slave.get('hr', 3, 1), [0xbeef]);
    const values = Array.from({ length: 60 }, (_, i) => (i * 1111) & 0xffff);
    await client.writeRegisters(1, 10, values);
    assert.deepEqual(await slave.get('hr', 10, 60), values);
    assert.deepEqual(await client.readRegisters('holding', 1, 10, 60), values);
    assert.deepEqual(await client.readRegisters('holding', 1, 2, 2), [0, 0xbeef]);
  });

  test('FC5 and FC15 coil writes land in the slave; FC1 reads them back', async () => {
    await client.writeCoils(1, 1, [true]);
    const pattern = Array.from({ length: 19 }, (_, i) => i % 2 === 0 || i === 17);
    await client.writeCoils(1, 40, pattern);
    assert.deepEqual(await slave.get('co', 0, 3), [0, 1, 0]);
    assert.deepEqual(await slave.get('co', 40, 19), pattern.map(Number));
    assert.deepEqual(await client.readBits('coil', 1, 40, 19), pattern);
    await client.writeCoils(1, 1, [false]);
    assert.deepEqual(await client.readBits('coil', 1, 0, 3), [false, false, false]);
  });

  test('an illegal address is exception 2, named; the link stays usable', async () => {
    await assert.rejects(client.readRegisters('holding', 1, 99, 2), (err: unknown) => err instanceof ModbusExceptionError && err.code === 2 &&
      err.message === `modbus rtu ${slave.masterPath}@38400: reading HR 99..100 from unit 1 refused with exception 2 (illegal data address)`);
    await assert.rejects(client.writeRegisters(1, 100, [1]), (err: unknown) => err instanceof ModbusExceptionError && err.code === 2);
    await assert.rejects(client.readBits('coil', 1, 150, 1), (err: unknown) => err instanceof ModbusExceptionError && err.code === 2);
    assert.deepEqual(await client.readRegisters('input', 1, 7, 1), [1007]);
  });

  test('a unit nobody answers for times out; the next request to unit 1 gets its own answer', async () => {
    await assert.rejects(client.readRegisters('holding', 9, 0, 1), (err: unknown) => err instanceof ModbusLinkError && err.kind === 'timeout');
    assert.deepEqual(await client.readRegisters('input', 1, 42, 1), [1042]);
  });
});
