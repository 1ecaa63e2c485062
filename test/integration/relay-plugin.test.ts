// The relay plugin in a real runtime against the device simulators over loopback HTTP (and a
// simulated GPIO line): switching on the bus event, polling, offline backoff and recovery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog, type LogFields } from '../../core/log.ts';
import type { AdapterEntry } from '../../core/manifest/types.ts';
import httpAdapter from '../../adapters/http/adapter.ts';
import gpioAdapter from '../../adapters/gpio/adapter.ts';
import relay from '../../plugins/relay/plugin.ts';
import type { Esp32RelaySimulator } from '../../sim/esp32-relay.ts';
import type { SimGpioLine } from '../../sim/gpio.ts';
import type { HeaterPlant } from '../../sim/plants/heater.ts';
import { testManifest } from '../helpers/manifest.ts';

const KEY = 'relay-key-0123';

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Rig {
  runtime: Runtime;
  lines: LogFields[];
  sim<T>(adapterId: string): T;
  plant(): HeaterPlant;
  stop(): Promise<void>;
}

async function rig(config: Record<string, unknown>, adapter: AdapterEntry, binding: Record<string, string>): Promise<Rig> {
  const { root, lines } = memoryLog('debug');
  const manifest = testManifest([{ id: 'power', use: 'relay', adapters: binding, config }], { adapters: [adapter] });
  const runtime = await createRuntime({ manifest, plugins: [relay], adapters: [httpAdapter, gpioAdapter], logRoot: root, dataDir: null, sim: true });
  await runtime.start();
  const missing = (name: string) => () => {
    throw new Error(`${name} is not in the sim world`);
  };
  return {
    runtime,
    lines,
    sim: <T>(id: string) => runtime.world.get<T>(`sim:${id}`, missing(`sim:${id}`)),
    plant: () => runtime.world.get<HeaterPlant>('plant:lab', missing('plant:lab')),
    stop: () => runtime.stop(),
  };
}

const lab = (options: Record<string, unknown> = {}): AdapterEntry => ({
  id: 'esp32',
  kind: 'http',
  driver: 'real',
  options: { baseUrl: 'http://192.0.2.10', apiKey: KEY, timeoutMs: 300, sim: { device: 'esp32-lab' }, ...options },
});

test('power_on_requested true switches the ESP32 at once (not at the next poll) and power_on_actual follows', async () => {
  const r = await rig({ driver: 'esp32-lab', pollMs: 60_000 }, lab(), { device: 'esp32' });
  try {
    const { store } = r.runtime;
    const device = r.sim<Esp32RelaySimulator>('esp32');
    await until('the first poll', () => store.get('esp32_connected') === true);
    assert.equal(store.get('power_on_actual'), false);
    const firstTs = store.get<number>('relay_last_ts');
    assert.ok(typeof firstTs === 'number' && Math.abs(firstTs - Date.now() / 1000) < 5, 'relay_last_ts is epoch seconds');

    await store.set('power_on_requested', true);
    await until('the relay to switch on', () => device.relay && store.get('power_on_actual') === true, 2000);
    assert.equal(r.plant().relayOn, true, 'the plant heater relay follows');
    const posts = device.requests.filter((q) => q.method === 'POST');
    assert.deepEqual(posts.map((q) => JSON.parse(q.body)), [{ on: true }]);
    assert.equal(device.requests.filter((q) => q.path === '/status').length, 1, 'switched without waiting for a poll');

    await store.set('power_on_requested', false);
    await until('the relay to switch off', () => !device.relay && store.get('power_on_actual') === false, 2000);
    assert.equal(r.plant().relayOn, false);
    assert.equal(r.runtime.health.report().heartbeats.relay_last_ts.stale, false);
  } finally {
    await r.stop();
  }
});

test('ESP32 offline: esp32_connected false, polls back off with growing delays, logged once; on return it re-applies the request', async () => {
  const r = await rig(
    { driver: 'esp32-lab', pollMs: 50, backoff: { initialMs: 40, maxMs: 320, factor: 2, jitter: 0 } },
    lab(),
    { device: 'esp32' },
  );
  try {
    const { store } = r.runtime;
    const device = r.sim<Esp32RelaySimulator>('esp32');
    await until('connected', () => store.get('esp32_connected') === true);
    await device.setOffline(true);
    await until('esp32_connected false', () => store.get('esp32_connected') === false);

    const retries = () => r.lines.filter((l) => l.ns === 'plugin:power' && typeof l.retryInMs === 'number').map((l) => l.retryInMs as number);
    await until('the backoff to reach its cap', () => retries().includes(320), 5000);
    const delays = retries();
    assert.deepEqual(delays.slice(0, 4), [40, 80, 160, 320], 'each failed poll waits twice as long');
    assert.ok(delays.every((d) => d <= 320), 'capped at maxMs');
    const warnings = r.lines.filter((l) => l.ns === 'plugin:power' && l.level === 'warn');
    assert.equal(warnings.length, 1, 'one warning per outage');
    assert.match(String(warnings[0]!.msg), /unreachable \(.*cannot connect \(ECONNREFUSED\)\)/);

    // Requested while the device is away: it cannot switch now, and must once it is back.
    await store.set('power_on_requested', true);
    assert.equal(r.runtime.supervisor.status('power').status, 'running', 'the plugin never exits on an unreachable device');
    await device.setOffline(false);
    await until('reconnect and re-apply', () => store.get('esp32_connected') === true && device.relay && store.get('power_on_actual') === true, 3000);
    assert.equal(r.plant().relayOn, true);
    assert.ok(r.lines.some((l) => /back online after/.test(String(l.msg))));
  } finally {
    await r.stop();
  }
});

