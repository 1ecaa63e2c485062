// deno-lint-ignore-file require-await -- async stubs stand in for device calls that throw or resolve
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { Backoff, retry } from '../../core/retry.ts';
import { CircuitBreaker, type CircuitState, circuitStateValue } from '../../core/circuit-breaker.ts';
import { CircuitOpenError } from '../../core/errors.ts';

test('backoff delays grow exponentially and stop at the cap', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.next()), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(b.attempt, 6);
  b.reset();
  assert.equal(b.attempt, 0);
  assert.equal(b.next(), 100);
});

test('jitter only shortens a delay, within the jitter fraction, so the cap holds', () => {
  const low = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.2, random: () => 0.999999 });
  const high = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.2, random: () => 0 });
  assert.equal(low.next(), 800);
  assert.equal(high.next(), 1000);
  const real = new Backoff({ initialMs: 50, maxMs: 5000 });
  for (let i = 0; i < 50; i++) {
    const d = real.next();
    assert.ok(d >= 0 && d <= 5000, `delay ${d} outside [0, 5000]`);
  }
});

test('backoff rejects nonsense options with a clear message', () => {
  assert.throws(() => new Backoff({ initialMs: 100, maxMs: 10 }), /maxMs \(10\) must be >= initialMs \(100\)/);
  assert.throws(() => new Backoff({ initialMs: 1, maxMs: 10, jitter: 2 }), /jitter must be between 0 and 1/);
});

test('retry waits the backoff delays on the clock and resolves once fn succeeds', async () => {
  const clock = new FakeClock();
  const calls: number[] = [];
  const retries: Array<[number, number]> = [];
  let result: string | undefined;
  const p = retry(
    async (attempt) => {
      calls.push(clock.monotonic());
      if (attempt < 3) throw new Error(`boom ${attempt}`);
      return 'done';
    },
    { clock, initialMs: 100, maxMs: 1000, jitter: 0, onRetry: (_e, attempt, delay) => retries.push([attempt, delay]) },
  ).then((v) => (result = v));
  await clock.advance(99);
  assert.deepEqual(calls, [0]);
  await clock.advance(1);
  assert.deepEqual(calls, [0, 100]);
  await clock.advance(200);
  await p;
  assert.equal(result, 'done');
  assert.deepEqual(calls, [0, 100, 300]);
  assert.deepEqual(retries, [[1, 100], [2, 200]]);
  assert.equal(clock.pendingTimers(), 0);
});

test('retry gives up with the last error after `retries` attempts or when shouldRetry says no', async () => {
  const clock = new FakeClock();
  let n = 0;
  const p = retry(async (attempt) => {
    n++;
    throw new Error(`fail ${attempt}`);
  }, { clock, initialMs: 10, maxMs: 10, jitter: 0, retries: 3 });
  const rejected = assert.rejects(p, /fail 3/);
  await clock.advance(100);
  await rejected;
  assert.equal(n, 3);

  const fatal = retry(async () => {
    throw new TypeError('bad config');
  }, { clock, initialMs: 10, maxMs: 10, shouldRetry: (e) => !(e instanceof TypeError) });
  await assert.rejects(fatal, /bad config/);
});

test('retry stops promptly on abort, during a wait or while fn is still running', async () => {
  const clock = new FakeClock();
  const ac = new AbortController();
  let attempts = 0;
  const waiting = retry(async () => {
    attempts++;
    throw new Error('down');
  }, { clock, initialMs: 60_000, maxMs: 60_000, signal: ac.signal });
  const r1 = assert.rejects(waiting, (e: unknown) => e instanceof Error && e.message === 'stop');
  await clock.advance(1000);
  ac.abort(new Error('stop'));
  await r1;
  assert.equal(attempts, 1);
  assert.equal(clock.pendingTimers(), 0);

  const ac2 = new AbortController();
  const hanging = retry(() => new Promise<never>(() => {}), { clock, initialMs: 1, maxMs: 1, signal: ac2.signal });
  const r2 = assert.rejects(hanging, (e: unknown) => e instanceof Error && e.message === 'shutdown');
  ac2.abort(new Error('shutdown'));
  await r2;

  const already = AbortSignal.abort(new Error('already'));
  let called = false;
  await assert.rejects(retry(async () => void (called = true), { clock, initialMs: 1, maxMs: 1, signal: already }), /already/);
  assert.equal(called, false);
});

