// manifests/signal-recorder.json end to end on its simulators (`--sim`): the S7 CPU simulator on
// loopback driven by the production-line model 60x faster than real time, the real S7 client, the
// recorder and the API. Units counted by edge polling (m1, m3) and by the PLC counter (m2) match
// the line's ground truth exactly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { loadManifest } from '../../core/manifest/load.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import type { ProductionLine } from '../../sim/production-line.ts';
import { repoRoot } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('signal-recorder on simulators', () => {
  let runtime: Runtime;
  let api: string;
  let line: ProductionLine;
  const { root, lines } = memoryLog('info');
  const get = async (path: string): Promise<Json> => {
    const r = await fetch(`${api}${path}`);
    assert.equal(r.status, 200, `${path}: ${r.status}`);
    return await r.json();
  };
  const unitsOf = async (machine: string) => ((await get(`/api/recorder/production?machine=${machine}`)) as Json[]).reduce((n, r) => n + r.units, 0);

  before(async () => {
    const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
    const env = { API_PORT: '0', SIM_TIME_SCALE: '60', SAMPLE_MS: '500', POLL_MS: '20' };
    const { manifest } = await loadManifest(`${repoRoot}/manifests/signal-recorder.json`, { plugins, adapters, env });
    runtime = await createRuntime({ manifest, plugins, adapters, logRoot: root, dataDir: null, sim: true });
    await runtime.start();
    api = runtime.routes.address!;
    assert.ok(api, 'the API announced its address');
    line = runtime.world.require<ProductionLine>('line:line');
  });

  after(async () => {
    await runtime?.stop();
  });

  test('the line runs a known number of cycles: the recorder counts exactly that many per machine', { timeout: 30_000 }, async () => {
    for (const m of line.machines) m.stop();
    // Two sample ticks with the line still: counters have their baseline, edges their low level.
    await new Promise((r) => setTimeout(r, 1200));
    const before = await Promise.all(['m1', 'm2', 'm3'].map(unitsOf));
    const start = line.machines.map((m) => m.cycles);
    for (const m of line.machines) m.run();
    await eventually('at least 10 cycles of m1', 20_000, () => line.machine('m1').cycles - start[0] >= 10);
    for (const m of line.machines) m.stop();
    const made = line.machines.map((m, i) => m.cycles - start[i]);
    assert.ok(made[1] >= 5, `m2 made ${made[1]}`);
    await eventually('recorded units equal the cycles made', 5000, async () => {
      const now = await Promise.all(['m1', 'm2', 'm3'].map(unitsOf));
      return now.every((n, i) => n - before[i] === made[i]) || undefined;
    }).catch(async (err) => {
      throw new Error(`${err.message}; made ${made}, recorded ${(await Promise.all(['m1', 'm2', 'm3'].map(unitsOf))).map((n, i) => n - before[i])}`);
    });
    const said = lines.map((l) => String(l.msg));
    assert.ok(said.some((m) => /sensor m1-cycle .*counting rising edges by polling plc .*I0\.0 every 20 ms/.test(m)), 'the method per sensor is logged');
    assert.ok(said.some((m) => /sensor m2-count .*counting from the PLC counter/.test(m)));
  });

  test('routes: machines, sensors, latest signals, OEE, dashboard panels; raw signals in history', async () => {
    const machines = await get('/api/recorder/machines');
    assert.deepEqual(machines.map((m: Json) => m.id), ['m1', 'm2', 'm3']);
    assert.ok(['running', 'idle', 'stopped'].includes(machines[0].state));
    const sensors = await get('/api/recorder/sensors');
    assert.equal(sensors.find((s: Json) => s.id === 'm2-count').method, 'counter');
    assert.equal(sensors.find((s: Json) => s.id === 'm1-cycle').method, 'edge-poll');
    const latest = await get('/api/recorder/signals/latest');
    const p1 = latest.find((s: Json) => s.sensor === 'm1-power');
    assert.equal(p1.ok, true);
    assert.equal(typeof p1.value, 'number');
    const oee = await get('/api/recorder/oee?machine=m1');
    assert.equal(oee.length, 1);
    // The line runs 60x faster than the recorder's clock, so performance is far above 1 here; on a
    // real line (time scale 1) it is units × idealCycleS / running seconds.
    assert.ok(oee[0].units > 0 && oee[0].oee > 0 && oee[0].availability > 0 && oee[0].availability <= 1, JSON.stringify(oee[0]));
    assert.ok(oee[0].energyKWh > 0);
    const bad = await fetch(`${api}/api/recorder/production?machine=nope`);
    assert.equal(bad.status, 404);
    const dash = await get('/api/dashboard');
    const sources = dash.panels.map((p: Json) => p.source);
    assert.ok(sources.includes('/api/recorder/panel/machines') && sources.includes('/api/recorder/panel/units-per-hour'), JSON.stringify(dash.panels));
    const panel = await get('/api/recorder/panel/machines');
    assert.equal(panel.length, 3);
    const samples = await runtime.history.query('signaldatas', { where: { sensor: 'm2-power' } });
    assert.ok(samples.length >= 3);
    assert.equal(samples[0].data.unit, 'kW');
    assert.equal(runtime.health.report().heartbeats.recorder_last_sample_ts.stale, false);
  });
});
