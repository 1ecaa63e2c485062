// The one heater plant of a runtime's lab simulators, shared through the SimWorld so the sensor,
// relay and PLC simulators act on the same physics. The first simulator to ask creates it.
import type { AdapterContext } from '../../core/plugin.ts';
import { HeaterPlant, type HeaterPlantOptions } from './heater.ts';

export type LabPlantOptions = Omit<HeaterPlantOptions, 'clock'> & { name?: string };

export function labPlant(ctx: Pick<AdapterContext, 'world' | 'clock'>, options: LabPlantOptions = {}): HeaterPlant {
  const { name = 'lab', ...rest } = options;
  return ctx.world.get(`plant:${name}`, () => new HeaterPlant({ clock: ctx.clock, ...rest }));
}
