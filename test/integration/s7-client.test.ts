// The production S7 client (nodes7) against the S7 simulator over loopback ISO-on-TCP: batched reads,
// writes, bits and reals, refused addresses, a PLC that goes away and comes back, the adapter's sim mode.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../core/clock.ts';
import { CircuitOpenError } from '../../core/errors.ts';
import { SimWorld } from '../../core/sim-world.ts';
import { Nodes7Client } from '../../adapters/s7/client.ts';
import { S7LinkError, S7RefusedError, S7ValueError } from '../../adapters/s7/errors.ts';
import { S7AddressError } from '../../adapters/s7/address.ts';
import { S7Server } from '../../sim/s7-server.ts';
import type { ProductionLine } from '../../sim/production-line.ts';
import { eventually } from '../helpers/eventually.ts';

let plc: S7Server;
let client: Nodes7Client;

before(async () => {
  plc = new S7Server({ dbs: { 1: 64, 2: 16 }, pduSize: 240 });
  await plc.start();
  client = new Nodes7Client({ host: plc.host, port: plc.port, clock: systemClock, timeoutMs: 500, reconnect: { initialMs: 20, maxMs: 100 }, breaker: { failureThreshold: 100 } });
});

after(async () => {
  await client.close();
  await plc.stop();
});

test('reads many addresses in one batch, keyed as given', async () => {
  const m = plc.memory;
  m.set('DB1,REAL0', 12.5);
  m.set('DB1,INT12', -7);
  m.set('DB1,X14.0', true);
  m.set('DB2,DINT4', -123456);
  m.set('DB1,WORD16', 65535);
  m.set('I0.3', true);
  m.set('Q1.7', true);
  m.set('M10.1', true);
  m.set('MW4', 4242);
  m.set('MD8', 3_000_000_000);
  m.set('IW30', 0x1234);
  const addresses = ['DB1,REAL0', 'DB1,INT12', 'DB1,X14.0', 'DB1,X14.1', 'DB2,DINT4', 'DB1,WORD16', 'I0.3', 'I0.2', 'Q1.7', 'M10.1', 'MW4', 'MD8', 'PIW30', 'db1,r0'];
  for (let i = 20; i < 60; i += 4) addresses.push(`DB1,DINT${i}`);
  const before = plc.requests.filter((r) => r.fn === 'read').length;
  const v = await client.read(addresses);
  assert.equal(client.connected, true);
  assert.deepEqual(
    { ...v, ...Object.fromEntries(Object.keys(v).filter((k) => k.startsWith('DB1,DINT')).map((k) => [k, 0])) },
    { 'DB1,REAL0': 12.5, 'DB1,INT12': -7, 'DB1,X14.0': true, 'DB1,X14.1': false, 'DB2,DINT4': -123456, 'DB1,WORD16': 65535, 'I0.3': true, 'I0.2': false, 'Q1.7': true, 'M10.1': true, MW4: 4242, MD8: 3_000_000_000, PIW30: 0x1234, 'db1,r0': 12.5, ...Object.fromEntries(addresses.filter((a) => a.startsWith('DB1,DINT')).map((a) => [a, 0])) },
  );
  const reads = plc.requests.filter((r) => r.fn === 'read').slice(before);
  assert.equal(reads.length, 1, 'one PDU for 24 addresses');
});

test('writes numbers, bits and reals, and refuses a value of the wrong type before sending', async () => {
  await client.write({ 'DB1,REAL0': 3.25, 'DB1,X14.1': true, 'M10.1': false, 'DB2,DINT4': 77, 'MW4': 1 });
  const m = plc.memory;
  assert.equal(m.get('DB1,REAL0'), 3.25);
  assert.equal(m.get('DB1,X14.1'), true);
  assert.equal(m.get('DB1,X14.0'), true, 'the neighbouring bit is untouched');
  assert.equal(m.get('M10.1'), false);
  assert.equal(m.get('DB2,DINT4'), 77);
  assert.deepEqual(await client.read(['DB1,REAL0', 'MW4']), { 'DB1,REAL0': 3.25, MW4: 1 });
  await assert.rejects(client.write({ 'DB1,INT12': 40000 }), (e: unknown) => e instanceof S7ValueError && /DB1,INT12.*-32768\.\.32767/.test(e.message));
  await assert.rejects(client.write({ 'DB1,X14.0': 1 }), S7ValueError);
});

