// manifests/energy-meter.json end to end on its simulator (`--sim`): a device fieldgate does not
// ship, played by the generic Modbus profile simulator from manifests/energy-meter.profile.json,
// read by the stock modbus-bridge. The API shows plausible three-phase values that move, and the
// fault hooks the scenario runner uses (`faults:meter`) take the meter off the line and back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { loadManifest } from '../../core/manifest/load.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import type { DeviceFaults } from '../../sim/profiles/faults.ts';
import type { ModbusProfileDevice } from '../../sim/profiles/modbus-device.ts';
import { repoRoot } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';

type State = Record<string, number | boolean>;

for (const transport of ['tcp', 'rtu'] as const) {
describe(`energy-meter on the profile simulator, Modbus ${transport.toUpperCase()}`, () => {
  let runtime: Runtime;
  let api: string;
  const { root, lines } = memoryLog('info');
  const state = async (): Promise<State> => {
    const r = await fetch(`${api}/api/state`);
    assert.equal(r.status, 200);
    return (await r.json()) as State;
  };

  before(async () => {
    const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
    const env = { API_PORT: '0', METER_POLL_MS: '100', METER_TRANSPORT: transport, METER_PROFILE: `${repoRoot}/manifests/energy-meter.profile.json` };
    const { manifest } = await loadManifest(`${repoRoot}/manifests/energy-meter.json`, { plugins, adapters, env });
    runtime = await createRuntime({ manifest, plugins, adapters, logRoot: root, dataDir: null, sim: true });
    await runtime.start();
    api = runtime.routes.address!;
  });

  after(async () => {
    await runtime?.stop();
  });

  test('the API shows plausible three-phase values', async () => {
    const s = await eventually('every meter key in /api/state', 10_000, async () => {
      const s = await state();
      return typeof s.energy_import_kwh === 'number' && s.meter_connected === true ? s : undefined;
    });
    for (const k of ['voltage_l1', 'voltage_l2', 'voltage_l3']) assert.ok(Number(s[k]) > 220 && Number(s[k]) < 240, `${k} = ${s[k]}`);
    for (const k of ['current_l1', 'current_l2', 'current_l3']) assert.ok(Number(s[k]) > 0 && Number(s[k]) < 40, `${k} = ${s[k]}`);
    assert.ok(Number(s.frequency) >= 49.9 && Number(s.frequency) <= 50.1, `frequency ${s.frequency}`);
    const phases = Number(s.power_l1) + Number(s.power_l2) + Number(s.power_l3);
    // The total and the phases may come from two polls a tick apart: within a few percent.
    assert.ok(Math.abs(Number(s.power_total) - phases) / phases < 0.05, `total ${s.power_total} vs phases ${phases}`);
    assert.ok(Number(s.energy_import_kwh) >= 1234.5);
    const where = transport === 'tcp' ? /listening on 127\.0\.0\.1:\d+/ : /on a simulated RTU line at 9600 baud/;
    assert.ok(lines.some((l) => /"energy-meter" profile device \(unit 1, 14 points\)/.test(String(l.msg)) && where.test(String(l.msg))), 'the simulator says what it plays, and where');
  });

  test('values move: the energy counter only rises, voltage and frequency wander', async () => {
    const first = await state();
    const later = await eventually('the counter and the walks moved', 10_000, async () => {
      const s = await state();
      return s.energy_import_kwh > first.energy_import_kwh && s.voltage_l1 !== first.voltage_l1 && s.frequency !== first.frequency ? s : undefined;
    });
    assert.ok(later.energy_import_kwh > first.energy_import_kwh);
    const device = runtime.world.require<ModbusProfileDevice>('sim:meter');
    assert.ok(Math.abs(device.value('energy_import') - Number(later.energy_import_kwh)) < 0.01, 'the API follows the device');
  });

  test('faults:meter takes the meter offline (API says disconnected, still answers) and recover() brings it back', async () => {
    const faults = runtime.world.require<DeviceFaults>('faults:meter');
    await faults.offline();
    await eventually('meter_connected false', 10_000, async () => (await state()).meter_connected === false);
    await faults.recover();
    await eventually('meter_connected true again', 15_000, async () => (await state()).meter_connected === true);
  });
});
}
