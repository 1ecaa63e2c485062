// Modbus RTU over a real 8250 UART pair in the QEMU guest (ttyS1 and ttyS2, joined by scripts/kernel/
// run.sh): the modbus-server plugin (the Neasmart gateway's slave 240) on one end — serialport on Node,
// the libc FFI serial line on Deno — and on the other modbus-serial as the master (Node), fieldgate's
// own RTU master on the FFI serial line (both runtimes), or raw RTU frames through the FFI serial line
// (both runtimes), through the kernel's tty layer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { isDeno } from '../../core/runtime-info.ts';
import { encodeRtuFrame } from '../../adapters/modbus/server/rtu.ts';
import { FfiSerialPort } from '../../adapters/serial/ffi-serial.ts';
import { systemClock } from '../../core/clock.ts';
import { createModbusClient } from '../../adapters/modbus/backend.ts';
import { RtuModbusClient } from '../../adapters/modbus/rtu-client.ts';
import { ModbusExceptionError, ModbusLinkError } from '../../adapters/modbus/types.ts';
import { eventually } from '../helpers/eventually.ts';
import { modbusMaster, rtuMasterSession, startModbusServer, type ServerUnderTest } from '../fixtures/modbus-server-runtime.ts';
import { kernelSkip } from './guest.ts';

const GATEWAY = '/dev/ttyS1';
const BASE = '/dev/ttyS2';

const skip = kernelSkip ||
  (!existsSync(BASE) || !/^2: uart:16550A/m.test(readFileSync('/proc/tty/driver/serial', 'utf8')) ? 'no 8250 pair on ttyS1/ttyS2 (run through scripts/kernel/run.sh)' : false);
const skipMaster = skip || (isDeno ? 'modbus-serial\'s RTU master needs the serialport addon, which loads on Node only' : false);

let server: ServerUnderTest | undefined;

before(async () => {
  if (skip) return;
  server = await startModbusServer({ dataDir: null, config: { tcp: { enabled: false }, rtu: { enabled: true, path: GATEWAY, baudRate: 38400 } } });
});

after(async () => {
  await server?.stop();
});

test('RTU over an 8250 pair: raw frames through the FFI serial line are answered byte for byte', { skip }, async () => {
  const heard: number[] = [];
  const port = await FfiSerialPort.open(BASE, { baudRate: 38400, parity: 'none', dataBits: 8, stopBits: 1 });
  port.on('data', (chunk) => heard.push(...chunk));
  try {
    // Write holding register 30 = 0x1234 (function 6); the answer echoes the request.
    const write = encodeRtuFrame(240, Uint8Array.of(0x06, 0x00, 0x1e, 0x12, 0x34));
    port.write(write);
    await eventually('the write echo', 5000, () => heard.length >= write.length);
    assert.deepEqual(heard.splice(0), [...write]);
    // Read it back (function 3).
    port.write(encodeRtuFrame(240, Uint8Array.of(0x03, 0x00, 0x1e, 0x00, 0x01)));
    const answer = encodeRtuFrame(240, Uint8Array.of(0x03, 0x02, 0x12, 0x34));
    await eventually('the read answer', 5000, () => heard.length >= answer.length);
    assert.deepEqual(heard.splice(0), [...answer]);
    assert.deepEqual(server!.space.read(240, 'holding', 30, 1), [0x1234]);
  } finally {
    await port.close();
  }
  await assert.rejects(FfiSerialPort.open('/dev/ttyS1', { baudRate: 12345, parity: 'none', dataBits: 8, stopBits: 1 }), /serial \/dev\/ttyS1: 12345 baud is not a standard speed/);
  await assert.rejects(FfiSerialPort.open('/dev/null', { baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 }), /serial \/dev\/null: not a terminal \(tcgetattr\).*\(ENOTTY\)/);
});

test('RTU over an 8250 pair: the master reads and writes slave 240, foreign units get no answer', { skip: skipMaster }, async () => {
  const c = modbusMaster();
  await c.connectRTUBuffered(BASE, { baudRate: 38400 });
  try {
    await rtuMasterSession(c, server!, { answerMs: 2000, silentMs: 300 });
  } finally {
    await new Promise<void>((r) => c.close(() => r()));
  }
});

test('RTU over an 8250 pair: fieldgate\'s RTU master on the FFI line reads and writes slave 240, foreign units time out', { skip }, async () => {
  const link = { transport: 'rtu', backend: 'ffi', path: BASE, baudRate: 38400 } as const;
  const c = await createModbusClient({ ...link, timeoutMs: 2000 }, systemClock);
  assert.ok(c instanceof RtuModbusClient);
  try {
    await c.writeRegisters(240, 40, [0x0102, 0xfffe]);
    assert.deepEqual(await c.readRegisters('holding', 240, 40, 2), [0x0102, 0xfffe]);
    await c.writeRegisters(240, 42, [9]);
    await c.writeCoils(240, 2, [true, false, true]);
    assert.deepEqual(await c.readBits('coil', 240, 2, 3), [true, false, true]);
    await assert.rejects(c.readRegisters('holding', 240, 999, 2), (err: unknown) => err instanceof ModbusExceptionError && err.code === 2);
    assert.deepEqual(server!.space.read(240, 'holding', 40, 3), [0x0102, 0xfffe, 9]);
  } finally {
    await c.close();
  }
  const quick = await createModbusClient({ ...link, timeoutMs: 300 }, systemClock);
  try {
    await assert.rejects(quick.readRegisters('holding', 17, 0, 1), (err: unknown) => err instanceof ModbusLinkError && err.kind === 'timeout');
  } finally {
    await quick.close();
  }
});
