// Which Modbus client a link gets: TCP always modbus-serial; RTU fieldgate's FFI master where libc FFI
// loads (here: koffi on Node, Deno.dlopen on Deno), modbus-serial when the manifest insists on
// "serialport" — refused on Deno with the reason. Nothing is opened: clients open on first use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { isDeno } from '../../core/runtime-info.ts';
import { createModbusClient } from '../../adapters/modbus/backend.ts';
import { SerialModbusClient } from '../../adapters/modbus/client.ts';
import { RtuModbusClient } from '../../adapters/modbus/rtu-client.ts';

const clock = new FakeClock();
const RTU = { transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 19200 } as const;

test('tcp is modbus-serial whatever the backend says', async () => {
  const c = await createModbusClient({ transport: 'tcp', host: '127.0.0.1', backend: 'ffi' }, clock);
  assert.ok(c instanceof SerialModbusClient);
  assert.equal(c.description, 'tcp 127.0.0.1:502');
});

test('rtu: auto and ffi give the FFI master, described like the modbus-serial link', async () => {
  for (const backend of ['auto', 'ffi', undefined] as const) {
    const c = await createModbusClient({ ...RTU, backend }, clock);
    assert.ok(c instanceof RtuModbusClient, `${backend}: ${c.constructor.name}`);
    assert.equal(c.description, 'rtu /dev/ttyUSB0@19200');
    assert.equal(c.connected, false);
  }
});

test('rtu: serialport gives modbus-serial on Node and is refused on Deno with the reason', async () => {
  if (isDeno) {
    await assert.rejects(createModbusClient({ ...RTU, backend: 'serialport' }, clock), /modbus rtu \/dev\/ttyUSB0 \(backend "serialport"\) needs the native module "serialport", which loads on Node only/);
    return;
  }
  assert.ok((await createModbusClient({ ...RTU, backend: 'serialport' }, clock)) instanceof SerialModbusClient);
});
