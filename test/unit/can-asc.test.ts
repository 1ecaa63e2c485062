// Vector ASCII (.asc) lines as CANalyzer/CANoe and python-can write them: hex and decimal bases,
// absolute and relative timestamps, the trigger block's start date, remote, error and CAN FD frames,
// and the other events an .asc carries, which are skipped rather than counted as bad lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AscReader, ascDate } from '../../adapters/can/asc.ts';
import type { CandumpRecord } from '../../adapters/can/candump.ts';

const frame = (r: CandumpRecord | 'skip' | null) => {
  assert.ok(r && r !== 'skip', `a frame, got ${JSON.stringify(r)}`);
  return r.frame;
};

test('python-can and CANalyzer .asc lines', () => {
  const a = new AscReader();
  for (const h of ['date Thu Dec 12 10:58:43.001 AM 2024', 'base hex  timestamps absolute', 'internal events logged', '// version 9.0.0', 'Begin Triggerblock Thu Dec 12 10:58:43.001 AM 2024', '   0.000000 Start of measurement']) {
    assert.equal(a.parse(h), 'skip', h);
  }
  const start = Date.UTC(2024, 11, 12, 10, 58, 43, 1);
  const f = frame(a.parse('   0.250000 1  18FF5001x       Rx   d 2 5E 06  Length = 0 BitCount = 0 ID = 419385345x'));
  assert.deepEqual([f.id, f.ext, [...f.data], f.ts], [0x18ff5001, true, [0x5e, 0x06], start + 250]);
  const r = a.parse('   0.300000 1  123             Tx   r 8');
  assert.ok(r && r !== 'skip' && r.frame.rtr && r.direction === 'tx');
  assert.equal(frame(a.parse('   0.400000 1  ErrorFrame')).err, true);
  const fd = frame(a.parse('   0.500000 CANFD   1 Rx      1A3                                   1 0 9 12 01 02 03 04 05 06 07 08 09 0A 0B 0C        0    0     3000        0        0        0        0        0'));
  assert.deepEqual([fd.id, fd.fd, fd.data.length, fd.data[11]], [0x1a3, true, 12, 0x0c]);
  assert.equal(a.parse('   1.000000 1  Statistic: D 0 R 0 XD 0 XR 0 E 0 O 0 B 0.00%'), 'skip', 'an event, not a frame');
  assert.equal(a.parse('   1.100000 1  123  Rx   d 8 01 02'), null, 'fewer bytes than the DLC');
  assert.equal(a.parse('garbage'), null);
});

test('decimal base and relative timestamps', () => {
  const a = new AscReader();
  a.parse('base dec  timestamps relative');
  a.parse('Begin Triggerblock Mon Jan 6 14:00:00.000 2025');
  const one = frame(a.parse('   0.100000 1  291             Rx   d 2 255 16'));
  const two = frame(a.parse('   0.100000 1  291             Rx   d 2 0 1'));
  assert.deepEqual([one.id, [...one.data]], [0x123, [255, 16]]);
  assert.equal(two.ts - one.ts, 100, 'relative: each time counts from the previous event');
  assert.equal(one.ts, Date.UTC(2025, 0, 6, 14, 0, 0, 100));
  assert.equal(ascDate('Thu Dec 12 12:05:00.000 PM 2024'), Date.UTC(2024, 11, 12, 12, 5));
  assert.equal(ascDate('Thu Dec 12 12:05:00.000 AM 2024'), Date.UTC(2024, 11, 12, 0, 5));
});
