// What the `s7` adapter starts for `--sim`: the device its profile describes (default the built-in
// `production-line`), either a generic S7 profile device or a named behaviour (the production line,
// a plant model in code). Reachable in the sim world as `sim:<adapter id>`; a profile device's fault
// hooks as `faults:<adapter id>` (the line's S7 server is found by shape by the scenario runner).
import type { AdapterContext } from '../../core/plugin.ts';
import type { MachineConfig } from '../production-line.ts';
import type { DeviceFaults } from './faults.ts';
import { resolveProfile } from './load.ts';
import type { Profile } from './types.ts';

export interface S7SimSettings {
  port: number;
  rack: number;
  slot: number;
  /** A built-in profile name, a path to a profile file, or an inline profile. Default `production-line`. */
  profile?: string | Record<string, unknown>;
  /** The production line behaviour's settings (see adapters/s7/adapter.ts). */
  dbs: Record<string, number>;
  line: string;
  timeScale: number;
  seed: number;
  machines: MachineConfig[];
}

export interface StartedS7Sim {
  host: string;
  port: number;
  address: string;
  /** For the log line: `"x" profile device (n points)`, `production line "line" with 3 machine(s)`. */
  label: string;
  faults?: DeviceFaults;
}

type NamedBehaviour = (ctx: AdapterContext, sim: S7SimSettings, profile: Profile) => Promise<StartedS7Sim>;

/** Plant models an S7 profile can name as its `behaviour`. */
export const S7_BEHAVIOURS: Record<string, NamedBehaviour> = {
  'production-line': async (ctx, sim) => {
    const [{ S7Server }, { ProductionLine }, { parseS7Address, s7ByteLength }] = await Promise.all([
      import('../s7-server.ts'),
      import('../production-line.ts'),
      import('../../adapters/s7/address.ts'),
    ]);
    const line = ctx.world.get(`line:${sim.line}`, () => {
      const l = new ProductionLine({ clock: ctx.clock, machines: sim.machines, timeScale: sim.timeScale, seed: sim.seed });
      l.start();
      return l;
    }, (l) => l.close());
    const plc = ctx.world.get(`sim:${ctx.id}`, () => {
      const server = new S7Server({ port: sim.port, rack: sim.rack, slot: sim.slot, clock: ctx.clock, dbs: Object.fromEntries(Object.entries(sim.dbs).map(([k, v]) => [Number(k), v])) });
      // Size the DBs to hold every address the line writes, then let it write.
      for (const m of line.machines) {
        for (const text of [m.config.cycleInput, m.config.counter, m.config.power]) {
          if (!text) continue;
          const a = parseS7Address(text);
          if (a.area === 'DB') server.memory.ensureDb(a.db!, a.byte + s7ByteLength(a.type));
        }
      }
      line.addSink(server.memory);
      return server;
    }, (s) => s.close());
    await plc.start();
    return { host: plc.host, port: plc.port, address: plc.address, label: `S7 simulator, line "${sim.line}" with ${line.machines.length} machine(s),` };
  },
};

export async function startS7Sim(ctx: AdapterContext, sim: S7SimSettings): Promise<StartedS7Sim> {
  const profile = await resolveProfile(sim.profile ?? 'production-line', { protocol: 's7' }).catch((err: Error) => {
    throw new Error(`s7 adapter "${ctx.id}": options.sim.profile: ${err.message}`, { cause: err });
  });
  if (profile.behaviour) {
    const named = S7_BEHAVIOURS[profile.behaviour];
    if (!named) throw new Error(`s7 adapter "${ctx.id}": profile "${profile.name}" names the behaviour "${profile.behaviour}", which does not exist (known: ${Object.keys(S7_BEHAVIOURS).join(', ')})`);
    return named(ctx, sim, profile);
  }
  const { S7ProfileDevice } = await import('./s7-device.ts');
  const device = ctx.world.get(`sim:${ctx.id}`, () => new S7ProfileDevice({ profile, clock: ctx.clock, port: sim.port, rack: sim.rack, slot: sim.slot }), (d) => d.close());
  await device.start();
  ctx.world.get(`faults:${ctx.id}`, () => device.faults);
  return { host: device.host, port: device.port, address: device.address, label: `"${profile.name}" profile device (${profile.points.length} points)`, faults: device.faults };
}
