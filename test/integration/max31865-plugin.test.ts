// The max31865 plugin in a real runtime on the SPI simulator, with fake time: readings from the lab
// plant, the trend and its pruning, and an RTD open circuit seen end to end (state, health, log).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import spiAdapter from '../../adapters/spi/adapter.ts';
import max31865Plugin from '../../plugins/max31865/plugin.ts';
import type { Max31865Sim } from '../../sim/max31865.ts';
import type { HeaterPlant } from '../../sim/plants/heater.ts';
import { testManifest } from '../helpers/manifest.ts';

async function lab(config: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const { root, lines } = memoryLog('info');
  const manifest = testManifest([{ id: 'rtd-sensor', use: 'max31865', adapters: { spi: 'rtd' }, config: { rtd: 'pt100', ...config } }], {
    adapters: [{ id: 'rtd', kind: 'spi', driver: 'real', options: { device: '/dev/spidev0.0', sim: { chip: 'max31865', plant: 'lab' } } }],
  });
  // sim: true switches the "real" adapter to its simulator, as `fieldgate run --sim` does.
  const runtime = await createRuntime({ manifest, plugins: [max31865Plugin], adapters: [spiAdapter], logRoot: root, dataDir: null, clock, sim: true });
  await runtime.start();
  const missing = () => {
    throw new Error('the spi simulator did not register itself');
  };
  const chip = runtime.world.get<Max31865Sim>('sim:rtd', missing);
  const plant = runtime.world.get<HeaterPlant>('plant:lab', missing);
  return { clock, runtime, chip, plant, lines };
}

const state = (runtime: Runtime, key: string) => runtime.store.get(key);

test('the plant temperature appears as rtd_temp with a fresh sensor_last_ts, sensor_ok and no fault', async () => {
  const { clock, runtime, plant } = await lab();
  try {
    plant.setTemperature(48.2);
    plant.setMv(100);
    plant.setRelay(true);
    // Readings start at 0, 1000, 2000 ms and end 75 ms later (bias settle + conversion); the plant
    // heats ~0.5 °C/s, so compare just after the last one ended.
    await clock.advance(2100);
    const t = state(runtime, 'rtd_temp') as number;
    assert.ok(Math.abs(t - plant.temperature()) < 0.05, `rtd_temp ${t}, plant ${plant.temperature()}`);
    assert.ok(t > 48.5, 'the plant heats and the sensor follows');
    assert.equal(state(runtime, 'sensor_ok'), true);
    assert.equal(state(runtime, 'sensor_fault'), null);
    assert.ok(clock.now() / 1000 - (state(runtime, 'sensor_last_ts') as number) < 1.1);
    assert.equal(runtime.health.report().heartbeats.sensor_last_ts!.stale, false);
  } finally {
    await runtime.stop();
  }
});

test('a trend row every 2 s (pv from the sensor, sp and mv from state); rows older than 3600 s are pruned', async () => {
  const { clock, runtime, chip } = await lab();
  try {
    chip.setTemperature(61.25);
    await runtime.store.setMany({ setpoint: 60, mv: 37.5 });
    await clock.advance(10_000);
    const rows = runtime.store.recentTrend({ limit: 100 });
    assert.equal(rows.length, 5);
    for (let i = 1; i < rows.length; i++) assert.equal(Math.round((rows[i]!.ts - rows[i - 1]!.ts) * 1000), 2000);
    assert.ok(rows.every((r) => r.sp === 60 && r.mv === 37.5 && Math.abs(r.pv! - 61.25) < 0.03), JSON.stringify(rows));

    await clock.advance(3_700_000);
    const all = runtime.store.recentTrend({ limit: 100_000 });
    const nowS = clock.now() / 1000;
    assert.ok(all[0]!.ts >= nowS - 3600 - 60, `oldest row is ${nowS - all[0]!.ts} s old`);
    assert.ok(all.length <= 3660 / 2 && all.length >= 3600 / 2, `${all.length} rows`);
  } finally {
    await runtime.stop();
  }
});

test('RTD open circuit: sensor_ok false with the fault named, logged once, stale in health after 5 s; recovers when repaired', async () => {
  const { clock, runtime, chip, lines } = await lab();
  try {
    chip.setTemperature(25);
    await clock.advance(2000);
    assert.equal(state(runtime, 'sensor_ok'), true);

    chip.injectFault('open');
    await clock.advance(1000);
    assert.equal(state(runtime, 'sensor_ok'), false);
    assert.match(state(runtime, 'sensor_fault') as string, /^RTD open circuit \(REFIN- > 0\.85 VBIAS\)/);
    assert.ok(Math.abs((state(runtime, 'rtd_temp') as number) - 25) < 0.03, 'the last good value stays; its age tells it is old');
    assert.equal(runtime.health.report().heartbeats.sensor_last_ts!.stale, false, 'not stale yet');

    await clock.advance(5000);
    const report = runtime.health.report();
    assert.equal(report.heartbeats.sensor_last_ts!.stale, true);
    assert.equal(report.status, 'degraded');
    assert.equal(report.plugins['rtd-sensor']!.status, 'running', 'a sensor fault never stops the plugin');
    assert.equal(report.plugins['rtd-sensor']!.restarts, 0);
    const warnings = lines.filter((l) => l.ns === 'plugin:rtd-sensor' && l.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(String(warnings[0]!.msg), /RTD open circuit.*retrying every 1000 ms/);
    const trendDuringFault = runtime.store.recentTrend({ limit: 2 });
    assert.equal(trendDuringFault.at(-1)!.pv, null, 'no stale pv in the trend while the sensor is down');

    chip.clearFault();
    chip.setTemperature(26.5);
    await clock.advance(1000);
    assert.equal(state(runtime, 'sensor_ok'), true);
    assert.equal(state(runtime, 'sensor_fault'), null);
    assert.ok(Math.abs((state(runtime, 'rtd_temp') as number) - 26.5) < 0.03);
    assert.equal(runtime.health.report().heartbeats.sensor_last_ts!.stale, false);
    assert.ok(lines.some((l) => l.ns === 'plugin:rtd-sensor' && l.level === 'info' && /reading again/.test(String(l.msg))));
  } finally {
    await runtime.stop();
  }
});

test('state key names are configurable; stopping the plugin turns the bias off and leaves no timers', async () => {
  const { clock, runtime, chip } = await lab({ keys: { temperature: 'tank_temp', lastTs: 'tank_ts', ok: 'tank_ok', fault: 'tank_fault' }, trend: { enabled: false } });
  chip.setTemperature(70);
  await clock.advance(1500);
  assert.ok(Math.abs((state(runtime, 'tank_temp') as number) - 70) < 0.03);
  assert.equal(state(runtime, 'tank_ok'), true);
  assert.equal(state(runtime, 'rtd_temp'), undefined);
  assert.ok(runtime.health.report().heartbeats.tank_ts);
  assert.equal(runtime.store.recentTrend().length, 0);
  const regs = chip.registers();
  await runtime.stop();
  assert.equal(regs[0]! & 0x80, 0, 'bias is off between one-shot readings');
  assert.equal(chip.writes().at(-1)!.value & 0x80, 0, 'bias off at stop');
  assert.equal(clock.pendingTimers(), 0);
});
