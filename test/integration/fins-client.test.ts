// The FINS/UDP client against the CJ2M simulator over loopback: round trips, end codes as errors,
// timeouts with a retry, replies with a wrong SID ignored, and a batch mixed to done.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../core/clock.ts';
import { FakeClock } from '../../core/clock-fake.ts';
import { UdpFinsClient } from '../../adapters/fins/client.ts';
import { FinsEndCodeError, FinsLinkError } from '../../adapters/fins/types.ts';
import { Cj2mSimulator } from '../../sim/cj2m.ts';
import { batchAddress, decodeBatch, encodeBatch, BATCH_WORDS, OFFSET } from '../../plugins/odoo-sync/plc-layout.ts';

describe('FINS client against the CJ2M simulator', () => {
  const clock = new FakeClock();
  const plc = new Cj2mSimulator({ clock, mixingMs: 60_000, timeScale: 1 });
  let fins: UdpFinsClient;
  const retries: string[] = [];
  before(async () => {
    await plc.start();
    fins = new UdpFinsClient({ host: plc.host, port: plc.port, timeoutMs: 300, retries: 1 }, systemClock, (m) => retries.push(m));
  });
  after(async () => {
    await fins.close();
    await plc.close();
  });

  test('words written to DM, W and H read back; bits and multiple read too', async () => {
    await fins.writeWords('DM', 100, [1, 2, 0xffff]);
    assert.deepEqual(await fins.readWords('DM', 100, 3), [1, 2, 0xffff]);
    await fins.writeWords('W', 5, [0x1234]);
    await fins.writeWords('H', 1535, [42]);
    assert.deepEqual(plc.read('W', 5, 1), [0x1234]);
    await fins.writeBits('CIO', 10, 14, [true, true, true]);
    assert.deepEqual(plc.read('CIO', 10, 2), [0xc000, 0x0001]);
    assert.deepEqual(await fins.readBits('CIO', 10, 13, 4), [false, true, true, true]);
    assert.deepEqual(await fins.readMany([{ area: 'DM', address: 101 }, { area: 'H', address: 1535 }, { area: 'W', address: 5 }]), [2, 42, 0x1234]);
  });

  test('out-of-range addresses come back as end codes naming the request', async () => {
    await assert.rejects(fins.readWords('DM', 32768, 1), (e: unknown) => e instanceof FinsEndCodeError && e.endCode === 0x1103 &&
      /fins 127\.0\.0\.1:\d+ node 2: reading D32768 refused with end code 0x1103 \(address range error/.test(e.message));
    await assert.rejects(fins.readWords('DM', 32760, 10), (e: unknown) => e instanceof FinsEndCodeError && e.endCode === 0x1104);
    await assert.rejects(fins.writeWords('A', 0, [1]), (e: unknown) => e instanceof FinsEndCodeError && e.endCode === 0x2101);
    await assert.rejects(fins.readWords('DM', 0, 1000), RangeError);
  });

  test('status, stop and run', async () => {
    assert.deepEqual(await fins.status(), { status: 'run', mode: 'monitor', fatalError: 0, nonFatalError: 0, errorMessage: '' });
    await fins.stop();
    assert.equal((await fins.status()).mode, 'program');
    await fins.run('run');
    assert.deepEqual([(await fins.status()).status, plc.mode], ['run', 'run']);
  });

  test('a dropped reply times out and the retry (with a new SID) succeeds', async () => {
    const before = { ...fins.counters };
    plc.dropNext(1);
    await fins.writeWords('DM', 200, [7]);
    assert.deepEqual(await fins.readWords('DM', 200, 1), [7]);
    assert.equal(fins.counters.timeouts - before.timeouts, 1);
    assert.equal(fins.counters.retries - before.retries, 1);
    assert.match(retries.at(-1)!, /no answer within 300 ms to writing D200; retrying \(1\/1\)/);
    const [dropped, retried] = plc.requests.slice(-3, -1);
    assert.equal(dropped.dropped, true);
    assert.notEqual(dropped.sid, retried.sid);
  });

  test('a reply with a wrong SID is ignored, never taken for the answer', async () => {
    const before = { ...fins.counters };
    plc.write('DM', 300, [99]);
    plc.corruptNext('sid');
    assert.deepEqual(await fins.readWords('DM', 300, 1), [99]);
    assert.equal(fins.counters.ignored - before.ignored, 1);
    assert.equal(fins.counters.retries - before.retries, 1);
  });

  test('a reply cut short is a malformed answer, retried', async () => {
    plc.corruptNext('data');
    assert.deepEqual(await fins.readWords('DM', 300, 1), [99]);
  });

  test('when retries run out the error says timeout and names the request', async () => {
    plc.dropNext(2);
    await assert.rejects(fins.readWords('DM', 7000, 77), (e: unknown) => e instanceof FinsLinkError && e.kind === 'timeout' &&
      /no answer within 300 ms to reading D7000\.\.D7076$/.test(e.message));
  });

  test('a stopped PLC times out, and answers again after a restart on the same port', async () => {
    const port = plc.port;
    await plc.stop();
    await assert.rejects(fins.readWords('DM', 0, 1), FinsLinkError);
    await plc.start();
    assert.equal(plc.port, port);
    assert.deepEqual(await fins.readWords('DM', 100, 1), [1]);
  });

  test('requests queue one at a time and each gets its own answer', async () => {
    await fins.writeWords('DM', 400, [10, 11, 12, 13]);
    const reads = await Promise.all([0, 1, 2, 3].map((i) => fins.readWords('DM', 400 + i, 1)));
    assert.deepEqual(reads, [[10], [11], [12], [13]]);
  });

  test('a batch written at D7100 is mixed for the mixing time, flagged done, and cleared once acknowledged', async () => {
    const batch = { batchNo: 2, moId: 'WH/MO/00002', bomCode: 'JF SUPER 2A 25', finishedGoods: 'JF SUPER 2A 25', quantity: 20, consumption: { 101: 12.5, 105: 7.5 } };
    await fins.writeWords('DM', batchAddress(2), encodeBatch(batch));
    assert.equal(plc.mixing, 2);
    await clock.advance(59_000);
    let block = decodeBatch(await fins.readWords('DM', batchAddress(2), BATCH_WORDS));
    assert.equal(block.finished, false);
    await clock.advance(1_000);
    block = decodeBatch(await fins.readWords('DM', batchAddress(2), BATCH_WORDS));
    assert.deepEqual([block.finished, block.failed, block.weightFinished, block.moId], [true, false, 20, 'WH/MO/00002']);
    await fins.writeWords('DM', batchAddress(2) + OFFSET.statusReadData, [1]);
    assert.deepEqual(await fins.readWords('DM', batchAddress(2), 2), [0, 0]);
  });

  test('batches mix one after another; STOP pauses the mixer; forceDone ends one now', async () => {
    plc.timeScale = 10; // 60 s of mixing in 6 s of clock
    await fins.writeWords('DM', batchAddress(1), encodeBatch({ batchNo: 1, moId: 'MO1', bomCode: '', finishedGoods: '', quantity: 1, consumption: { 101: 1 } }));
    await fins.writeWords('DM', batchAddress(3), encodeBatch({ batchNo: 3, moId: 'MO3', bomCode: '', finishedGoods: '', quantity: 1, consumption: { 102: 1 } }));
    assert.deepEqual([plc.mixing, plc.queued], [1, [3]]);
    await clock.advance(3_000);
    await fins.stop();
    await clock.advance(10_000);
    assert.equal(plc.mixing, 1, 'paused in PROGRAM mode');
    await fins.run();
    await clock.advance(3_000);
    assert.equal(plc.read('DM', batchAddress(1) + OFFSET.statusManufacturing, 1)[0], 1);
    assert.equal(plc.mixing, 3);
    plc.forceDone(3, { failed: true });
    const b3 = decodeBatch(await fins.readWords('DM', batchAddress(3), BATCH_WORDS));
    assert.deepEqual([b3.finished, b3.failed, plc.mixing], [true, true, null]);
  });
});
