// The cea-can-pipeline manifest on a real kernel CAN interface: vcan0 in the QEMU guest, opened by the
// can adapter's default (FFI) backend, with the DBC traffic generator on the other end of the bus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { loadManifest } from '../../core/manifest/load.ts';
import { createRuntime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { systemClock } from '../../core/clock.ts';
import { RawCanChannel } from '../../adapters/can/raw-socket.ts';
import { VirtualCanBus } from '../../adapters/can/virtual-bus.ts';
import { DbcDecoder } from '../../adapters/can/dbc/decode.ts';
import { loadDbc } from '../../adapters/can/dbc/load.ts';
import { DbcTrafficSim } from '../../sim/dbc-traffic.ts';
import type { CanChannel, CanFrame } from '../../adapters/can/types.ts';
import { repoRoot } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';
import { kernelSkip } from './guest.ts';

test('cea-can-pipeline decodes the DBC traffic generator\'s frames from vcan0 into live values', { skip: kernelSkip, timeout: 300_000 }, async (t) => {
  const t0 = Date.now();
  const step = (what: string) => t.diagnostic(`${what} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const dbcPath = `${repoRoot}/manifests/cea.dbc`;
  const { dbc } = await loadDbc(dbcPath);
  // The other end: the generator on a software bus, every frame bridged onto vcan0 through its own socket.
  const wire = await RawCanChannel.open('vcan0');
  const bus = new VirtualCanBus('generator', systemClock);
  const tap = bus.attach('bridge');
  const sent: CanFrame[] = [];
  let refused = 0;
  tap.onFrame((f) => {
    sent.push(f);
    wire.send(f).catch(() => refused++);
  });
  const generator = new DbcTrafficSim(bus, systemClock, dbc, { defaultCycleMs: 200, seed: 7 });

  // Only the definitions this manifest names: every module loads over 9p under TCG, which costs.
  const file = `${repoRoot}/manifests/cea-can-pipeline.json`;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { adapters: Array<{ kind: string }>; plugins: Array<{ use: string }> };
  const [plugins, adapters] = await Promise.all([
    Promise.all(pluginCatalog.filter((p) => raw.plugins.some((u) => u.use === p.name)).map((p) => p.load())),
    Promise.all(adapterCatalog.filter((a) => raw.adapters.some((u) => u.kind === a.name)).map((a) => a.load())),
  ]);
  const { manifest } = await loadManifest(file, { plugins, adapters, env: { API_PORT: '0', CAN_DBC: dbcPath, CAN_INTERFACE: 'vcan0' } });
  step('manifest loaded');
  const runtime = await createRuntime({ manifest, plugins, adapters, logRoot: memoryLog('silent').root, dataDir: null, sim: false });
  try {
    await runtime.start();
    step('runtime started');
    assert.equal(runtime.supervisor.status('decoder').status, 'running', runtime.supervisor.status('decoder').lastError ?? '');
    generator.start();
    const keys = ['sensor:dry_bulb_b', 'sensor:co2_f', 'sensor:rh_v'];
    const channel = runtime.adapterHandles.get('canbus')!.instance as CanChannel;
    await eventually('live values from vcan0', 60_000, () => keys.every((k) => typeof runtime.store.get(k) === 'number')).catch((err: Error) => {
      const decoder = runtime.supervisor.status('decoder');
      throw new Error(`${err.message}; ${sent.length} frames bridged (${refused} refused), wire ${JSON.stringify(wire.stats())}, gateway ${channel.description} ${JSON.stringify(channel.stats())}, decoder ${decoder.status} ${decoder.lastError ?? ''}, keys ${keys.map((k) => `${k}=${String(runtime.store.get(k))}`).join(' ')}`, { cause: err });
    });
    generator.stop();
    step(`live values (${sent.length} frames bridged, ${refused} refused)`);
    // After the last frame has crossed the kernel, the live value is exactly what the generator encoded.
    const psychro = dbc.messages.find((m) => m.name === 'FlowerBack_Psychro')!;
    const last = sent.filter((f) => f.id === psychro.id && f.ext === psychro.ext).at(-1)!;
    const expected = new DbcDecoder(dbc).decode(last);
    assert.ok(expected.ok);
    await eventually('the last DryBulb value', 5000, () => runtime.store.get('sensor:dry_bulb_b') === expected.values.DryBulb);
    assert.ok(sent.length > 10, `${sent.length} frames bridged`);
    assert.equal(refused, 0, 'every generated frame fits a classic CAN frame on vcan0');
  } finally {
    generator.stop();
    await runtime.stop();
    await wire.close();
  }
});
