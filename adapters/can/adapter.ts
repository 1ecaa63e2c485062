// Adapter kind `can`: a CanChannel from SocketCAN (real: raw socket over FFI, or the socketcan addon), a candump log replay, or the
// simulator on a virtual bus (the greenhouse, a DBC's traffic, or a CAN device profile). Native and simulator modules load only when chosen.
import { defineAdapter, type AdapterContext } from '../../core/plugin.ts';
import { peerLimitCounter } from '../../core/peer-limits.ts';
import { profileSchema } from '../../sim/profiles/schema.ts';
import type { CanChannel } from './types.ts';

export interface CanAdapterOptions {
  /** `socketcan` (a kernel CAN interface) or `replay` (a candump log, the same in real and sim mode). */
  source: 'socketcan' | 'replay';
  /** SocketCAN interface name. */
  interface: string;
  /** How a SocketCAN interface is opened: `ffi` (raw socket through libc: koffi on Node, Deno.dlopen on Deno), the `socketcan` addon, or `auto` (ffi where it loads). */
  backend: 'auto' | 'ffi' | 'socketcan';
  replay: { path: string; speed: 'max' | number; timestamps: 'log' | 'now' };
  /** Simulator: the greenhouse boxes, or (with `dbc`) every message of that DBC at its cycle time. */
  sim: { periodMs: number; timeScale: number; seed: number; dbc: string; defaultCycleMs: number; profile?: string | Record<string, unknown> };
}

export default defineAdapter<CanAdapterOptions, CanChannel>({
  kind: 'can',
  description: 'A CAN bus: SocketCAN interface (raw socket over FFI, or the socketcan addon), candump log replay, or a simulator (the greenhouse sensor boxes, or any DBC at its cycle times).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      source: { enum: ['socketcan', 'replay'], default: 'socketcan' },
      interface: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,15}$', default: 'can0', description: 'SocketCAN interface (ip link show type can).' },
      backend: {
        enum: ['auto', 'ffi', 'socketcan'],
        default: 'auto',
        description: 'ffi: raw AF_CAN socket through libc (koffi on Node, Deno.dlopen on Deno; nothing to compile); socketcan: the native addon (Node only); auto: ffi where it loads, else the addon.',
      },
      replay: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          path: { type: 'string', default: '', description: 'Log file for source "replay": candump -l / python-can .log, or Vector .asc (by extension).' },
          speed: { oneOf: [{ const: 'max' }, { type: 'number', exclusiveMinimum: 0 }], default: 1, description: '"max" = as fast as possible; 1 = real time; 10 = ten times faster.' },
          timestamps: { enum: ['log', 'now'], default: 'now', description: '"log" keeps logged times; "now" shifts them to the replay time.' },
        },
      },
      sim: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          periodMs: { type: 'integer', minimum: 1, default: 1000, description: 'Real ms between rounds of frames (1 Hz boxes).' },
          timeScale: { type: 'number', exclusiveMinimum: 0, default: 60, description: 'Speed of the climate model (day/night cycle).' },
          seed: { type: 'integer', default: 1 },
          dbc: { type: 'string', default: '', description: 'Simulate this DBC instead of the greenhouse: every message at its GenMsgCycleTime with plausible values.' },
          defaultCycleMs: { type: 'integer', minimum: 0, default: 1000, description: 'With dbc: period of messages without a cycle time (0 = not sent).' },
          profile: {
            // Inline profiles are checked by `fieldgate validate`; files, and names against the DBC, when the simulator starts.
            if: { type: 'object' },
            then: profileSchema,
            else: { type: 'string', minLength: 1 },
            description: 'Play this device profile (protocol "can": a DBC, a behaviour per signal, cycle times and fault windows per message) instead of the default built-in "greenhouse" (a named behaviour) or sim.dbc: ' +
              'a path to a profile JSON file (relative to the working directory) or an inline profile; see docs/simulators.md.',
          },
        },
      },
    },
  },
  async real(options, ctx) {
    if (options.source === 'replay') return openReplay(options, ctx);
    const { openSocketCan } = await import('./backend.ts');
    const channel = await openSocketCan(options.interface, options.backend ?? 'auto');
    if ('onStateChange' in channel) {
      (channel as import('./raw-socket.ts').RawCanChannel).onStateChange((state, reason) => {
        if (state === 'down') ctx.log.warn(`can ${options.interface}: ${reason}; frames resume when it is up`);
        else ctx.log.info(`can ${options.interface}: ${reason}`);
      });
    }
    return { instance: channel, close: () => channel.close() };
  },
  async sim(options, ctx) {
    if (options.source === 'replay') return openReplay(options, ctx);
    const { VirtualCanBus } = await import('./virtual-bus.ts');
    const bus = new VirtualCanBus(ctx.id, ctx.clock);
    let sim: { start(): void; stop(): void };
    if (options.sim.profile === undefined && options.sim.dbc) {
      const [{ DbcTrafficSim }, { loadDbc }] = await Promise.all([import('../../sim/dbc-traffic.ts'), import('./dbc/load.ts')]);
      const { dbc } = await loadDbc(options.sim.dbc);
      sim = ctx.world.get(`sim:${ctx.id}`, () => new DbcTrafficSim(bus, ctx.clock, dbc, { defaultCycleMs: options.sim.defaultCycleMs ?? 1000, seed: options.sim.seed }), (s) => s.stop());
    } else {
      // Without a profile (or sim.dbc): the built-in "greenhouse" profile, a named behaviour.
      const { startCanProfileSim } = await import('../../sim/profiles/can-sim.ts');
      const { device, label } = await startCanProfileSim(ctx, bus, options.sim.profile ?? 'greenhouse', options.sim as unknown as Record<string, unknown>);
      if (options.sim.profile !== undefined) ctx.log.info(label);
      sim = device;
    }
    const channel = bus.attach('gateway');
    sim.start();
    return {
      instance: channel,
      close: async () => {
        sim.stop();
        await channel.close();
      },
    };
  },
});

async function openReplay(options: CanAdapterOptions, ctx: AdapterContext) {
  if (!options.replay.path) throw new Error('can adapter: source "replay" needs options.replay.path (a candump -l log file)');
  const { ReplayChannel } = await import('./replay.ts');
  const count = peerLimitCounter(ctx.metrics);
  let warned = false;
  const onLineLimit = (message: string) => {
    count(ctx.id);
    // Once per log: a binary file would otherwise log a line per 64 KiB read.
    if (!warned) ctx.log.warn(`${message}; further overlong lines are only counted (fieldgate_peer_reply_oversize_total)`);
    warned = true;
  };
  const channel = new ReplayChannel({ path: options.replay.path, speed: options.replay.speed, timestamps: options.replay.timestamps, onLineLimit }, ctx.clock);
  return { instance: channel as CanChannel, close: () => channel.close() };
}
