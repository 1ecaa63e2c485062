// The modbus-server plugin in a real runtime, spoken to over loopback TCP by an independent client
// (modbus-serial) and by raw MBAP frames: every table, broadcast, foreign units, exception codes,
// malformed frames, bus publications, health, metrics, command registers and restart persistence.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { RegisterChange } from '../../adapters/modbus/register-space.ts';
import { modbusMaster, type ModbusMaster, startModbusServer, type ServerUnderTest } from '../fixtures/modbus-server-runtime.ts';
import { tempDir, type TempDir } from '../fixtures/store-helpers.ts';

let tmp: TempDir;
let server: ServerUnderTest;
const changes: RegisterChange[] = [];

before(async () => {
  tmp = tempDir('fieldgate-modbus-server-');
  server = await startModbusServer({ dataDir: tmp.dir, config: { commandRegisters: [{ table: 'holding', from: 900, to: 909 }] } });
  server.runtime.bus.subscribe<RegisterChange>('modbus/gw/#', (c) => void changes.push(c));
});

after(async () => {
  await server?.stop();
  tmp?.remove();
});

async function client(unit = 240, timeoutMs = 1000): Promise<ModbusMaster> {
  const c = modbusMaster();
  await c.connectTCP('127.0.0.1', { port: server.port });
  c.setID(unit);
  c.setTimeout(timeoutMs);
  return c;
}

function close(c: ModbusMaster): Promise<void> {
  return new Promise((resolve) => c.close(() => resolve()));
}

