// Unit counting: rising edges with debounce, PLC counters with wrap-around and resets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterTracker, EdgeCounter } from '../../plugins/recorder/counting.ts';

/** Feeds a level sequence sampled every `stepMs`; returns the units counted. */
function feed(counter: EdgeCounter, levels: string, stepMs: number, t0 = 0): number {
  let units = 0;
  [...levels].forEach((c, i) => (units += counter.update(c === '1', t0 + i * stepMs)));
  return units;
}

test('edge counting: one unit per rising edge, none for the level staying high or falling', () => {
  const c = new EdgeCounter(0);
  assert.equal(feed(c, '0011100110001', 50), 3);
});

test('edge counting: bounce within debounceMs is one unit; separate pulses beyond it each count', () => {
  // Polled every 5 ms: the contact bounces 1-0-1-0-1 within 20 ms, then a clean pulse 200 ms later.
  const c = new EdgeCounter(30);
  const bounce = '0101011111' + '0'.repeat(30) + '1111000';
  assert.equal(feed(c, bounce, 5), 2);
  const none = new EdgeCounter(30);
  assert.equal(feed(none, '0101010', 5), 1, 'three edges 10 ms apart are one unit');
  assert.equal(feed(new EdgeCounter(0), '0101010', 5), 3, 'without debounce each edge counts');
});

test('edge counting: the first reading and the first after forget() are a baseline, not an edge', () => {
  const c = new EdgeCounter(0);
  assert.equal(c.update(true, 0), 0, 'high at start: a unit already in progress is not counted');
  assert.equal(c.update(false, 50), 0);
  assert.equal(c.update(true, 100), 1);
  c.update(false, 150);
  c.forget();
  assert.equal(c.update(true, 5000), 0, 'high after a gap: unknowable, not counted');
  assert.equal(c.update(false, 5050), 0);
  assert.equal(c.update(true, 5100), 1);
});

test('edge interrupts: rising() applies the same debounce', () => {
  const c = new EdgeCounter(20);
  assert.deepEqual([0, 5, 12, 40, 45, 100].map((t) => c.rising(t)), [1, 0, 0, 1, 0, 1]);
});

test('counter: deltas, the first reading is a baseline, a restored last value continues', () => {
  const c = new CounterTracker(65536);
  assert.equal(c.update(1000), 0);
  assert.equal(c.update(1003), 3);
  assert.equal(c.update(1003), 0);
  const resumed = new CounterTracker(65536, 1003);
  assert.equal(resumed.update(1010), 7, 'after a restart the delta is taken from the persisted value');
});

test('counter: wrap-around at the modulus, signed INT counters, and a PLC counter reset', () => {
  const c = new CounterTracker(65536, 65530);
  assert.equal(c.update(4), 10, '65530 → 65535 → 0 → 4 is 10 units');
  const int16 = new CounterTracker(65536, 32766);
  assert.equal(int16.update(-32767), 3, 'INT read as signed: 32766 → 32767 → -32768 → -32767');
  const small = new CounterTracker(1000, 998);
  assert.equal(small.update(1), 3, 'wrap at a custom counterWrap');
  const reset = new CounterTracker(65536, 5000);
  assert.equal(reset.update(12), 12, 'a small backwards step is a counter reset: the new value is the count since');
});
