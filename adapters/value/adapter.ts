// Adapter kind `value`: one number from a file (real) or from a simulated signal (sim).
import { defineAdapter } from '../../core/plugin.ts';
import type { ValueSource, ValueSourceOptions } from './types.ts';

export default defineAdapter<ValueSourceOptions, ValueSource>({
  kind: 'value',
  description: 'A single numeric value read from a file (e.g. /sys/class/thermal/thermal_zone0/temp) or simulated.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: { type: 'string', minLength: 1, default: '/sys/class/thermal/thermal_zone0/temp', description: 'File holding the number (real driver).' },
      scale: { type: 'number', default: 0.001, description: 'Multiplier applied to the raw number.' },
      offset: { type: 'number', default: 0 },
      sim: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          base: { type: 'number', default: 45 },
          amplitude: { type: 'number', default: 5 },
          periodS: { type: 'number', exclusiveMinimum: 0, default: 600 },
          noise: { type: 'number', minimum: 0, default: 0.2 },
          failEvery: { type: 'integer', minimum: 0, default: 0, description: 'Every Nth read fails (0 = never).' },
        },
      },
    },
  },
  async real(options) {
    const { FileValueSource } = await import('./real.ts');
    const source = new FileValueSource(options);
    return { instance: source, close: () => Promise.resolve() };
  },
  async sim(options, ctx) {
    const { SimulatedValueSource } = await import('../../sim/value-source.ts');
    return { instance: new SimulatedValueSource(options.sim, ctx.clock), close: () => Promise.resolve() };
  },
});
