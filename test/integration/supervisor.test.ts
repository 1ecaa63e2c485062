// The supervisor restarts a failing plugin alone, with growing delays, while the others keep running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { definePlugin, type AnyPluginDefinition } from '../../core/plugin.ts';
import { testManifest } from '../helpers/manifest.ts';

const healthy = definePlugin<{ key: string }>({
  type: 'healthy',
  version: '1.0.0',
  description: 'beats every second',
  configSchema: { type: 'object' },
  create({ config, scope, health }) {
    return {
      start() {
        health.watch({ key: config.key, maxAgeS: 3, owner: scope.owner });
        scope.every(1000, () => health.beat(config.key), { immediate: true });
      },
    };
  },
});

const alwaysThrows = definePlugin({
  type: 'always-throws',
  version: '1.0.0',
  description: 'fails at every start',
  configSchema: { type: 'object' },
  create({ bus }) {
    return {
      start() {
        bus.subscribe('anything/#', () => {});
        throw new Error('cannot open device');
      },
    };
  },
});

const timerThrows = definePlugin({
  type: 'timer-throws',
  version: '1.0.0',
  description: 'fails in a timer half a second after start',
  configSchema: { type: 'object' },
  create({ scope, bus }) {
    return {
      start() {
        bus.subscribe('state/+', () => {});
        scope.setTimeout(() => {
          throw new Error('poll loop crashed');
        }, 500);
      },
    };
  },
});

const listenerThrows = definePlugin({
  type: 'listener-throws',
  version: '1.0.0',
  description: 'fails when a command arrives on the bus',
  configSchema: { type: 'object' },
  create({ bus }) {
    return {
      start() {
        bus.subscribe('cmd/go', () => Promise.reject(new Error('command handler rejected')));
      },
    };
  },
});

const plugins: AnyPluginDefinition[] = [healthy, alwaysThrows, timerThrows, listenerThrows];

async function runtimeWith(entries: Parameters<typeof testManifest>[0]) {
  const clock = new FakeClock();
  const { root } = memoryLog('silent');
  const runtime = await createRuntime({ manifest: testManifest(entries), plugins, adapters: [], logRoot: root, dataDir: null, clock });
  return { runtime, clock };
}

test('a plugin that always throws is restarted with growing, capped delays while a healthy plugin keeps its heartbeat', async () => {
  const { runtime, clock } = await runtimeWith([
    { id: 'ok', use: 'healthy', config: { key: 'ok_ts' } },
    { id: 'bad', use: 'always-throws' },
  ]);
  await runtime.start();
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    const s = runtime.supervisor.status('bad');
    assert.equal(s.status, 'backing-off');
    assert.equal(s.lastError, 'cannot open device');
    assert.equal(runtime.bus.listenerCount('bad'), 0, 'listeners of the failed run are gone');
    const delay = s.nextRestartAt! - clock.now();
    delays.push(delay);
    await clock.advance(delay);
    const hb = runtime.health.report().heartbeats['ok_ts'];
    assert.equal(hb.stale, false, `healthy heartbeat stays fresh (age ${hb.ageS}s)`);
    assert.equal(runtime.supervisor.status('ok').status, 'running');
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
  assert.equal(runtime.supervisor.status('bad').restarts, 7);
  assert.equal(runtime.supervisor.status('ok').restarts, 0);
  const metrics = await runtime.metrics.text();
  assert.match(metrics, /fieldgate_plugin_restarts_total\{plugin="bad"\} 7/);
  await runtime.stop();
});

test('a throw inside a plugin timer restarts that plugin and removes its listeners and timers', async () => {
  const { runtime, clock } = await runtimeWith([{ id: 'poller', use: 'timer-throws' }]);
  await runtime.start();
  assert.equal(runtime.supervisor.status('poller').status, 'running');
  assert.equal(runtime.bus.listenerCount('poller'), 1);
  await clock.advance(500);
  const s = runtime.supervisor.status('poller');
  assert.equal(s.status, 'backing-off');
  assert.equal(s.lastError, 'poll loop crashed');
  assert.equal(runtime.bus.listenerCount('poller'), 0);
  await clock.advance(1000);
  assert.equal(runtime.supervisor.status('poller').status, 'running');
  assert.equal(runtime.bus.listenerCount('poller'), 1, 'exactly one listener after the restart, no leak');
  await runtime.stop();
  assert.equal(runtime.bus.listenerCount(), 0);
});

test('a rejecting bus listener restarts its plugin; backoff resets after a stable period', async () => {
  const { runtime, clock } = await runtimeWith([{ id: 'cmd', use: 'listener-throws' }]);
  await runtime.start();
  for (let round = 0; round < 2; round++) {
    runtime.bus.publish('cmd/go', {});
    await clock.advance(0);
    const s = runtime.supervisor.status('cmd');
    assert.equal(s.status, 'backing-off');
    assert.equal(s.lastError, 'command handler rejected');
    assert.equal(s.nextRestartAt! - clock.now(), 1000 * 2 ** round);
    await clock.advance(s.nextRestartAt! - clock.now());
    assert.equal(runtime.supervisor.status('cmd').status, 'running');
  }
  await clock.advance(60_000);
  runtime.bus.publish('cmd/go', {});
  await clock.advance(0);
  const s = runtime.supervisor.status('cmd');
  assert.equal(s.nextRestartAt! - clock.now(), 1000, 'backoff starts again from the initial delay after 60 s of stable running');
  await runtime.stop();
});

test('plugins start in dependency order and stop in reverse', async () => {
  const events: string[] = [];
  const tracer = definePlugin<{ name: string }>({
    type: 'tracer',
    version: '1.0.0',
    description: 'records start and stop',
    configSchema: { type: 'object' },
    create({ id }) {
      return { start: () => void events.push(`start ${id}`), stop: () => void events.push(`stop ${id}`) };
    },
  });
  const { root } = memoryLog('silent');
  const manifest = testManifest([
    { id: 'api', use: 'tracer', dependsOn: ['sensor', 'plc'] },
    { id: 'sensor', use: 'tracer' },
    { id: 'plc', use: 'tracer', dependsOn: ['sensor'] },
  ]);
  const runtime = await createRuntime({ manifest, plugins: [tracer], adapters: [], logRoot: root, dataDir: null, clock: new FakeClock() });
  await runtime.start();
  await runtime.stop();
  assert.deepEqual(events, ['start sensor', 'start plc', 'start api', 'stop api', 'stop plc', 'stop sensor']);
});
