// What the `can` adapter starts for `--sim` when its options name a profile: CAN boxes generated from
// the profile's DBC on the adapter's virtual bus, reachable in the sim world as `sim:<adapter id>`,
// their fault hooks as `faults:<adapter id>`.
import type { AdapterContext } from '../../core/plugin.ts';
import type { VirtualCanBus } from '../../adapters/can/virtual-bus.ts';
import { resolveProfile } from './load.ts';
import type { CanProfileDevice } from './can-device.ts';

export async function startCanProfileSim(ctx: AdapterContext, bus: VirtualCanBus, spec: string | Record<string, unknown>): Promise<{ device: CanProfileDevice; label: string }> {
  const fail = (err: Error): never => {
    throw new Error(`can adapter "${ctx.id}": options.sim.profile: ${err.message}`, { cause: err });
  };
  const profile = await resolveProfile(spec, { protocol: 'can' }).catch(fail);
  if (profile.behaviour) throw new Error(`can adapter "${ctx.id}": profile "${profile.name}" names the behaviour "${profile.behaviour}"; CAN has no named behaviours (the greenhouse is the default without a profile)`);
  const [{ CanProfileDevice }, { loadDbc }] = await Promise.all([import('./can-device.ts'), import('../../adapters/can/dbc/load.ts')]);
  const { dbc, path } = await loadDbc(profile.can.dbc).catch((err: Error) => fail(new Error(`can.dbc: ${err.message}`, { cause: err })));
  const source = typeof spec === 'string' ? spec : 'inline profile';
  let device: CanProfileDevice;
  try {
    device = ctx.world.get(`sim:${ctx.id}`, () => new CanProfileDevice({ profile, clock: ctx.clock, bus, dbc, source, dbcPath: path }), (d) => d.close());
  } catch (err) {
    return fail(err as Error);
  }
  ctx.world.get(`faults:${ctx.id}`, () => device.faults);
  const sent = device.schedule;
  return { device, label: `"${profile.name}" CAN profile (${path}: ${sent.length} message(s), ${sent.map((s) => `${s.name} every ${s.periodMs} ms`).join(', ')})` };
}
