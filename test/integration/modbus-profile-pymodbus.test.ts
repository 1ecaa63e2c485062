// Conformance of the Modbus profile simulator with an independent master: Debian's python3-pymodbus
// (test/peers/pymodbus_read.py, its own float32 decoding) reads the energy meter's float32 input
// registers over TCP and gets exactly the device's values, as the production client does; its
// float32 write lands in the echo register; its read of a refused block gets exception 2. mbpoll
// (Debian `mbpoll`), a second independent master, reads the same values to its printed precision.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { FakeClock } from '../../core/clock-fake.ts';
import { SerialModbusClient } from '../../adapters/modbus/client.ts';
import { resolveProfile } from '../../sim/profiles/load.ts';
import { ModbusProfileDevice } from '../../sim/profiles/modbus-device.ts';
import { pymodbusSkip } from '../helpers/pymodbus.ts';
import { repoRoot } from '../helpers/spawn.ts';

const PYTHON = process.env.FIELDGATE_PYTHON ?? '/usr/bin/python3';
const POINTS: Record<string, number> = { v_l1: 0, v_l2: 2, v_l3: 4, i_l1: 6, i_l2: 8, i_l3: 10, p_l1: 12, p_l2: 14, p_l3: 16, p_total: 52, frequency: 70, energy_import: 72 };

function pymodbus(port: number, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [`${repoRoot}/test/peers/pymodbus_read.py`, '--port', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-65536)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4096)));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? ''));
      } catch {
        reject(new Error(`pymodbus_read.py exited ${code}: ${out} ${err}`));
      }
    });
  });
}

describe('energy meter profile simulator read by pymodbus', { skip: pymodbusSkip }, () => {
  const clock = new FakeClock();
  let device: ModbusProfileDevice;

  before(async () => {
    device = new ModbusProfileDevice({ profile: await resolveProfile('manifests/energy-meter.profile.json'), clock });
    await device.start();
    await clock.advance(45_000); // away from the round initial values
  });
  after(() => device?.close());

  test('float32 input registers: pymodbus, the production client and the device agree', async () => {
    const got = await pymodbus(device.port, ['read-floats', 'input', Object.values(POINTS).join(',')]);
    const values = got.values as Record<string, number>;
    assert.ok(values, JSON.stringify(got));
    const client = new SerialModbusClient({ transport: 'tcp', host: device.host, port: device.port, timeoutMs: 1000 }, clock);
    try {
      for (const [name, address] of Object.entries(POINTS)) {
        const expected = Math.fround(device.value(name));
        assert.equal(values[String(address)], expected, `${name} (IR ${address}) by pymodbus`);
        const [hi, lo] = await client.readRegisters('input', 1, address, 2);
        const v = new DataView(new ArrayBuffer(4));
        v.setUint16(0, hi);
        v.setUint16(2, lo);
        assert.equal(v.getFloat32(0), expected, `${name} by the production client`);
      }
    } finally {
      await client.close();
    }
    assert.ok(values['0'] !== 230 && values['70'] !== 50, 'the values had moved');
  });

  test('a float32 written by pymodbus is what the device holds; a refused block is exception 2', async () => {
    assert.deepEqual(await pymodbus(device.port, ['write-float', '0', '17500.25']), { ok: true });
    assert.equal(device.value('demand_limit'), 17500.25);
    assert.equal((await pymodbus(device.port, ['read-raw', 'input', '100', '2'])).exception, 2);
  });
});

const mbpollSkip = spawnSync('mbpoll', ['-h'], { stdio: 'ignore' }).error ? 'mbpoll is not installed (apt-get install mbpoll)' : false;

describe('energy meter profile simulator read by mbpoll', { skip: mbpollSkip }, () => {
  const clock = new FakeClock();
  let device: ModbusProfileDevice;
  before(async () => {
    device = new ModbusProfileDevice({ profile: await resolveProfile('manifests/energy-meter.profile.json'), clock });
    await device.start();
    await clock.advance(45_000);
  });
  after(() => device?.close());

  test('float32 input registers, big-endian words, zero-based: the device values', async () => {
    const child = spawn('mbpoll', ['-m', 'tcp', '-p', String(device.port), '-a', '1', '-t', '3:float', '-B', '-0', '-r', '0', '-c', '9', '-1', '127.0.0.1']);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-65536)));
    await new Promise((r) => child.once('close', r));
    const read = new Map([...out.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)].map((m) => [Number(m[1]), Number(m[2])]));
    assert.equal(read.size, 9, out);
    for (const [name, address] of Object.entries(POINTS).filter(([, a]) => a < 18)) {
      const expected = device.value(name);
      // mbpoll prints six significant digits.
      assert.ok(Math.abs(read.get(address)! - expected) <= Math.abs(expected) * 1e-5, `${name} (IR ${address}): mbpoll ${read.get(address)}, device ${expected}`);
    }
  });
});
