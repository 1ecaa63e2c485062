// manifests/cea-can-pipeline.json on its simulator: the greenhouse boxes on a virtual CAN bus, decoded
// by the bundled DBC into live sensor keys, history rows, and the API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { loadManifest } from '../../core/manifest/load.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import type { GreenhouseSim } from '../../sim/greenhouse.ts';
import { repoRoot } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';

describe('cea-can-pipeline on the greenhouse simulator', () => {
  let runtime: Runtime;
  let api: string;
  const state = async () => (await (await fetch(`${api}/api/state`)).json()) as Record<string, unknown>;

  before(async () => {
    const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
    const { manifest } = await loadManifest(`${repoRoot}/manifests/cea-can-pipeline.json`, { plugins, adapters, env: { API_PORT: '0', CAN_DBC: `${repoRoot}/manifests/cea.dbc` } });
    runtime = await createRuntime({ manifest, plugins, adapters, logRoot: memoryLog('silent').root, dataDir: null, sim: true });
    await runtime.start();
    api = runtime.routes.address!;
  });

  after(async () => {
    await runtime.stop();
  });

  test('every box is decoded into plausible live values, history rows and a healthy /health', async () => {
    const s = await eventually('live values of all four rooms', 10_000, async () => {
      const st = await state();
      return ['sensor:dry_bulb_b', 'sensor:co2_f', 'sensor:rh_v'].every((k) => typeof st[k] === 'number') ? st : undefined;
    });
    assert.ok((s['sensor:dry_bulb_b'] as number) > -10 && (s['sensor:dry_bulb_b'] as number) < 60, `dry bulb ${s['sensor:dry_bulb_b']}`);
    assert.ok((s['sensor:co2_f'] as number) > 0 && (s['sensor:co2_f'] as number) < 40_000, `co2 ${s['sensor:co2_f']}`);
    const rows = await eventually('can_messages rows', 10_000, async () => {
      const r = await runtime.history.query('can_messages', { limit: 5 });
      return r.length >= 5 ? r : undefined;
    });
    for (const row of rows) {
      for (const column of ['can_id', 'dlc', 'raw_data', 'decoded_data']) assert.ok(column in row.data, `can_messages row has ${column}: ${JSON.stringify(row.data)}`);
    }
    const health = (await (await fetch(`${api}/health`)).json()) as { status: string };
    assert.equal(health.status, 'ok');
  });

  test('a silent box: its live keys expire to null 10 s after its last frame, the others stay', async () => {
    const sim = runtime.world.require<GreenhouseSim>('sim:canbus');
    sim.silence('v');
    await eventually('veg keys expired', 20_000, async () => (await state())['sensor:rh_v'] === null);
    const st = await state();
    assert.equal(typeof st['sensor:co2_f'], 'number', 'the flower front box keeps reporting');
    sim.silence('v', false);
    await eventually('veg keys back', 10_000, async () => typeof (await state())['sensor:rh_v'] === 'number');
  });
});
