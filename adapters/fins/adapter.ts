// Adapter kind `fins`: one FINS/UDP link to an Omron CPU (the odoo-batching mixing CJ2M). The
// simulator is a CJ2M on loopback (or the device a FINS profile describes), and the adapter hands back
// the real client connected to it, so the code under test is the production client.
import { peerLimitCounter } from '../../core/peer-limits.ts';
import { defineAdapter } from '../../core/plugin.ts';
import { profileSchema } from '../../sim/profiles/schema.ts';
import type { FinsLinkOptions } from './client.ts';
import type { FinsClient } from './types.ts';

export interface FinsSimOptions {
  /** Simulator port on 127.0.0.1; 0 = any free port. */
  port: number;
  /** Process seconds per clock second of the mixing line. */
  timeScale: number;
  /** Mixing time of one batch, process milliseconds. */
  mixingMs: number;
  /** A device profile (built-in name, file path or inline, protocol "fins") played instead of the CJ2M. */
  profile?: string | Record<string, unknown>;
}

export type FinsAdapterOptions = Required<Omit<FinsLinkOptions, 'host'>> & { host?: string; sim: FinsSimOptions };

const byte = (description: string, dflt: number) => ({ type: 'integer', minimum: 0, maximum: 255, default: dflt, description });

export default defineAdapter<FinsAdapterOptions, FinsClient>({
  kind: 'fins',
  description: 'An Omron FINS/UDP link to a CPU (CJ2M, CS1, CP1); the simulator is the mixing line\'s CJ2M on loopback.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      host: { type: 'string', minLength: 1, description: 'The PLC\'s Ethernet unit address.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 9600, description: 'FINS/UDP port.' },
      plcNetwork: byte('DNA: destination network (0 = local).', 0),
      plcNode: byte('DA1: the PLC\'s FINS node number.', 2),
      plcUnit: byte('DA2: destination unit (0 = CPU Unit).', 0),
      localNetwork: byte('SNA: this gateway\'s network.', 0),
      localNode: byte('SA1: this gateway\'s node; some Ethernet units want the last octet of its IP.', 1),
      localPort: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'Local UDP port; 0 = any (use 9600 if the unit answers only there).' },
      timeoutMs: { type: 'integer', minimum: 10, maximum: 60000, default: 1000, description: 'Deadline of each attempt.' },
      retries: { type: 'integer', minimum: 0, maximum: 10, default: 1, description: 'Further attempts after a timeout or a malformed reply.' },
      sim: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'The bundled simulator (driver "sim"): the mixing line\'s CJ2M, or a device profile.',
        properties: {
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'Loopback port; 0 = any free port.' },
          timeScale: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Process seconds per clock second.' },
          mixingMs: { type: 'integer', minimum: 0, default: 60000, description: 'Mixing time of one batch (process ms).' },
          profile: {
            // Inline profiles are checked by `fieldgate validate`; names and files when the simulator starts.
            if: { type: 'object' },
            then: profileSchema,
            else: { type: 'string', minLength: 1 },
            description: 'Play this device profile (protocol "fins": points at Omron addresses such as D100, W3.04) instead of the mixing line\'s CJ2M ' +
              '(the built-in "cj2m-mixing"): a built-in name, a path to a profile JSON file (relative to the working directory) or an inline profile; see docs/simulators.md.',
          },
        },
      },
    },
  },
  async real(options, ctx) {
    if (!options.host) throw new Error(`fins adapter "${ctx.id}": options.host (the PLC's IP address) is required for driver "real"`);
    const { UdpFinsClient } = await import('./client.ts');
    const limit = peerLimitCounter(ctx.metrics);
    const client = new UdpFinsClient({ ...options, host: options.host, onReplyLimit: () => limit(ctx.id) }, ctx.clock, (m) => ctx.log.warn(m));
    return { instance: client, close: () => client.close() };
  },
  async sim(options, ctx) {
    const [{ UdpFinsClient }, { startFinsSim }] = await Promise.all([import('./client.ts'), import('../../sim/profiles/fins-sim.ts')]);
    const plc = await startFinsSim(ctx, { ...options.sim, node: options.plcNode });
    ctx.log.info(`${plc.label} listening on ${plc.address}`);
    const limit = peerLimitCounter(ctx.metrics);
    const client = new UdpFinsClient({ ...options, host: plc.host, port: plc.port, onReplyLimit: () => limit(ctx.id) }, ctx.clock, (m) => ctx.log.warn(m));
    return { instance: client, close: () => client.close() };
  },
});
