// The RTU server's framer against a line that never goes quiet: bytes that cannot be a frame are
// dropped once past the 256-byte RTU frame limit, not held until a silence that never comes, and
// a good frame after them is served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { encodeRtuFrame, RTU_MAX_ADU, RtuFramer } from '../../adapters/modbus/server/rtu.ts';

test('an endless stream without silence is dropped in pieces of at most one frame limit plus one chunk', async () => {
  const clock = new FakeClock();
  const frames: number[] = [];
  const dropped: Array<{ reason: string; size: number }> = [];
  const framer = new RtuFramer({ silenceMs: 1.75, clock, onFrame: (unit) => frames.push(unit), onDropped: (reason, bytes) => dropped.push({ reason, size: bytes.length }) });
  const chunk = new Uint8Array(64).fill(0xff);
  for (let i = 0; i < 1000; i++) framer.push(chunk); // 64 KB, no gap long enough for a silence
  assert.ok(dropped.length >= 200, `dropped ${dropped.length} times`);
  assert.ok(dropped.every((d) => d.size <= RTU_MAX_ADU + chunk.length), `largest held: ${Math.max(...dropped.map((d) => d.size))}`);
  assert.match(dropped[0]!.reason, /^\d+ bytes without a frame boundary, over the 256-byte RTU frame limit$/);
  await clock.advance(60);
  framer.push(encodeRtuFrame(240, Uint8Array.from([3, 0, 0, 0, 1])));
  assert.deepEqual(frames, [240]);
});
