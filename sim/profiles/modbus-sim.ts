// What the `modbus` adapter starts for `--sim`: the device its profile describes (default the lab's
// NJ301), either a generic profile device or a named behaviour (a plant model in code). Both are
// reachable in the sim world as `sim:<adapter id>`, their fault hooks as `faults:<adapter id>`.
import type { AdapterContext } from '../../core/plugin.ts';
import type { SerialLink } from '../../adapters/modbus/server/rtu.ts';
import type { DeviceFaults } from './faults.ts';
import { resolveProfile } from './load.ts';
import type { Profile } from './types.ts';

export interface ModbusSimSettings {
  port: number;
  unit: number;
  timeScale: number;
  taskMs: number;
  plant: string;
  /** A built-in profile name, a path to a profile file, or an inline profile. Default `nj301`. */
  profile?: string | Record<string, unknown>;
}

export interface StartedModbusSim {
  host: string;
  port: number;
  /** For the log line: `NJ301 (nj301-plant)`, `energy-meter profile`. */
  label: string;
  faults: DeviceFaults;
  /** Also answers on an RTU line (same memory, same faults; silent while offline). */
  serveRtu(link: SerialLink, baudRate: number): void;
}

type NamedBehaviour = (ctx: AdapterContext, sim: ModbusSimSettings, profile: Profile) => Promise<StartedModbusSim>;

/** Plant models a Modbus profile can name as its `behaviour`. */
export const MODBUS_BEHAVIOURS: Record<string, NamedBehaviour> = {
  'nj301-plant': async (ctx, sim) => {
    const [{ Nj301Simulator }, { labPlant }, { nj301Faults }] = await Promise.all([
      import('../nj301.ts'),
      import('../plants/lab.ts'),
      import('./named-faults.ts'),
    ]);
    const plant = labPlant(ctx, { name: sim.plant, timeScale: sim.timeScale });
    const plc = ctx.world.get(
      `sim:${ctx.id}`,
      () => new Nj301Simulator({ clock: ctx.clock, plant, port: sim.port, unit: sim.unit, taskMs: sim.taskMs, timeScale: plant.timeScale }),
      (s) => s.close(),
    );
    await plc.start();
    const { serveUnitOnRtu } = await import('./modbus-rtu-line.ts');
    return {
      host: plc.host, port: plc.port, label: `NJ301 simulator (unit ${plc.unit})`, faults: nj301Faults(plc),
      serveRtu: (link, baudRate) => void serveUnitOnRtu(plc.server, plc.unit, link, baudRate, ctx.clock),
    };
  },
};

export async function startModbusSim(ctx: AdapterContext, sim: ModbusSimSettings): Promise<StartedModbusSim> {
  const profile = await resolveProfile(sim.profile ?? 'nj301', { protocol: 'modbus' }).catch((err: Error) => {
    throw new Error(`modbus adapter "${ctx.id}": options.sim.profile: ${err.message}`, { cause: err });
  });
  let started: StartedModbusSim;
  if (profile.behaviour) {
    const named = MODBUS_BEHAVIOURS[profile.behaviour];
    if (!named) throw new Error(`modbus adapter "${ctx.id}": profile "${profile.name}" names the behaviour "${profile.behaviour}", which does not exist (known: ${Object.keys(MODBUS_BEHAVIOURS).join(', ')})`);
    started = await named(ctx, sim, profile);
  } else {
    const { ModbusProfileDevice } = await import('./modbus-device.ts');
    const device = ctx.world.get(
      `sim:${ctx.id}`,
      () => new ModbusProfileDevice({ profile, clock: ctx.clock, port: sim.port, unit: sim.unit }),
      (d) => d.close(),
    );
    await device.start();
    started = {
      host: device.host, port: device.port, label: `"${profile.name}" profile device (unit ${device.unit}, ${profile.points.length} points)`, faults: device.faults,
      serveRtu: (link, baudRate) => void device.serveRtu(link, { baudRate }),
    };
  }
  ctx.world.get(`faults:${ctx.id}`, () => started.faults);
  return started;
}