test('a device that rebooted between two polls (uptime went back) gets the request again; a button press is respected', async () => {
  const r = await rig({ driver: 'esp32-lab', pollMs: 100 }, lab(), { device: 'esp32' });
  try {
    const { store } = r.runtime;
    const device = r.sim<Esp32RelaySimulator>('esp32');
    await until('the first poll', () => store.get('esp32_connected') === true);
    await store.set('power_on_requested', true);
    await until('the relay on', () => device.relay && store.get('power_on_actual') === true);
    // Someone switches it off at the device: the gateway shows it and does not fight it.
    device.setRelay(false);
    await until('power_on_actual false', () => store.get('power_on_actual') === false);
    const polls = device.requests.length;
    await until('a few more polls', () => device.requests.length > polls + 3);
    assert.equal(device.relay, false, 'a button press is not overridden');
    device.setRelay(true);
    await until('power_on_actual true', () => store.get('power_on_actual') === true);
    // Uptime is whole seconds: let one pass (seen in the polled status) so a reboot makes it go back.
    await until('uptime >= 1 s in a poll', () => r.lines.some((l) => /"uptime":[1-9]/.test(String(l.msg))), 5000);
    await device.reboot();
    assert.equal(device.relay, false, 'the reboot switched the relay off');
    await until('the relay on again', () => device.relay, 3000);
    assert.ok(r.lines.some((l) => /relay is OFF but ON was requested \(the device restarted: uptime went back\); re-applying/.test(String(l.msg))));
    assert.equal(store.get('esp32_connected'), true, 'never seen offline: recognised by its uptime alone');
  } finally {
    await r.stop();
  }
});

test('a wrong API key: the device counts as unreachable and the one warning names 401 and the apiKey option, never the key', async () => {
  const r = await rig(
    { driver: 'esp32-lab', pollMs: 50, backoff: { initialMs: 40, maxMs: 80, jitter: 0 } },
    lab({ sim: { device: 'esp32-lab', apiKey: 'the-device-key' } }),
    { device: 'esp32' },
  );
  try {
    await until('the outage warning', () => r.lines.some((l) => l.level === 'warn'));
    const warning = r.lines.find((l) => l.level === 'warn')!;
    assert.match(String(warning.msg), /GET \/status answered 401 Unauthorized.*check the adapter's apiKey/);
    assert.equal(r.runtime.store.get('esp32_connected'), false);
    assert.ok(!JSON.stringify(r.lines).includes('the-device-key'));
  } finally {
    await r.stop();
  }
});

for (const device of ['tasmota', 'shelly-gen2'] as const) {
  test(`${device} preset through the runtime: request → device → actual`, async () => {
    const r = await rig({ driver: device, pollMs: 60_000 }, lab({ sim: { device } }), { device: 'esp32' });
    try {
      const sim = r.sim<Esp32RelaySimulator>('esp32');
      await until('connected', () => r.runtime.store.get('esp32_connected') === true);
      await r.runtime.store.set('power_on_requested', true);
      await until('on', () => sim.relay && r.runtime.store.get('power_on_actual') === true, 2000);
      assert.equal(r.plant().relayOn, true);
    } finally {
      await r.stop();
    }
  });
}

test('gpio driver: a simulated active-low line follows the request and drives the plant relay', async () => {
  const r = await rig(
    { driver: 'gpio', pollMs: 60_000 },
    { id: 'relay-pin', kind: 'gpio', driver: 'real', options: { chip: 'pinctrl-bcm2711', line: 17, activeLow: true, sim: { plantRelay: true } } },
    { line: 'relay-pin' },
  );
  try {
    const line = r.sim<SimGpioLine>('relay-pin');
    await until('connected', () => r.runtime.store.get('esp32_connected') === true);
    await r.runtime.store.set('power_on_requested', true);
    await until('on', () => r.runtime.store.get('power_on_actual') === true, 2000);
    assert.equal(line.level, 0, 'active low: relay on = pin low');
    assert.equal(r.plant().relayOn, true);
  } finally {
    await r.stop();
  }
});

test('the wrong binding for the driver is refused with a message naming the binding to add', async () => {
  const r = await rig({ driver: 'gpio' }, lab(), { device: 'esp32' });
  try {
    const status = r.runtime.supervisor.status('power');
    assert.notEqual(status.status, 'running');
    assert.match(String(status.lastError), /relay "power" \(driver "gpio"\) needs the adapter binding "line" \(an adapter of kind "gpio"\).*"device" is bound/);
  } finally {
    await r.stop();
  }
});
