// The `spi` adapter kind: manifest options, the simulator it starts, and the errors of the real
// driver when the device or the runtime cannot do real SPI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { Bus } from '../../core/bus.ts';
import { HealthModel } from '../../core/health.ts';
import { memoryLog } from '../../core/log.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { isDeno } from '../../core/runtime-info.ts';
import { SimWorld } from '../../core/sim-world.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import type { AdapterContext } from '../../core/plugin.ts';
import spiAdapter from '../../adapters/spi/adapter.ts';
import max31865Plugin from '../../plugins/max31865/plugin.ts';
import { Max31865Sim } from '../../sim/max31865.ts';
import type { HeaterPlant } from '../../sim/plants/heater.ts';
import type { SpiBusOptions } from '../../adapters/spi/types.ts';

function context(id = 'rtd'): AdapterContext {
  const clock = new FakeClock();
  return { id, log: memoryLog('silent').root.logger('adapter:rtd'), clock, bus: new Bus(), metrics: new MetricsRegistry(), health: new HealthModel({ clock }), world: new SimWorld() };
}

const labManifest = (options: Record<string, unknown>, driver = 'real') =>
  JSON.stringify({
    name: 'lab',
    adapters: [{ id: 'rtd', kind: 'spi', driver, options }],
    plugins: [{ id: 'sensor', use: 'max31865', adapters: { spi: 'rtd' }, config: { rtd: 'pt100' } }],
  });
const load = (text: string, env: Record<string, string> = {}) => parseManifest(text, 'lab.json', { plugins: [max31865Plugin], adapters: [spiAdapter], env });

test('manifest: defaults (spidev0.0, mode 1, 500 kHz, simulated PT100), ${SPI_DEVICE:-...} and bad values', () => {
  const { manifest } = load(labManifest({}));
  assert.deepEqual(manifest.adapters[0]!.options, {
    device: '/dev/spidev0.0',
    mode: 1,
    speedHz: 500000,
    sim: { chip: 'max31865', plant: 'lab', timeScale: 1, rtdNominal: 100, wires: 3 },
  });
  assert.equal(load(labManifest({ device: '${SPI_DEVICE:-/dev/spidev0.0}' }), { SPI_DEVICE: '/dev/spidev1.2' }).manifest.adapters[0]!.options.device, '/dev/spidev1.2');
  assert.equal(load(labManifest({ device: '${SPI_DEVICE:-/dev/spidev0.0}' })).manifest.adapters[0]!.options.device, '/dev/spidev0.0');
  assert.throws(() => load(labManifest({ device: '/dev/ttyS0', mode: 4 })), (err: Error) =>
    /adapters\[0\]\.options\.device/.test(err.message) && /adapters\[0\]\.options\.mode/.test(err.message));
});

test('sim: the instance is the MAX31865 simulator, registered as sim:<adapter id>, measuring the shared lab plant', async () => {
  const ctx = context();
  const handle = await spiAdapter.sim({ sim: { chip: 'max31865', plant: 'lab', timeScale: 1, rtdNominal: 100, wires: 3 } } as SpiBusOptions, ctx);
  const chip = ctx.world.get<Max31865Sim | null>('sim:rtd', () => null);
  assert.ok(chip instanceof Max31865Sim);
  assert.equal(handle.instance, chip);
  const plant = ctx.world.get<HeaterPlant | null>('plant:lab', () => null)!;
  plant.setTemperature(55);
  assert.equal(chip.temperature(), 55);
  assert.equal(chip.rref, 430);
  await handle.close();
  await assert.rejects(chip.transfer(Uint8Array.from([0, 0])), (err: Error & { closed?: boolean }) => err.closed === true);
});

test('real: a missing device node names the path and what to check; on Deno the native driver is refused', async () => {
  const ctx = context();
  const options = { device: '/dev/spidev9.9', mode: 1, speedHz: 500000 } as SpiBusOptions;
  if (isDeno) {
    await assert.rejects(spiAdapter.real(options, ctx), /spi-device.*Node/);
    return;
  }
  await assert.rejects(spiAdapter.real(options, ctx), (err: Error) => {
    assert.match(err.message, /\/dev\/spidev9\.9: no such device node/);
    assert.match(err.message, /dtoverlay=spi0-1cs/);
    return true;
  });
});

test('real: a path that is not a spidev node is refused before anything is opened', async () => {
  if (isDeno) return;
  const { parseSpiDevicePath } = await import('../../adapters/spi/real.ts');
  assert.deepEqual(parseSpiDevicePath('/dev/spidev1.2'), { bus: 1, chipSelect: 2 });
  assert.throws(() => parseSpiDevicePath('/dev/spi-rtd'), /expected \/dev\/spidev<bus>\.<chip-select>/);
});
