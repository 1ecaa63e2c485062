// What the `can` adapter starts for `--sim` from a profile: CAN boxes generated from the profile's DBC
// on the adapter's virtual bus, or a named behaviour (the greenhouse, a model in code; the default).
// Reachable in the sim world as `sim:<adapter id>`; a profile device's fault hooks as `faults:<adapter id>`.
import type { AdapterContext } from '../../core/plugin.ts';
import type { VirtualCanBus } from '../../adapters/can/virtual-bus.ts';
import { resolveProfile } from './load.ts';
import type { Profile } from './types.ts';

/** What the adapter needs from the simulated boxes: start and stop sending. */
export interface CanSimBoxes {
  start(): void;
  stop(): void;
}

type NamedBehaviour = (ctx: AdapterContext, bus: VirtualCanBus, settings: Record<string, unknown>, profile: Profile) => Promise<{ device: CanSimBoxes; label: string }>;

/** Models a CAN profile can name as its `behaviour`. */
export const CAN_BEHAVIOURS: Record<string, NamedBehaviour> = {
  greenhouse: async (ctx, bus, settings) => {
    const { GreenhouseSim } = await import('../greenhouse.ts');
    const device = ctx.world.get(`sim:${ctx.id}`, () => new GreenhouseSim(bus, ctx.clock, settings as unknown as ConstructorParameters<typeof GreenhouseSim>[2]), (s) => s.stop());
    return { device, label: 'greenhouse simulator (4 climate boxes and the lab box)' };
  },
};

/** `settings` are the adapter's `sim` options, handed to a named behaviour (the greenhouse reads its own). */
export async function startCanProfileSim(ctx: AdapterContext, bus: VirtualCanBus, spec: string | Record<string, unknown>, settings: Record<string, unknown> = {}): Promise<{ device: CanSimBoxes; label: string }> {
  const fail = (err: Error): never => {
    throw new Error(`can adapter "${ctx.id}": options.sim.profile: ${err.message}`, { cause: err });
  };
  const profile = await resolveProfile(spec, { protocol: 'can' }).catch(fail);
  if (profile.behaviour) {
    const named = CAN_BEHAVIOURS[profile.behaviour];
    if (!named) throw new Error(`can adapter "${ctx.id}": profile "${profile.name}" names the behaviour "${profile.behaviour}", which does not exist (known: ${Object.keys(CAN_BEHAVIOURS).join(', ')})`);
    return named(ctx, bus, settings, profile);
  }
  const [{ CanProfileDevice }, { loadDbc }] = await Promise.all([import('./can-device.ts'), import('../../adapters/can/dbc/load.ts')]);
  const { dbc, path } = await loadDbc(profile.can.dbc).catch((err: Error) => fail(new Error(`can.dbc: ${err.message}`, { cause: err })));
  const source = typeof spec === 'string' ? spec : 'inline profile';
  let device: InstanceType<typeof CanProfileDevice>;
  try {
    device = ctx.world.get(`sim:${ctx.id}`, () => new CanProfileDevice({ profile, clock: ctx.clock, bus, dbc, source, dbcPath: path }), (d) => d.close());
  } catch (err) {
    return fail(err as Error);
  }
  ctx.world.get(`faults:${ctx.id}`, () => device.faults);
  const sent = device.schedule;
  return { device, label: `"${profile.name}" CAN profile (${path}: ${sent.length} message(s), ${sent.map((s) => `${s.name} every ${s.periodMs} ms`).join(', ')})` };
}
