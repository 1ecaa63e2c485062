// What the `s7` adapter starts for `--sim` when its options name a profile: an S7 profile device,
// reachable in the sim world as `sim:<adapter id>`, its fault hooks as `faults:<adapter id>`.
import type { AdapterContext } from '../../core/plugin.ts';
import type { DeviceFaults } from './faults.ts';
import { resolveProfile } from './load.ts';

export interface S7ProfileSimSettings {
  port: number;
  rack: number;
  slot: number;
  profile: string | Record<string, unknown>;
}

export async function startS7ProfileSim(ctx: AdapterContext, sim: S7ProfileSimSettings): Promise<{ host: string; port: number; address: string; label: string; faults: DeviceFaults }> {
  const profile = await resolveProfile(sim.profile, { protocol: 's7' }).catch((err: Error) => {
    throw new Error(`s7 adapter "${ctx.id}": options.sim.profile: ${err.message}`, { cause: err });
  });
  if (profile.behaviour) throw new Error(`s7 adapter "${ctx.id}": profile "${profile.name}" names the behaviour "${profile.behaviour}"; S7 has no named behaviours (the production line is the default without a profile)`);
  const { S7ProfileDevice } = await import('./s7-device.ts');
  const device = ctx.world.get(`sim:${ctx.id}`, () => new S7ProfileDevice({ profile, clock: ctx.clock, port: sim.port, rack: sim.rack, slot: sim.slot }), (d) => d.close());
  await device.start();
  ctx.world.get(`faults:${ctx.id}`, () => device.faults);
  return { host: device.host, port: device.port, address: device.address, label: `"${profile.name}" profile device (${profile.points.length} points)`, faults: device.faults };
}