test('a malformed address is refused without touching the PLC; a missing DB names the address and the return code', async () => {
  await assert.rejects(client.read(['DB1,X14.9']), S7AddressError);
  await assert.rejects(client.read(['DB1,REAL0', 'DB9,INT0', 'DB1,DINT62']), (e: unknown) => {
    assert.ok(e instanceof S7RefusedError, String(e));
    assert.match(e.message, /s7 127\.0\.0\.1:\d+ rack 0 slot 1/);
    assert.match(e.message, /DB9,INT0 \(return code 0x0a: object does not exist/);
    assert.match(e.message, /DB1,DINT62 \(return code 0x05: invalid address/);
    assert.doesNotMatch(e.message, /DB1,REAL0/);
    return true;
  });
  await assert.rejects(client.write({ 'DB2,INT20': 1 }), /DB2,INT20 \(return code 0x05/);
  assert.equal(client.connected, true, 'a refusal keeps the link');
  assert.equal(client.breaker.failures, 0);
});

test('PLC stopped → clear error; started again → the next calls reconnect', async () => {
  await client.read(['DB1,REAL0']);
  await plc.stop();
  await assert.rejects(client.read(['DB1,REAL0']), (e: unknown) => e instanceof S7LinkError && e.message.startsWith(client.description));
  assert.equal(client.connected, false);
  await plc.start();
  const v = await eventually('a read after the PLC restarts', 5000, () => client.read(['DB1,REAL0']));
  assert.equal(v['DB1,REAL0'], 3.25);
  assert.equal(client.connected, true);
});

test('a dropped connection mid-read and an unanswered read fail fast and recover', async () => {
  plc.fault({ kind: 'drop', fn: 'read', times: 1 });
  await assert.rejects(client.read(['MW4']), /connection closed by the PLC while reading MW4/);
  assert.deepEqual(await client.read(['MW4']), { MW4: 1 });
  plc.fault({ kind: 'timeout', fn: 'read', times: 1 });
  await assert.rejects(client.read(['MW4']), /timed out after 500 ms reading MW4/);
  assert.deepEqual(await client.read(['MW4']), { MW4: 1 });
});

test('the circuit opens after repeated link failures and refuses without touching the PLC', async () => {
  const c = new Nodes7Client({ host: plc.host, port: plc.port, clock: systemClock, timeoutMs: 300, reconnect: { initialMs: 0, maxMs: 0 }, breaker: { failureThreshold: 2, openMs: 60_000 } });
  plc.fault({ kind: 'drop', fn: 'read' });
  try {
    await assert.rejects(c.read(['MW4']), S7LinkError);
    await assert.rejects(c.read(['MW4']), S7LinkError);
    const n = plc.requests.length;
    await assert.rejects(c.read(['MW4']), (e: unknown) => e instanceof CircuitOpenError && e.message.includes(c.description));
    assert.equal(plc.requests.length, n);
  } finally {
    plc.clearFaults();
    await c.close();
  }
});

test('a PLC back on the network is read within 1 s, although the backoff (30 s) and the open circuit (60 s) say wait', async () => {
  const c = new Nodes7Client({ host: plc.host, port: plc.port, clock: systemClock, timeoutMs: 300, reconnect: { initialMs: 30_000, maxMs: 30_000 }, breaker: { failureThreshold: 2, openMs: 60_000 } });
  try {
    assert.equal((await c.read(['DB1,REAL0']))['DB1,REAL0'], 3.25);
    await plc.stop();
    await assert.rejects(c.read(['DB1,REAL0']), S7LinkError);
    await assert.rejects(c.read(['DB1,REAL0']), S7LinkError);
    await assert.rejects(c.read(['DB1,REAL0']), (e: unknown) => e instanceof CircuitOpenError || e instanceof S7LinkError);
    assert.equal(c.breaker.state, 'open');
    await plc.start();
    const back = Date.now();
    // The recorder's edge poll: one read every 50 ms until one succeeds.
    const v = await eventually('a read after the PLC answers again', 5000, () => c.read(['DB1,REAL0']));
    const ms = Date.now() - back;
    assert.equal(v['DB1,REAL0'], 3.25);
    assert.ok(ms < 1000, `read again ${ms} ms after the PLC came back`);
    assert.equal(c.breaker.state, 'closed');
  } finally {
    await c.close();
  }
});

test('a PLC that accepts TCP but refuses the ISO connection keeps its backoff (no probe storm)', async () => {
  const c = new Nodes7Client({ host: plc.host, port: plc.port, slot: 3, clock: systemClock, timeoutMs: 300, reconnect: { initialMs: 30_000, maxMs: 30_000 } });
  try {
    await assert.rejects(c.connect(), /slot 3: cannot connect/);
    await assert.rejects(c.read(['MW4']), /next reconnect attempt in \d+ ms/);
  } finally {
    await c.close();
  }
});

test('a connection to the wrong slot is refused with a message naming the PLC', async () => {
  const c = new Nodes7Client({ host: plc.host, port: plc.port, slot: 3, clock: systemClock, timeoutMs: 500 });
  await assert.rejects(c.connect(), (e: unknown) => e instanceof S7LinkError && /slot 3: cannot connect/.test(e.message));
  await c.close();
});

test('adapter sim mode: the client reads the production line through the simulator', async () => {
  const { default: adapter } = await import('../../adapters/s7/adapter.ts');
  const world = new SimWorld();
  const log = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return log; } };
  const ctx = { id: 'plc1', log, clock: systemClock, world } as unknown as Parameters<typeof adapter.sim>[1];
  const handle = await adapter.sim({
    port: 102, rack: 0, slot: 1, timeoutMs: 1000, reconnect: { initialMs: 50, maxMs: 500 }, breaker: { failureThreshold: 5, openMs: 1000 },
    sim: { port: 0, dbs: { 1: 8 }, line: 'test', timeScale: 100, seed: 1, machines: [{ name: 'm1', cycleMs: 5000, cycleInput: 'I0.0', pulseMs: 20, counter: 'DB1,DINT40', power: 'DB1,REAL0', runKw: 7.5 }] },
  }, ctx);
  try {
    const line = world.require<ProductionLine>('line:test');
    assert.ok(world.has('sim:plc1'));
    const v = await eventually('two cycles counted', 3000, async () => {
      const r = await handle.instance.read(['DB1,DINT40', 'DB1,REAL0', 'I0.0']);
      return (r['DB1,DINT40'] as number) >= 2 && r;
    });
    assert.equal(v['DB1,REAL0'], 7.5);
    assert.ok(line.machine('m1').cycles >= (v['DB1,DINT40'] as number));
  } finally {
    await handle.close();
    await world.close();
  }
});
