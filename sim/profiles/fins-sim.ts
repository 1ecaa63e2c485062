// What the `fins` adapter starts for `--sim`: the device its profile describes (default the mixing
// line's CJ2M, `cj2m-mixing`), either a generic FINS profile device or a named behaviour. Both are
// reachable in the sim world as `sim:<adapter id>`, their fault hooks as `faults:<adapter id>`.
import type { AdapterContext } from '../../core/plugin.ts';
import type { DeviceFaults } from './faults.ts';
import { resolveProfile } from './load.ts';
import type { Profile } from './types.ts';

export interface FinsSimSettings {
  port: number;
  /** The CPU's FINS node (the adapter's plcNode). */
  node: number;
  timeScale: number;
  mixingMs: number;
  /** A built-in profile name, a path to a profile file, or an inline profile. Default `cj2m-mixing`. */
  profile?: string | Record<string, unknown>;
}

export interface StartedFinsSim {
  host: string;
  port: number;
  address: string;
  label: string;
  faults: DeviceFaults;
}

type NamedBehaviour = (ctx: AdapterContext, sim: FinsSimSettings, profile: Profile) => Promise<StartedFinsSim>;

/** Device models in code a FINS profile can name as its `behaviour`. */
export const FINS_BEHAVIOURS: Record<string, NamedBehaviour> = {
  'cj2m-mixing': async (ctx, sim) => {
    const [{ Cj2mSimulator }, { cj2mFaults }] = await Promise.all([import('../cj2m.ts'), import('./named-faults.ts')]);
    const plc = ctx.world.get(
      `sim:${ctx.id}`,
      () => new Cj2mSimulator({ clock: ctx.clock, port: sim.port, node: sim.node, timeScale: sim.timeScale, mixingMs: sim.mixingMs }),
      (s) => s.close(),
    );
    await plc.start();
    return { host: plc.host, port: plc.port, address: plc.address, label: `CJ2M simulator (node ${plc.node})`, faults: cj2mFaults(plc, ctx.clock) };
  },
};

export async function startFinsSim(ctx: AdapterContext, sim: FinsSimSettings): Promise<StartedFinsSim> {
  const profile = await resolveProfile(sim.profile ?? 'cj2m-mixing', { protocol: 'fins' }).catch((err: Error) => {
    throw new Error(`fins adapter "${ctx.id}": options.sim.profile: ${err.message}`, { cause: err });
  });
  let started: StartedFinsSim;
  if (profile.behaviour) {
    const named = FINS_BEHAVIOURS[profile.behaviour];
    if (!named) throw new Error(`fins adapter "${ctx.id}": profile "${profile.name}" names the behaviour "${profile.behaviour}", which does not exist (known: ${Object.keys(FINS_BEHAVIOURS).join(', ')})`);
    started = await named(ctx, sim, profile);
  } else {
    const { FinsProfileDevice } = await import('./fins-device.ts');
    const device = ctx.world.get(`sim:${ctx.id}`, () => new FinsProfileDevice({ profile, clock: ctx.clock, port: sim.port, node: sim.node }), (d) => d.close());
    await device.start();
    started = { host: device.host, port: device.port, address: device.address, label: `"${profile.name}" profile device (node ${device.server.node}, ${profile.points.length} points)`, faults: device.faults };
  }
  ctx.world.get(`faults:${ctx.id}`, () => started.faults);
  return started;
}
