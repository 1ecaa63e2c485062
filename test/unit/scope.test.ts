import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { PluginScope } from '../../core/host/scope.ts';

test('loop() paces itself by the delay each run returns, never overlaps, and stops with the scope', async () => {
  const clock = new FakeClock();
  const failures: unknown[] = [];
  const scope = new PluginScope('p', clock, (e) => failures.push(e));
  const runs: number[] = [];
  const delays = [100, 500, 50];
  scope.loop(async () => {
    runs.push(clock.monotonic());
    await Promise.resolve();
    return delays[Math.min(runs.length - 1, delays.length - 1)];
  });
  await clock.advance(700);
  assert.deepEqual(runs, [0, 100, 600, 650, 700]);
  await scope.dispose();
  await clock.advance(1000);
  assert.equal(runs.length, 5, 'no run after dispose');
  assert.equal(clock.pendingTimers(), 0);
  assert.deepEqual(failures, []);
});

test('a throw in loop() is the plugin failure, and timers of a disposed scope are gone', async () => {
  const clock = new FakeClock();
  const failures: string[] = [];
  const scope = new PluginScope('p', clock, (e) => failures.push((e as Error).message));
  scope.loop(() => {
    throw new Error('device gone');
  }, 10);
  scope.setInterval(() => {}, 5);
  await clock.advance(10);
  assert.deepEqual(failures, ['device gone']);
  await scope.dispose();
  assert.equal(scope.timerCount(), 0);
  assert.equal(clock.pendingTimers(), 0);
});
