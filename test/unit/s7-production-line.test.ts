// The production-line model's ground truth on a fake clock: exact cycles in a window, pulses, counter
// wrap-around, energy, scripted stops, and seeded randomness that repeats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { S7Memory } from '../../sim/s7-memory.ts';
import { ProductionLine } from '../../sim/production-line.ts';

test('cycles in a time window are exact, and each pulses the input for pulseMs', async () => {
  const clock = new FakeClock();
  const memory = new S7Memory({ dbs: { 1: 16 } });
  const line = new ProductionLine({ clock, machines: [{ name: 'press', cycleMs: 10_000, cycleInput: 'I0.0', pulseMs: 200, counter: 'DB1,DINT4', power: 'DB1,REAL0', runKw: 5, idleKw: 1 }] });
  line.addSink(memory);
  const t0 = clock.now();
  line.start();
  assert.equal(memory.get('DB1,REAL0'), 5);
  await clock.advance(10_000);
  assert.equal(memory.get('I0.0'), true);
  await clock.advance(199);
  assert.equal(memory.get('I0.0'), true);
  await clock.advance(1);
  assert.equal(memory.get('I0.0'), false);
  await clock.advance(3_600_000 - 10_200);
  const press = line.machine('press');
  assert.equal(press.cycles, 360);
  assert.equal(press.cyclesBetween(t0, t0 + 60_000), 5); // cycles end at 10, 20, ..., 50 s; 60 s falls in the next window
  assert.equal(memory.get('DB1,DINT4'), 360);
  assert.ok(Math.abs(press.energyKwh - 5) < 1e-9);
  press.stop();
  assert.equal(memory.get('DB1,REAL0'), 1);
  await clock.advance(3_600_000);
  assert.equal(press.cycles, 360);
  assert.ok(Math.abs(press.energyKwh - 6) < 1e-9);
  line.close();
  assert.equal(clock.pendingTimers(), 0);
});

test('the counter wraps at counterWrap (default 2^31)', async () => {
  const clock = new FakeClock();
  const memory = new S7Memory({ dbs: { 1: 16 } });
  const line = new ProductionLine({
    clock,
    machines: [
      { name: 'a', cycleMs: 1000, counter: 'DB1,DINT0', counterStart: 2 ** 31 - 2, runKw: 1 },
      { name: 'b', cycleMs: 1000, counter: 'DB1,WORD4', counterWrap: 65536, counterStart: 65535, runKw: 1 },
    ],
  });
  line.addSink(memory);
  line.start();
  await clock.advance(3000);
  assert.equal(line.machine('a').cycles, 3);
  assert.equal(memory.get('DB1,DINT0'), 1); // 2^31-2 → 2^31-1 → 0 → 1
  assert.equal(memory.get('DB1,WORD4'), 2);
  line.close();
});

test('time scale, scripted breakdowns and seeded random stops are deterministic', async () => {
  const run = async (seed: number) => {
    const clock = new FakeClock();
    const line = new ProductionLine({
      clock, seed, timeScale: 10,
      machines: [
        { name: 'x', cycleMs: 10_000, runKw: 2, breakdown: { probability: 0.05, durationMs: 60_000 }, changeover: { probability: 0.05, durationMs: 120_000 } },
        { name: 'y', cycleMs: 10_000, runKw: 2, script: [{ atMs: 5_000, state: 'breakdown', forMs: 10_000 }] },
      ],
    });
    line.start();
    await clock.advance(60_000);
    const out = [line.machine('x').cycles, line.machine('y').cycles];
    line.close();
    return out;
  };
  const a = await run(7);
  assert.deepEqual(await run(7), a);
  // 10 s cycles at time scale 10 = one cycle per clock second, 60 without stops.
  assert.ok(a[0] > 0 && a[0] < 60, `x stopped for breakdowns/changeovers (${a[0]} of 60 cycles)`);
  // y: cycles end at 1..4 s; the breakdown at 5 s abandons the cycle due then; down until 15 s; 45 more.
  assert.equal(a[1], 4 + 45);
});
