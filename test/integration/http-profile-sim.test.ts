// The generic HTTP JSON profile simulator, started through the `http` adapter's sim driver with an
// inline profile, on a FakeClock: the production client reads the document and writes fields
// (validated all-or-nothing), and every fault is seen over real HTTP on loopback.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { FakeClock } from '../../core/clock-fake.ts';
import { Bus } from '../../core/bus.ts';
import { HealthModel } from '../../core/health.ts';
import { memoryLog } from '../../core/log.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { SimWorld } from '../../core/sim-world.ts';
import type { AdapterContext, AdapterHandle } from '../../core/plugin.ts';
import httpAdapter from '../../adapters/http/adapter.ts';
import type { HttpDevice } from '../../adapters/http/types.ts';
import type { DeviceFaults } from '../../sim/profiles/faults.ts';
import type { HttpProfileDevice } from '../../sim/profiles/http-device.ts';
import { eventually } from '../helpers/eventually.ts';

const PROFILE = {
  name: 'boiler',
  protocol: 'http',
  tickMs: 1000,
  http: { path: '/status', errors: [{ path: '/broken', status: 503 }] },
  points: [
    { name: 'temp', field: 'water.temp', initial: 60, behaviour: { kind: 'ramp', rate: 0.5, min: 20, max: 80, wrap: false } },
    { name: 'target', field: 'water.target', initial: 65 },
    { name: 'burner', field: 'burner', type: 'bool', initial: 0, behaviour: { kind: 'formula', expr: 'temp < target' } },
    { name: 'starts', field: 'stats.starts', type: 'uint32', initial: 10, behaviour: { kind: 'counter', rate: 0.1 } },
  ],
};

/** A GET that reports the response, or that none came and whether the socket is still open. */
function rawGet(port: number, path: string) {
  const result: { status?: number; body?: string; closed: boolean; error?: string } = { closed: false };
  const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
    let body = '';
    res.setEncoding('utf8').on('data', (d: string) => (body += d));
    res.on('end', () => Object.assign(result, { status: res.statusCode, body }));
  });
  req.on('error', (e) => (result.error = e.message));
  req.on('close', () => (result.closed = true));
  req.end();
  return { result, abort: () => req.destroy() };
}

describe('HTTP JSON profile simulator', () => {
  const clock = new FakeClock();
  const world = new SimWorld();
  const ctx: AdapterContext = { id: 'boiler', log: memoryLog('silent').root.logger('adapter:boiler'), clock, bus: new Bus(), metrics: new MetricsRegistry(), health: new HealthModel({ clock }), world };
  let handle: AdapterHandle<HttpDevice>;
  let device: HttpProfileDevice;
  let faults: DeviceFaults;
  const status = () => handle.instance.json<{ water: { temp: number; target: number }; burner: boolean; stats: { starts: number } }>({ path: '/status' });

  before(async () => {
    handle = await httpAdapter.sim({ sim: { profile: PROFILE } } as never, ctx);
    device = world.require<HttpProfileDevice>('sim:boiler');
    faults = world.require<DeviceFaults>('faults:boiler');
  });
  afterEach(() => faults.recover());
  after(async () => {
    await handle.close();
    await world.close();
  });

  test('GET answers the document; behaviours move it with the clock', async () => {
    assert.deepEqual(await status(), { water: { temp: 60, target: 65 }, burner: true, stats: { starts: 10 } });
    await clock.advance(20_000);
    const s = await status();
    assert.equal(s.water.temp, 70);
    assert.equal(s.burner, false, 'the formula follows the ramp past the target');
    assert.equal(s.stats.starts, 12);
  });

  test('POST sets writable fields; read-only or unknown fields refuse the whole write', async () => {
    const after = await handle.instance.json<{ water: { target: number } }>({ path: '/status', method: 'POST', body: { water: { target: 75 } } });
    assert.equal(after.water.target, 75);
    await clock.advance(1000);
    assert.equal(device.value('target'), 75);
    await assert.rejects(handle.instance.json({ path: '/status', method: 'POST', body: { water: { target: 50, temp: 1 }, fan: 2 } }), /400/);
    assert.equal(device.value('target'), 75, 'nothing applied');
    const r = rawGet(device.port, '/broken');
    await eventually('the standing failure', 2000, () => r.result.status);
    assert.equal(r.result.status, 503);
  });

  test('faults.hang: no answer, the socket stays open; slow: the answer waits on the injected clock', async () => {
    faults.hang();
    const hung = rawGet(device.port, '/status');
    await eventually('the device took the request', 2000, () => device.requests.at(-1)?.status === undefined && device.requests.length > 0);
    await clock.advance(60_000);
    assert.equal(hung.result.status, undefined);
    assert.equal(hung.result.closed, false);
    hung.abort();
    await faults.recover();

    faults.slow(800);
    const slow = rawGet(device.port, '/status');
    const n = device.requests.length;
    await eventually('received', 2000, () => device.requests.length > n || undefined);
    await clock.advance(799);
    assert.equal(slow.result.status, undefined);
    await clock.advance(1);
    await eventually('the delayed answer', 2000, () => slow.result.status);
    assert.equal(slow.result.status, 200);
  });

  test('faults.exception answers the status; powerCycle resets memory; offline refuses connections', async () => {
    faults.exception(500, { path: '/status' });
    await assert.rejects(status(), /500/);
    await faults.recover();
    await handle.instance.json({ path: '/status', method: 'POST', body: { water: { target: 40 } } });
    const cycling = faults.powerCycle({ offMs: 5000 });
    await eventually('off', 2000, () => faults.state().offline);
    await assert.rejects(status());
    await clock.advance(5000);
    await cycling;
    assert.deepEqual(await status(), { water: { temp: 60, target: 65 }, burner: true, stats: { starts: 10 } });
    await faults.powerCycle({ memory: 'zero' });
    assert.equal((await status()).water.target, 0);
    await faults.offline();
    const refused = rawGet(device.port, '/status');
    await eventually('refused', 2000, () => refused.result.error);
    assert.match(refused.result.error!, /ECONNREFUSED/);
  });
});