/** A raw MBAP connection: send frames, collect answers by transaction id. */
async function raw(): Promise<{ socket: Socket; send(tid: number, unit: number, pdu: number[], protocol?: number): void; answer(tid: number): Promise<number[]>; answers: Map<number, number[]>; closed: Promise<void> }> {
  const socket = connect(server.port, '127.0.0.1');
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  const answers = new Map<number, number[]>();
  const waiters = new Map<number, (pdu: number[]) => void>();
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 7 && buf.length >= 6 + buf.readUInt16BE(4)) {
      const len = buf.readUInt16BE(4);
      const tid = buf.readUInt16BE(0);
      const pdu = [...buf.subarray(7, 6 + len)];
      buf = buf.subarray(6 + len);
      answers.set(tid, pdu);
      waiters.get(tid)?.(pdu);
    }
  });
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    socket,
    answers,
    closed,
    send(tid, unit, pdu, protocol = 0) {
      const f = Buffer.alloc(7 + pdu.length);
      f.writeUInt16BE(tid, 0);
      f.writeUInt16BE(protocol, 2);
      f.writeUInt16BE(pdu.length + 1, 4);
      f[6] = unit;
      Buffer.from(pdu).copy(f, 7);
      socket.write(f);
    },
    answer(tid) {
      const got = answers.get(tid);
      if (got) return Promise.resolve(got);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no answer to transaction ${tid} within 2 s`)), 2000);
        waiters.set(tid, (pdu) => {
          clearTimeout(t);
          resolve(pdu);
        });
      });
    },
  };
}

test('a master reads and writes holding registers and coils; input registers and discrete inputs come from local writes', async () => {
  const c = await client();
  try {
    await c.writeRegisters(10, [1, 2, 65535]);
    assert.deepEqual((await c.readHoldingRegisters(10, 3)).data, [1, 2, 65535]);
    await c.writeRegister(13, 42);
    assert.deepEqual(server.space.read(240, 'holding', 10, 4), [1, 2, 65535, 42]);
    await c.writeCoils(0, [true, false, true]);
    await c.writeCoil(5, true);
    assert.deepEqual((await c.readCoils(0, 6)).data.slice(0, 6), [true, false, true, false, false, true]);

    assert.deepEqual(await server.space.write(240, 'input', 3, [-2, 7]), { durable: true });
    await server.space.write(240, 'discrete', 1, [1]);
    assert.deepEqual((await c.readInputRegisters(3, 2)).data, [65534, 7]);
    assert.deepEqual((await c.readDiscreteInputs(0, 3)).data.slice(0, 3), [false, true, false]);

    c.setID(241); // the second unit has its own tables
    assert.deepEqual((await c.readHoldingRegisters(10, 1)).data, [0]);
  } finally {
    await close(c);
  }
  const hr = changes.find((ch) => ch.unit === 240 && ch.table === 'holding' && ch.address === 10);
  assert.ok(hr, 'the master write was published on modbus/gw/240/holding');
  assert.deepEqual({ values: hr.values, previous: hr.previous, source: hr.source, server: hr.server }, { values: [1, 2, 65535], previous: [0, 0, 0], source: 'master', server: 'gw' });
  assert.ok(changes.some((ch) => ch.table === 'input' && ch.source === 'local' && ch.values[0] === 65534));
  const ts = server.space.lastWrite(240, 'holding', 11);
  assert.ok(ts !== null && Math.abs(ts - Date.now()) < 5000);
  assert.equal(server.space.lastWrite(240, 'holding', 500), null);
  assert.throws(() => server.space.read(240, 'holding', 999, 2), /holding 999\.\.1000 of unit 240 is outside the configured range 0\.\.999/);
  assert.throws(() => server.space.read(7, 'holding', 0, 1), /unit 7 is not configured/);
});

test('a broadcast write (unit 0) reaches every unit and gets no answer', async () => {
  const r = await raw();
  try {
    r.send(1, 0, [0x06, 0x00, 0x64, 0x12, 0x34]); // HR 100 = 0x1234 to everyone
    r.send(2, 240, [0x03, 0x00, 0x64, 0x00, 0x01]);
    assert.deepEqual(await r.answer(2), [0x03, 0x02, 0x12, 0x34]);
    assert.equal(r.answers.has(1), false, 'a broadcast is never answered (answers leave in order, so none will come)');
    assert.deepEqual(server.space.read(241, 'holding', 100, 1), [0x1234]);
    assert.ok(changes.some((ch) => ch.unit === 241 && ch.address === 100 && ch.source === 'broadcast'));
  } finally {
    r.socket.destroy();
  }
});

test('requests for another unit id get no answer at all (the client times out)', async () => {
  const c = await client(17, 300);
  try {
    await assert.rejects(c.readHoldingRegisters(0, 1), (err: Error) => /timed out/i.test(err.message));
  } finally {
    await close(c);
  }
  const r = await raw();
  try {
    r.send(5, 17, [0x06, 0x00, 0x00, 0x00, 0x01]);
    r.send(6, 240, [0x03, 0x00, 0x00, 0x00, 0x01]);
    await r.answer(6);
    assert.equal(r.answers.has(5), false);
  } finally {
    r.socket.destroy();
  }
});

test('illegal function → 1, beyond the configured range → 2, oversized quantity → 3; nothing changes', async () => {
  const before = server.space.read(240, 'holding', 990, 10);
  const c = await client();
  try {
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        return (err as { modbusCode?: number }).modbusCode;
      }
      return 'answered';
    };
    assert.equal(await code(c.readHoldingRegisters(999, 2)), 2);
    assert.equal(await code(c.writeRegisters(998, [1, 2, 3])), 2);
    assert.equal(await code(c.readCoils(100, 1)), 2);
    assert.equal(await code(c.readHoldingRegisters(0, 126)), 3);
  } finally {
    await close(c);
  }
  const r = await raw();
  try {
    r.send(1, 240, [0x2b, 0x0e, 0x01, 0x00]);
    assert.deepEqual(await r.answer(1), [0xab, 0x01]);
    r.send(2, 240, [0x10, 0x03, 0xde, 0x00, 0x7c, 0xf8]); // 124 registers
    assert.deepEqual(await r.answer(2), [0x90, 0x03]);
  } finally {
    r.socket.destroy();
  }
  assert.deepEqual(server.space.read(240, 'holding', 990, 10), before);
  const metrics = await server.runtime.metrics.text();
  assert.match(metrics, /modbus_server_exceptions_total\{code="2"\} [3-9]/);
  assert.match(metrics, /modbus_server_exceptions_total\{code="1"\} \d/);
  assert.match(metrics, /modbus_server_requests_total\{fc="3",unit="240"\} \d/);
});

test('malformed frames do not crash the server and change nothing', async () => {
  const snapshot = server.space.read(240, 'holding', 0, 200);
  const r = await raw();
  r.send(1, 240, [0x10, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x09], 0); // byte count says 4, 2 sent
  assert.deepEqual(await r.answer(1), [0x90, 0x03]);
  r.send(2, 240, [0x06, 0x00, 0x00, 0x00, 0x09], 7); // protocol id 7 is not Modbus: ignored
  r.send(3, 240, [0x03]); // truncated PDU
  assert.deepEqual(await r.answer(3), [0x83, 0x03]);
  assert.equal(r.answers.has(2), false);
  r.socket.write(Buffer.from([0, 9, 0, 0, 0xff, 0xff, 240, 3])); // MBAP length 65535: connection dropped
  await r.closed;
  const garbage = connect(server.port, '127.0.0.1');
  await new Promise<void>((res) => garbage.once('connect', () => res()));
  garbage.end(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  await new Promise<void>((res) => garbage.once('close', () => res()));

  assert.deepEqual(server.space.read(240, 'holding', 0, 200), snapshot);
  const c = await client();
  try {
    assert.deepEqual((await c.readHoldingRegisters(10, 1)).data, [1], 'still serving');
  } finally {
    await close(c);
  }
});

test('health reports traffic; registers survive a restart and command registers are zeroed at start', async () => {
  const check = server.runtime.health.report().checks['modbus-server:gw'];
  assert.equal(check.ok, true);
  assert.match(check.detail ?? '', /^\d+ seconds since the last request \(stale after 180 s\)$/);
  const traffic = server.space.traffic();
  assert.ok(traffic.lastRequestAgeS !== null && traffic.lastRequestAgeS < 5 && !traffic.stale);

  const c = await client();
  try {
    await c.writeRegisters(900, [5, 6]); // command registers
    await c.writeRegister(200, 4242);
  } finally {
    await close(c);
  }
  await server.stop();
  server = await startModbusServer({ dataDir: tmp.dir, config: { commandRegisters: [{ table: 'holding', from: 900, to: 909 }] } });
  assert.deepEqual(server.space.read(240, 'holding', 200, 1), [4242]);
  assert.deepEqual(server.space.read(240, 'holding', 10, 4), [1, 2, 65535, 42]);
  assert.deepEqual(server.space.read(240, 'input', 3, 2), [65534, 7]);
  assert.deepEqual(server.space.read(240, 'holding', 900, 2), [0, 0], 'commands do not replay after a restart');
  assert.equal(server.space.lastWrite(240, 'holding', 900), null);
  assert.deepEqual(server.space.traffic(), { lastRequestAgeS: null, stale: false });
  assert.match(server.runtime.health.report().checks['modbus-server:gw'].detail ?? '', /no request from a master yet/);
});
