// FakeClock: timers fire in (due, creation) order, intervals keep their period, cleared timers never
// fire, and a schedule of thousands of timers (the soak's) stays correct with the heap behind it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';

test('timers fire in due order, ties in the order they were set, and time reads the due time', async () => {
  const clock = new FakeClock(1_000);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push(`c@${clock.monotonic()}`), 30);
  clock.setTimeout(() => fired.push(`a@${clock.monotonic()}`), 10);
  clock.setTimeout(() => fired.push(`b@${clock.monotonic()}`), 10);
  clock.setTimeout(() => fired.push(`late@${clock.monotonic()}`), 31);
  await clock.advance(30);
  assert.deepEqual(fired, ['a@10', 'b@10', 'c@30']);
  assert.equal(clock.now(), 1_030);
  assert.equal(clock.pendingTimers(), 1);
  await clock.advance(1);
  assert.deepEqual(fired.at(-1), 'late@31');
  assert.equal(clock.pendingTimers(), 0);
});

test('an interval fires once per period and interleaves with timeouts by due time', async () => {
  const clock = new FakeClock();
  const fired: string[] = [];
  const every = clock.setInterval(() => fired.push(`i${clock.monotonic()}`), 40);
  clock.setTimeout(() => fired.push(`t${clock.monotonic()}`), 100);
  clock.setTimeout(() => fired.push(`u${clock.monotonic()}`), 80); // same due as the interval's 2nd: set later, fires after
  await clock.advance(130);
  assert.deepEqual(fired, ['i40', 'i80', 'u80', 't100', 'i120']);
  clock.clearInterval(every);
  await clock.advance(1_000);
  assert.equal(fired.length, 5);
  assert.equal(clock.pendingTimers(), 0);
});

test('a cleared timer never fires, also when cleared by another timer or by itself', async () => {
  const clock = new FakeClock();
  const fired: string[] = [];
  const victim = clock.setTimeout(() => fired.push('victim'), 20);
  clock.setTimeout(() => clock.clearTimeout(victim), 10);
  const self = clock.setInterval(() => {
    fired.push('self');
    clock.clearInterval(self);
  }, 5);
  await clock.advance(100);
  assert.deepEqual(fired, ['self']);
  assert.equal(clock.pendingTimers(), 0);
});

test('a timer set while firing, due within the advance, fires in the same advance', async () => {
  const clock = new FakeClock();
  const fired: number[] = [];
  clock.setTimeout(() => {
    fired.push(clock.monotonic());
    clock.setTimeout(() => fired.push(clock.monotonic()), 0);
    clock.setTimeout(() => fired.push(clock.monotonic()), 15);
  }, 10);
  await clock.advance(20);
  assert.deepEqual(fired, [10, 10]);
  await clock.advance(5);
  assert.deepEqual(fired, [10, 10, 25]);
});

test('promises started by a timer settle before the next timer fires', async () => {
  const clock = new FakeClock();
  const order: string[] = [];
  clock.setTimeout(() => {
    void Promise.resolve().then(() => order.push('first settled'));
  }, 10);
  clock.setTimeout(() => order.push('second fired'), 10);
  await clock.advance(10);
  assert.deepEqual(order, ['first settled', 'second fired']);
});

test('thousands of timers set and cleared (a request deadline per poll) fire exactly as scheduled', async () => {
  const clock = new FakeClock();
  let polls = 0;
  let deadlines = 0;
  const kept: number[] = [];
  // A poll every 100 ms sets a 1 s deadline and clears it at once; every 7th is left to fire.
  clock.setInterval(() => {
    polls++;
    const h = clock.setTimeout(() => deadlines++, 1_000);
    if (polls % 7 === 0) kept.push(clock.monotonic() + 1_000);
    else clock.clearTimeout(h);
  }, 100);
  // A scattered set of one-shot timers with the expected firing order.
  const seen: number[] = [];
  const dues = Array.from({ length: 2_000 }, (_, i) => (i * 7_919) % 60_000);
  dues.forEach((d, i) => clock.setTimeout(() => seen.push(i), d));
  await clock.advance(60_000);
  assert.equal(polls, 600);
  assert.equal(deadlines, kept.filter((d) => d <= 60_000).length);
  const expected = dues.map((d, i) => ({ d, i })).sort((a, b) => a.d - b.d || a.i - b.i).map((x) => x.i);
  assert.deepEqual(seen, expected);
  assert.equal(clock.pendingTimers(), 1 + kept.filter((d) => d > 60_000).length);
});
