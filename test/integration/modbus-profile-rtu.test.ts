// The Modbus profile device on an RTU line: frames with CRC on an in-memory line (FakeClock; both
// runtimes), and Debian's python3-pymodbus as RTU master on a socat pty pair reading the energy
// meter's float32 registers through the native serialport module (Node only).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, settle } from '../../core/clock-fake.ts';
import { systemClock } from '../../core/clock.ts';
import { encodeRtuFrame, rtuCrcOk } from '../../adapters/modbus/server/rtu.ts';
import { resolveProfile } from '../../sim/profiles/load.ts';
import { ModbusProfileDevice } from '../../sim/profiles/modbus-device.ts';
import { pymodbusSkip } from '../helpers/pymodbus.ts';
import { isDeno, repoRoot } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';

class MemoryLine extends EventEmitter {
  readonly sent: number[] = [];
  write(data: Uint8Array): void {
    this.sent.push(...data);
  }
  request(unit: number, pdu: number[]): void {
    this.emit('data', encodeRtuFrame(unit, Uint8Array.from(pdu)));
  }
}

const float = (b: number[], at: number) => new DataView(Uint8Array.from(b).buffer).getFloat32(at);

describe('Modbus profile device on an RTU line (in memory)', () => {
  const clock = new FakeClock();
  let device: ModbusProfileDevice;
  const line = new MemoryLine();

  before(async () => {
    device = new ModbusProfileDevice({ profile: await resolveProfile('manifests/energy-meter.profile.json'), clock, unit: 7 });
    await device.start();
    device.serveRtu(line, { baudRate: 19200 });
  });
  after(() => device.close());

  test('a read answers a CRC-checked frame with the float32; foreign units and a hung device stay silent; exceptions on the wire', async () => {
    line.request(7, [4, 0, 70, 0, 2]);
    await eventually('the answer', 2000, () => line.sent.length >= 9);
    const reply = line.sent.splice(0);
    assert.ok(rtuCrcOk(Uint8Array.from(reply)), 'CRC checks');
    assert.deepEqual(reply.slice(0, 3), [7, 4, 4]);
    assert.equal(float(reply, 3), 50);

    line.request(8, [4, 0, 70, 0, 2]);
    await settle();
    await clock.advance(100);
    assert.deepEqual(line.sent, [], 'another unit on the bus is not us');

    device.faults.hang();
    line.request(7, [4, 0, 0, 0, 2]);
    await clock.advance(5000);
    assert.deepEqual(line.sent, []);
    await device.faults.recover();

    line.request(7, [4, 0, 100, 0, 2]);
    await eventually('the exception', 2000, () => line.sent.length >= 5);
    assert.deepEqual(line.sent.splice(0).slice(0, 3), [7, 0x84, 2]);
  });
});

const socatOk = !isDeno && spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
const rtuSkip = isDeno ? 'serialport is a native module: Node only' : !socatOk ? 'socat is not installed (apt-get install socat)' : pymodbusSkip;

describe('pymodbus as RTU master on a pty pair', { skip: rtuSkip }, () => {
  let dir = '';
  let socat: ChildProcess | undefined;
  let device: ModbusProfileDevice;
  let port: { close(cb: () => void): void } | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-profile-rtu-'));
    socat = spawn('socat', [`pty,raw,echo=0,link=${dir}/meter`, `pty,raw,echo=0,link=${dir}/master`], { stdio: 'ignore' });
    await eventually('socat made the pty pair', 5000, () => existsSync(`${dir}/meter`) && existsSync(`${dir}/master`));
    device = new ModbusProfileDevice({ profile: await resolveProfile('manifests/energy-meter.profile.json'), clock: systemClock });
    await device.start();
    device.engine.stop(); // values stay put while both masters read
    const { SerialPort } = await import('serialport');
    const serial = new SerialPort({ path: `${dir}/meter`, baudRate: 38400 });
    port = serial;
    device.serveRtu(serial, { baudRate: 38400 });
  });
  after(async () => {
    await new Promise<void>((r) => (port ? port.close(() => r()) : r()));
    await device?.close();
    if (socat && socat.exitCode === null) {
      const exited = new Promise((r) => socat!.once('exit', r));
      socat.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('float32 input registers read over RTU are the device values', async () => {
    // Asynchronously: the device answering the line lives in this process.
    const child = spawn(process.env.FIELDGATE_PYTHON ?? '/usr/bin/python3', [`${repoRoot}/test/peers/pymodbus_read.py`, '--serial', `${dir}/master`, '--baud', '38400', 'read-floats', 'input', '0,52,70,72']);
    const out = { stdout: '', stderr: '' };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out.stdout = (out.stdout + d).slice(-65536)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out.stderr = (out.stderr + d).slice(-4096)));
    await new Promise((r) => child.once('close', r));
    const got = JSON.parse(out.stdout.trim().split('\n').at(-1) || '{}') as { values?: Record<string, number> };
    assert.ok(got.values, `pymodbus: ${out.stdout} ${out.stderr}`);
    assert.equal(got.values['0'], Math.fround(device.value('v_l1')));
    assert.equal(got.values['52'], Math.fround(device.value('p_total')));
    assert.equal(got.values['70'], Math.fround(device.value('frequency')));
    assert.equal(got.values['72'], Math.fround(device.value('energy_import')));
  });
});
