// Adapter kind `s7`: one Siemens S7 PLC over ISO-on-TCP (nodes7). The simulator is an S7 CPU on
// loopback whose memory a production-line model drives; the adapter hands back the real client
// connected to it. World keys: `sim:<adapterId>` (S7Server), `line:<name>` (ProductionLine).
import { peerLimitCounter } from '../../core/peer-limits.ts';
import { profileSchema } from '../../sim/profiles/schema.ts';
import { defineAdapter } from '../../core/plugin.ts';
import type { MachineConfig } from '../../sim/production-line.ts';
import type { S7Client } from './types.ts';

export interface S7SimOptions {
  port: number;
  /** Data blocks by number with their size in bytes; DBs the line writes are created as needed. */
  dbs: Record<string, number>;
  /** Name of the shared production line in the simulator world (`line:<name>`). */
  line: string;
  timeScale: number;
  seed: number;
  /** Machines of the line; default three machines on I0.0..I0.2 with counters and power in DB1. */
  machines?: MachineConfig[];
  /** A device profile (file path or inline, protocol "s7") played instead of the production line. */
  profile?: string | Record<string, unknown>;
}

export interface S7AdapterOptions {
  host?: string;
  port: number;
  rack: number;
  slot: number;
  timeoutMs: number;
  reconnect: { initialMs: number; maxMs: number };
  breaker: { failureThreshold: number; openMs: number };
  sim: S7SimOptions;
}

/** The default simulated line: the recorder's example manifest maps these addresses. */
export const DEFAULT_LINE: MachineConfig[] = [0, 1, 2].map((i) => ({
  name: `m${i + 1}`,
  cycleMs: [20_000, 30_000, 45_000][i],
  cycleInput: `I0.${i}`,
  pulseMs: 200,
  counter: `DB1,DINT${4 + i * 8}`,
  power: `DB1,REAL${i * 8}`,
  runKw: [7.5, 11, 4][i],
  idleKw: [1.2, 2, 0.5][i],
  breakdown: { probability: 0.005, durationMs: 600_000 },
  changeover: { probability: 0.002, durationMs: 900_000 },
}));

const machineSchema = {
  type: 'object',
  required: ['name', 'cycleMs', 'runKw'],
  properties: {
    name: { type: 'string', minLength: 1 },
    cycleMs: { type: 'number', exclusiveMinimum: 0 },
    cycleInput: { type: 'string' },
    pulseMs: { type: 'number', exclusiveMinimum: 0 },
    counter: { type: 'string' },
    counterWrap: { type: 'integer', minimum: 2 },
    counterStart: { type: 'integer', minimum: 0 },
    power: { type: 'string' },
    runKw: { type: 'number', minimum: 0 },
    idleKw: { type: 'number', minimum: 0 },
    breakdown: { type: 'object', properties: { probability: { type: 'number', minimum: 0, maximum: 1 }, durationMs: { type: 'number', minimum: 0 } } },
    changeover: { type: 'object', properties: { probability: { type: 'number', minimum: 0, maximum: 1 }, durationMs: { type: 'number', minimum: 0 } } },
    script: { type: 'array', items: { type: 'object', required: ['atMs', 'state'], properties: { atMs: { type: 'number', minimum: 0 }, state: { enum: ['running', 'stopped', 'breakdown', 'changeover'] }, forMs: { type: 'number', minimum: 0 } } } },
  },
};

export default defineAdapter<S7AdapterOptions, S7Client>({
  kind: 's7',
  description: 'A Siemens S7 PLC over ISO-on-TCP (nodes7); the simulator is an S7 CPU on loopback driven by a production-line model.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      host: { type: 'string', minLength: 1, description: 'The PLC address (required for driver "real").' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 102 },
      rack: { type: 'integer', minimum: 0, maximum: 7, default: 0 },
      slot: { type: 'integer', minimum: 0, maximum: 31, default: 1, description: 'S7-300: 2; S7-1200/1500: 1.' },
      timeoutMs: { type: 'integer', minimum: 50, maximum: 60000, default: 2000, description: 'Deadline of connecting and of each read or write.' },
      reconnect: {
        type: 'object', additionalProperties: false, default: {},
        properties: { initialMs: { type: 'integer', minimum: 0, default: 500 }, maxMs: { type: 'integer', minimum: 0, default: 30000 } },
      },
      breaker: {
        type: 'object', additionalProperties: false, default: {},
        properties: { failureThreshold: { type: 'integer', minimum: 1, default: 5 }, openMs: { type: 'integer', minimum: 0, default: 10000 } },
      },
      sim: {
        type: 'object', additionalProperties: false, default: {},
        description: 'The bundled S7 simulator (driver "sim").',
        properties: {
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'Loopback port; 0 = any free port.' },
          dbs: { type: 'object', default: { 1: 256 }, patternProperties: { '^[0-9]+$': { type: 'integer', minimum: 1, maximum: 65536 } }, additionalProperties: false },
          line: { type: 'string', minLength: 1, default: 'line', description: 'Shared production line name in the simulator world.' },
          timeScale: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Model ms per clock ms.' },
          seed: { type: 'integer', default: 1 },
          machines: { type: 'array', items: machineSchema },
          profile: {
            // Inline profiles are checked by `fieldgate validate`; files when the simulator starts.
            if: { type: 'object' },
            then: profileSchema,
            else: { type: 'string', minLength: 1 },
            description: 'The device to play: a built-in profile (default "production-line", the seed line as a named behaviour), a profile (protocol "s7": points at S7 addresses) as a path to a JSON file ' +
              '(relative to the working directory) or an inline profile; see docs/simulators.md.',
          },
        },
      },
    },
  },
  async real(options, ctx) {
    if (!options.host) throw new Error(`s7 adapter "${ctx.id}": options.host is required for driver "real" (the PLC's IP address)`);
    const { Nodes7Client } = await import('./client.ts');
    const limit = peerLimitCounter(ctx.metrics);
    const client = new Nodes7Client({ ...options, host: options.host, clock: ctx.clock, onReplyLimit: () => limit(ctx.id) });
    // Not awaited: a PLC that is down at start must not keep the gateway from starting.
    void client.connect().catch((err: unknown) => ctx.log.debug(() => `first connect failed: ${String(err)}`));
    return { instance: client, close: () => client.close() };
  },
  async sim(options, ctx) {
    const [{ Nodes7Client }, { startS7Sim }] = await Promise.all([import('./client.ts'), import('../../sim/profiles/s7-sim.ts')]);
    const sim = options.sim;
    const device = await startS7Sim(ctx, {
      port: sim.port, rack: options.rack, slot: options.slot, profile: sim.profile,
      dbs: sim.dbs, line: sim.line, timeScale: sim.timeScale, seed: sim.seed, machines: sim.machines ?? DEFAULT_LINE,
    });
    ctx.log.info(`${device.label} listening on ${device.address} (rack ${options.rack}, slot ${options.slot})`);
    const limit = peerLimitCounter(ctx.metrics);
    const client = new Nodes7Client({ ...options, host: device.host, port: device.port, clock: ctx.clock, onReplyLimit: () => limit(ctx.id) });
    return { instance: client, close: () => client.close() };
  },
});
