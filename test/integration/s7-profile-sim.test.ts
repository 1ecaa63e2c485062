// The `s7` adapter's sim driver with a device profile instead of the production line: points at S7
// addresses (REAL, INT, DINT, bits) served by the wire-level S7 simulator and read and written by
// the production nodes7 client, behaviours on a FakeClock, and the common fault hooks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { SimWorld } from '../../core/sim-world.ts';
import { memoryLog } from '../../core/log.ts';
import type { AdapterContext, AdapterHandle } from '../../core/plugin.ts';
import type { S7Client } from '../../adapters/s7/types.ts';
import type { DeviceFaults } from '../../sim/profiles/faults.ts';
import type { S7ProfileDevice } from '../../sim/profiles/s7-device.ts';
import { checkProfile, ProfileError } from '../../sim/profiles/load.ts';

const PROFILE = {
  name: 'furnace',
  protocol: 's7',
  tickMs: 500,
  points: [
    { name: 'temp', s7: 'DB1,REAL0', initial: 90, behaviour: { kind: 'ramp', rate: 1 } },
    { name: 'setpoint', s7: 'DB1,INT4', initial: 120 },
    { name: 'parts', s7: 'DB2,DINT0', initial: 1000, behaviour: { kind: 'counter', rate: 0.5 } },
    { name: 'hot', s7: 'M0.0', behaviour: { kind: 'formula', expr: 'temp >= 100' } },
    { name: 'heater', s7: 'Q0.1', behaviour: { kind: 'formula', expr: 'temp < setpoint' } },
  ],
};
const ADDRS = ['DB1,REAL0', 'DB1,INT4', 'DB2,DINT0', 'M0.0', 'Q0.1'];

describe('S7 profile simulator through the s7 adapter', () => {
  const clock = new FakeClock();
  const world = new SimWorld();
  const { root } = memoryLog('silent');
  const ctx = { id: 'furnace', log: root.logger('adapter:furnace'), clock, world } as unknown as AdapterContext;
  let handle: AdapterHandle<S7Client>;
  let device: S7ProfileDevice;
  let faults: DeviceFaults;

  before(async () => {
    const { default: adapter } = await import('../../adapters/s7/adapter.ts');
    handle = await adapter.sim({
      port: 102, rack: 0, slot: 1, timeoutMs: 1000, reconnect: { initialMs: 50, maxMs: 500 }, breaker: { failureThreshold: 5, openMs: 1000 },
      sim: { port: 0, dbs: { 1: 8 }, line: 'unused', timeScale: 1, seed: 1, profile: PROFILE },
    }, ctx);
    device = world.require<S7ProfileDevice>('sim:furnace');
    faults = world.require<DeviceFaults>('faults:furnace');
  });
  after(async () => {
    await handle.close();
    await world.close();
  });

  test('values at their S7 addresses move with the clock; bits follow formulas', async () => {
    assert.deepEqual(await handle.instance.read(ADDRS), { 'DB1,REAL0': 90, 'DB1,INT4': 120, 'DB2,DINT0': 1000, 'M0.0': false, 'Q0.1': true });
    await clock.advance(20_000);
    const r = await handle.instance.read(ADDRS);
    assert.equal(r['DB1,REAL0'], 110);
    assert.equal(r['DB2,DINT0'], 1010);
    assert.equal(r['M0.0'], true);
    assert.equal(r['Q0.1'], true);
    assert.equal(world.has('line:unused'), false, 'no production line was started');
  });

  test('a client write lands in the echo point and drives the formulas', async () => {
    await handle.instance.write({ 'DB1,INT4': 105 });
    assert.equal(device.value('setpoint'), 105);
    await clock.advance(500);
    assert.equal((await handle.instance.read(['Q0.1']))['Q0.1'], false, 'temp is above the new setpoint');
  });

  test('faults: refused items carry the return code; a power cycle brings back the initial memory', async () => {
    faults.exception(0x05);
    await assert.rejects(handle.instance.read(['DB1,REAL0']));
    await faults.recover();
    await faults.powerCycle();
    assert.equal(device.restarts, 1);
    assert.equal(device.value('setpoint'), 120);
    const r = await handle.instance.read(ADDRS).catch(async () => await handle.instance.read(ADDRS)); // the client reconnects after the drop
    assert.equal(r['DB1,INT4'], 120);
    assert.equal(r['DB2,DINT0'], 1000);
  });

  test('S7 profile checks: addresses parse, overlap is refused, the type comes from the address', () => {
    assert.throws(() => checkProfile({ name: 'x', protocol: 's7', points: [
      { name: 'a', s7: 'DB1,REAL0' },
      { name: 'b', s7: 'DB1,INT2' },
      { name: 'c', s7: 'DB1,NOPE4' },
      { name: 'd', s7: 'M0.0', type: 'bool' },
      { name: 'e', s7: 'M0.1' },
      { name: 'f', s7: 'MB0' },
    ] }), (e: unknown) => e instanceof ProfileError &&
      e.problems[0] === 'points[1].s7: DB1,INT2 overlaps points[0] (a)' &&
      /^points\[2\]\.s7: /.test(e.problems[1]) &&
      e.problems[2] === "points[3].type: an S7 point's type is in its address (DB1,REAL0, MW4, I0.0)" &&
      e.problems[3] === 'points[5].s7: MB0 overlaps points[4] (e)');
  });
});