test('circuit opens after N consecutive failures and refuses without calling the device', async () => {
  const clock = new FakeClock();
  const changes: string[] = [];
  const cb = new CircuitBreaker({
    name: 'modbus plc (127.0.0.1:1502)',
    clock,
    failureThreshold: 3,
    openMs: 5000,
    onStateChange: (s, prev) => changes.push(`${prev}->${s}`),
  });
  let deviceCalls = 0;
  const failing = async () => {
    deviceCalls++;
    throw new Error('timed out');
  };
  await assert.rejects(cb.call(failing), /timed out/);
  await cb.call(async () => 'ok'); // a success resets the count: failures must be consecutive
  for (let i = 0; i < 3; i++) await assert.rejects(cb.call(failing), /timed out/);
  assert.equal(cb.state, 'open');
  assert.equal(cb.failures, 3);
  assert.equal(deviceCalls, 4);

  await clock.advance(1000);
  await assert.rejects(cb.call(failing), (e: unknown) => {
    assert.ok(e instanceof CircuitOpenError);
    assert.equal(e.message, 'modbus plc (127.0.0.1:1502): circuit open after 3 consecutive failures; next trial in 4 s');
    return true;
  });
  assert.equal(deviceCalls, 4);
  assert.deepEqual(changes, ['closed->open']);
});

test('circuit half-opens after the cool-down, closes on a successful trial, reopens on a failed one', async () => {
  const clock = new FakeClock();
  const states: CircuitState[] = [];
  const cb = new CircuitBreaker({ name: 'plc', clock, failureThreshold: 2, openMs: 10_000, onStateChange: (s) => states.push(s) });
  for (let i = 0; i < 2; i++) cb.recordFailure(new Error('refused'));
  assert.equal(cb.state, 'open');
  assert.equal(cb.lastError, 'refused');

  await clock.advance(10_000);
  assert.equal(cb.state, 'half-open');
  await assert.rejects(cb.call(async () => Promise.reject(new Error('still down'))), /still down/);
  assert.equal(cb.state, 'open'); // one failed trial reopens at once
  await assert.rejects(cb.call(async () => 1), /next trial in 10 s/);

  await clock.advance(10_000);
  // Only one trial at a time while half-open.
  let release!: () => void;
  const trial = cb.call(() => new Promise<string>((r) => (release = () => r('back'))));
  await assert.rejects(cb.call(async () => 2), /half-open, a trial call is already in progress/);
  release();
  assert.equal(await trial, 'back');
  assert.equal(cb.state, 'closed');
  assert.equal(cb.failures, 0);
  assert.deepEqual(states, ['open', 'half-open', 'open', 'half-open', 'closed']);
  assert.equal(clock.pendingTimers(), 0);
});

test('circuit state encodes as a gauge value', () => {
  assert.deepEqual((['closed', 'half-open', 'open'] as const).map(circuitStateValue), [0, 1, 2]);
});

test('trialNow ends an open circuit\'s cool-down (a probe saw the device back); a closed one is untouched', async () => {
  const clock = new FakeClock(0);
  const cb = new CircuitBreaker({ name: 'plc', clock, failureThreshold: 1, openMs: 60_000 });
  cb.trialNow();
  assert.equal(cb.state, 'closed');
  await assert.rejects(cb.call(() => Promise.reject(new Error('down'))), /down/);
  assert.equal(cb.state, 'open');
  assert.ok(cb.retryInMs > 59_000);
  cb.trialNow();
  assert.equal(cb.state, 'half-open');
  assert.equal(cb.retryInMs, 0);
  assert.equal(await cb.call(() => Promise.resolve(7)), 7);
  assert.equal(cb.state, 'closed');
});
