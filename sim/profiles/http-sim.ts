// What the `http` adapter starts for `--sim`: the device its profile describes — a generic HTTP JSON
// device, or a named behaviour (the ESP32 relay firmware presets on the lab plant). Reachable in the
// sim world as `sim:<adapter id>`, its fault hooks as `faults:<adapter id>`.
import type { AdapterContext } from '../../core/plugin.ts';
import type { DeviceFaults } from './faults.ts';
import { resolveProfile } from './load.ts';
import type { Profile } from './types.ts';

export interface HttpSimSettings {
  port: number;
  timeScale: number;
  apiKey?: string;
  /** Built-in name, profile file path, or inline profile. */
  profile: string | Record<string, unknown>;
}

export interface StartedHttpSim {
  url: string;
  label: string;
  faults: DeviceFaults;
}

type NamedBehaviour = (ctx: AdapterContext, sim: HttpSimSettings, profile: Profile) => Promise<StartedHttpSim>;

const RELAY_DEVICES = ['esp32-lab', 'tasmota', 'shelly-gen2'] as const;

/** Device models in code that an HTTP profile can name as its `behaviour`. */
export const HTTP_BEHAVIOURS: Record<string, NamedBehaviour> = {
  'esp32-relay': async (ctx, sim, profile) => {
    const device = (profile.options?.device ?? 'esp32-lab') as (typeof RELAY_DEVICES)[number];
    if (!RELAY_DEVICES.includes(device)) throw new Error(`http adapter "${ctx.id}": profile "${profile.name}" options.device: must be one of ${RELAY_DEVICES.join(', ')}`);
    const [{ Esp32RelaySimulator }, { labPlant }, { esp32Faults }] = await Promise.all([
      import('../esp32-relay.ts'),
      import('../plants/lab.ts'),
      import('./named-faults.ts'),
    ]);
    const plant = labPlant(ctx, { timeScale: sim.timeScale });
    const relay = ctx.world.get(
      `sim:${ctx.id}`,
      () => new Esp32RelaySimulator({ device, port: sim.port, apiKey: sim.apiKey, plant, now: () => ctx.clock.now() }),
      (s) => s.close(),
    );
    const url = await relay.start();
    return { url, label: `simulated ${device} relay`, faults: esp32Faults(relay) };
  },
};

export async function startHttpSim(ctx: AdapterContext, sim: HttpSimSettings): Promise<StartedHttpSim> {
  const profile = await resolveProfile(sim.profile, { protocol: 'http' }).catch((err: Error) => {
    throw new Error(`http adapter "${ctx.id}": options.sim.profile: ${err.message}`, { cause: err });
  });
  let started: StartedHttpSim;
  if (profile.behaviour) {
    const named = HTTP_BEHAVIOURS[profile.behaviour];
    if (!named) throw new Error(`http adapter "${ctx.id}": profile "${profile.name}" names the behaviour "${profile.behaviour}", which does not exist (known: ${Object.keys(HTTP_BEHAVIOURS).join(', ')})`);
    started = await named(ctx, sim, profile);
  } else {
    const { HttpProfileDevice } = await import('./http-device.ts');
    const device = ctx.world.get(`sim:${ctx.id}`, () => new HttpProfileDevice({ profile, clock: ctx.clock, port: sim.port }), (d) => d.close());
    const url = await device.start();
    started = { url, label: `"${profile.name}" profile device (${profile.points.length} points at ${profile.http.path})`, faults: device.faults };
  }
  ctx.world.get(`faults:${ctx.id}`, () => started.faults);
  return started;
}
