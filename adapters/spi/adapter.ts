// Adapter kind `spi`: one spidev device (real, through the optional native module spi-device) or a
// simulated chip behind the same SpiBus interface (sim/max31865.ts, registered as `sim:<adapter id>`).
import { defineAdapter } from '../../core/plugin.ts';
import type { SpiBus, SpiBusOptions } from './types.ts';

export default defineAdapter<SpiBusOptions, SpiBus>({
  kind: 'spi',
  description: 'An SPI device (/dev/spidevB.C) such as a MAX31865 RTD converter, or its simulator.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      device: {
        type: 'string',
        pattern: '^/dev/spidev[0-9]+\\.[0-9]+$',
        default: '/dev/spidev0.0',
        description: 'spidev node /dev/spidev<bus>.<chip-select>; use "${SPI_DEVICE:-/dev/spidev0.0}" to set it per device.',
      },
      mode: { type: 'integer', minimum: 0, maximum: 3, default: 1, description: 'SPI mode (CPOL/CPHA); the MAX31865 uses mode 1.' },
      speedHz: { type: 'integer', minimum: 1000, maximum: 50000000, default: 500000, description: 'Clock in Hz (MAX31865: up to 5 MHz; the real lab runs 500 kHz).' },
      sim: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'The simulated chip used with driver "sim" or --sim.',
        properties: {
          chip: { type: 'string', enum: ['max31865'], default: 'max31865' },
          plant: { type: 'string', minLength: 1, default: 'lab', description: 'Shared plant model whose temperature the RTD measures.' },
          timeScale: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Process seconds per clock second (if this simulator creates the plant).' },
          rtdNominal: { type: 'integer', enum: [100, 1000], default: 100, description: '100 = PT100, 1000 = PT1000.' },
          rref: { type: 'number', exclusiveMinimum: 0, description: 'Reference resistor in Ω (default 430 for PT100, 4300 for PT1000).' },
          wires: { type: 'integer', enum: [2, 3, 4], default: 3 },
        },
      },
    },
  },
  async real(options, ctx) {
    const { openSpiDevice } = await import('./real.ts');
    const bus = await openSpiDevice(
      { device: options.device ?? '/dev/spidev0.0', mode: options.mode ?? 1, speedHz: options.speedHz ?? 500000 },
      `spi adapter "${ctx.id}"`,
    );
    return { instance: bus, close: () => bus.close() };
  },
  async sim(options, ctx) {
    const sim = options.sim ?? ({} as Partial<SpiBusOptions['sim']>);
    if ((sim.chip ?? 'max31865') !== 'max31865') throw new Error(`spi adapter "${ctx.id}": unknown simulated chip "${sim.chip}"; valid: max31865`);
    const [{ Max31865Sim }, { labPlant }] = await Promise.all([import('../../sim/max31865.ts'), import('../../sim/plants/lab.ts')]);
    const plant = labPlant(ctx, { name: sim.plant ?? 'lab', timeScale: sim.timeScale ?? 1 });
    const chip = ctx.world.get(`sim:${ctx.id}`, () =>
      new Max31865Sim({
        clock: ctx.clock,
        temperature: () => plant.temperature(),
        rtdNominal: sim.rtdNominal ?? 100,
        rref: sim.rref,
        wires: sim.wires ?? 3,
        description: `max31865 simulator "${ctx.id}"`,
      }),
    );
    return { instance: chip, close: () => chip.close() };
  },
});
