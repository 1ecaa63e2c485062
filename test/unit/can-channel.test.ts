// The CAN channels without hardware: candump lines both ways, the writer, a fixture log replayed
// with exact counts, and the virtual bus with its faults (error frames, bus-off).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { systemClock } from '../../core/clock.ts';
import { CandumpWriter, formatCandumpLine, parseCandumpLine } from '../../adapters/can/candump.ts';
import { ReplayChannel } from '../../adapters/can/replay.ts';
import { VirtualCanBus } from '../../adapters/can/virtual-bus.ts';
import type { CanFrame } from '../../adapters/can/types.ts';
import { eventually } from '../helpers/eventually.ts';

const FIXTURE = new URL('../fixtures/can/greenhouse-20s.log', import.meta.url).pathname;

test('candump lines: standard, extended, error and remote frames, µs timestamps, round trip', () => {
  const std = parseCandumpLine('(1734001123.123456) can0 123#AAFF0410');
  assert.deepEqual(std, { iface: 'can0', direction: null, frame: { id: 0x123, ext: false, data: Uint8Array.from([0xaa, 0xff, 0x04, 0x10]), ts: 1734001123123.456 } });
  const ext = parseCandumpLine('(1734001123.000001) vcan1 18FF5001#5E06')!;
  assert.equal(ext.frame.id, 0x18ff5001);
  assert.equal(ext.frame.ext, true);
  const err = parseCandumpLine('(1734001123.5) can0 20000040#0000000000000000')!;
  assert.equal(err.frame.err, true);
  assert.equal(err.frame.id, 0x40);
  assert.equal(parseCandumpLine('(1.0) can0 321#R')!.frame.rtr, true);
  const fd = parseCandumpLine('(1.0) can0 123##1AABBCCDDEEFF001122334455')!;
  assert.deepEqual([fd.frame.fd, fd.frame.data.length, fd.frame.data[8]], [true, 12, 0x22], 'CAN FD: flags nibble, then 12 bytes');
  assert.equal(parseCandumpLine('(1.0) can0 123##1AABBCCDDEEFF001122'), null, '9 bytes is not a CAN FD length');
  // python-can's CanutilsLogWriter (4.1) and candump -x end lines with the direction; remote frames read `R R`.
  const rx = parseCandumpLine('(1734001123.250000) can0 123#AAFF0410 R')!;
  assert.deepEqual([rx.direction, rx.frame.data.length], ['rx', 4]);
  assert.equal(parseCandumpLine('(1.000000) vcan0 18FF5001#5E06 T')!.direction, 'tx');
  assert.equal(parseCandumpLine('(1.000000) vcan0 321#R R')!.frame.rtr, true);
  assert.equal(parseCandumpLine('(1.000000) can0 20000080#')!.frame.err, true, "python-can's error frame");
  assert.equal(parseCandumpLine(`(1.0) can0 123#${'A'.repeat(600)}`), null, 'over the line length limit');
  assert.equal(parseCandumpLine('(1.0) can0 123#ABC'), null, 'odd number of hex digits');
  for (const line of ['(1734001123.123456) can0 123#AAFF0410', '(1734001123.000001) can0 18FF5001#5E06', '(1734001123.500000) can0 20000040#0000000000000000', '(1734001123.000000) can0 7FF#']) {
    assert.equal(formatCandumpLine(parseCandumpLine(line)!.frame), line);
  }
});

test('the writer appends what it is given and the replay reads the same frames back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-can-'));
  try {
    const path = join(dir, 'out.log');
    const w = await CandumpWriter.open(path, { flushLines: 2 });
    const frames: CanFrame[] = [
      { id: 0x100, ext: false, data: Uint8Array.from([1, 2, 3, 4]), ts: 1000.5 },
      { id: 0x18ff5001, ext: true, data: Uint8Array.from([9]), ts: 1001 },
      { id: 0x7ff, ext: false, data: new Uint8Array(0), ts: 1002.25 },
    ];
    for (const f of frames) w.write(f);
    await w.close();
    assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 3);
    const replay = new ReplayChannel({ path, speed: 'max', timestamps: 'log' }, systemClock);
    const got: CanFrame[] = [];
    replay.onFrame((f) => got.push(f));
    await replay.done;
    assert.deepEqual(got, frames);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the fixture log replayed as fast as possible: exact frame counts, bad lines counted not thrown', async () => {
  const replay = new ReplayChannel({ path: FIXTURE, speed: 'max', timestamps: 'log' }, systemClock);
  let n = 0;
  replay.onFrame(() => n++);
  await replay.done;
  // 20 rounds x 16 frames, plus an unknown id, a wrong DLC, an error frame and a CAN FD frame; garbage is dropped.
  assert.equal(n, 324);
  assert.deepEqual(replay.stats(), { received: 324, sent: 0, errorFrames: 1, dropped: 1, state: 'ended' });
  assert.equal(replay.badLines, 1);
  await assert.rejects(replay.send(), /read-only/);
});

test('a paced replay follows the log timestamps on the injected clock', async () => {
  const clock = new FakeClock(5_000_000);
  const replay = new ReplayChannel({ path: FIXTURE, speed: 1, timestamps: 'now' }, clock);
  const got: CanFrame[] = [];
  replay.onFrame((f) => got.push(f));
  // The log's first five frames share one timestamp; the unknown-id line inserted after them is 377 ms later.
  await eventually('the first frames', 2000, () => got.length === 5);
  assert.equal(got[0].ts, 5_000_000);
  await clock.advance(300);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(got.length, 5, 'nothing before its time');
  await clock.advance(100);
  // ...and the rest of the first round, logged before it, follows without waiting.
  await eventually('the frame at +377 ms and the rest of the round', 2000, () => got.length === 17);
  assert.equal(got[5].ts, 5_000_377);
  await clock.advance(700);
  await eventually('the next second of frames', 2000, () => got.length === 33);
  await replay.close();
});

test('virtual bus: frames reach the other channels, error frames and bus-off are reported', async () => {
  const clock = new FakeClock(1000);
  const bus = new VirtualCanBus('vcan0', clock);
  const a = bus.attach('a');
  const b = bus.attach('b');
  const got: CanFrame[] = [];
  b.onFrame((f) => got.push(f));
  await a.send({ id: 0x123, ext: false, data: Uint8Array.from([1]) });
  assert.equal(got.length, 1);
  assert.equal(got[0].ts, 1000);
  await assert.rejects(a.send({ id: 0x800, ext: false, data: new Uint8Array(0) }), /out of range for a 11-bit/);
  bus.injectErrorFrame();
  assert.equal(got[1].err, true);
  bus.setBusOff(true);
  assert.equal(got[2].err && got[2].id, 0x40, 'a BUSOFF error frame announces it');
  await assert.rejects(a.send({ id: 0x123, ext: false, data: new Uint8Array(0) }), /bus-off/);
  assert.equal(b.stats().state, 'bus-off');
  bus.setBusOff(false);
  await a.send({ id: 0x124, ext: false, data: new Uint8Array(0) });
  assert.deepEqual(b.stats(), { received: 4, sent: 0, errorFrames: 2, dropped: 0, state: 'active' });
  await b.close();
  await assert.rejects(b.send({ id: 1, ext: false, data: new Uint8Array(0) }), /closed/);
});
