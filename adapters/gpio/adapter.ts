// Adapter kind `gpio`: one line of a gpiochip. Real hardware goes through the character device (libc
// FFI) or onoff (Node only), the chip always found by its label; the simulator is an in-memory line.
import { defineAdapter } from '../../core/plugin.ts';
import type { GpioAdapterOptions, GpioLine } from './types.ts';

/** Fills defaults for options that did not come through the manifest validator (tests, code). */
export function gpioOptions(options: Partial<GpioAdapterOptions> & Pick<GpioAdapterOptions, 'chip' | 'line'>): GpioAdapterOptions {
  return {
    direction: 'out',
    activeLow: false,
    initial: 0,
    backend: 'auto',
    debounceMs: 0,
    ...options,
    sim: { level: 0, plantRelay: false, timeScale: 1, ...options.sim },
  };
}

export default defineAdapter<GpioAdapterOptions, GpioLine>({
  kind: 'gpio',
  description: 'One GPIO line (relay output, contact input) of a gpiochip, found by the chip label.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['chip', 'line'],
    properties: {
      chip: {
        type: 'string',
        minLength: 1,
        description: 'gpiochip label (pinctrl-bcm2711 on a Pi 4, pinctrl-rp1 on a Pi 5), /dev/gpiochipN, or sysfs dir gpiochipNNN.',
      },
      line: { type: 'integer', minimum: 0, maximum: 1023, description: 'Line offset within the chip (the BCM number on a Pi).' },
      direction: { enum: ['out', 'in'], default: 'out' },
      activeLow: { type: 'boolean', default: false, description: 'Logical 1 drives the pin low (most relay boards).' },
      initial: { enum: [0, 1], default: 0, description: 'Logical value an output takes when opened.' },
      backend: {
        enum: ['auto', 'cdev', 'onoff'],
        default: 'auto',
        description: 'cdev: /dev/gpiochipN v2 uAPI through libc (koffi on Node, Deno.dlopen on Deno; nothing to compile); onoff: sysfs through the native addon (Node only); auto: cdev where it loads, else onoff.',
      },
      debounceMs: { type: 'number', minimum: 0, maximum: 1000, default: 0, description: 'Input lines: edges shorter than this are ignored, by the kernel (cdev backend only).' },
      sim: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          level: { enum: [0, 1], default: 0, description: 'Electrical level of a simulated input at start.' },
          plantRelay: { type: 'boolean', default: false, description: 'The line switches the shared lab plant\'s heater relay.' },
          timeScale: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Process seconds per clock second of the lab plant.' },
        },
      },
    },
  },
  async real(raw) {
    const { openGpioLine } = await import('./backend.ts');
    const line = await openGpioLine(gpioOptions(raw));
    return { instance: line, close: () => line.close() };
  },
  async sim(raw, ctx) {
    const options = gpioOptions(raw);
    const [{ SimGpioChip }, { labPlant }] = await Promise.all([import('../../sim/gpio.ts'), import('../../sim/plants/lab.ts')]);
    const chip = ctx.world.get(`sim:gpiochip:${options.chip}`, () => new SimGpioChip(options.chip), (c) => c.close());
    const line = await chip.open(options.line, { ...options, level: options.sim.level });
    ctx.world.get(`sim:${ctx.id}`, () => line);
    if (options.sim.plantRelay) {
      const plant = labPlant(ctx, { timeScale: options.sim.timeScale });
      plant.setRelay(line.value === 1);
      line.watch('both', (v) => plant.setRelay(v === 1));
    }
    return { instance: line, close: () => line.close() };
  },
});
