// Adapter kind `http`: a JSON client for one HTTP device (ESP32 relay, Tasmota, Shelly). The
// simulator is wire-level: it starts the device its profile describes (default the `device` preset)
// on 127.0.0.1 and returns the real client aimed at it.
import { peerLimitCounter } from '../../core/peer-limits.ts';
import { profileSchema } from '../../sim/profiles/schema.ts';
import { defineAdapter, type AdapterContext } from '../../core/plugin.ts';
import type { HttpDevice, HttpDeviceOptions } from './types.ts';

export const HTTP_SIM_DEVICES = ['esp32-lab', 'tasmota', 'shelly-gen2'] as const;

/** Fills defaults for options that did not come through the manifest validator (tests, code). */
export function httpOptions(options: Partial<HttpDeviceOptions> = {}): HttpDeviceOptions {
  return {
    ...options,
    apiKeyHeader: options.apiKeyHeader ?? 'X-API-Key',
    timeoutMs: options.timeoutMs ?? 2000,
    headers: options.headers ?? {},
    maxReplyBytes: options.maxReplyBytes ?? 65536,
    sim: { device: 'esp32-lab', port: 0, timeScale: 1, ...options.sim },
  };
}

export default defineAdapter<Partial<HttpDeviceOptions>, HttpDevice>({
  kind: 'http',
  description: 'A JSON-over-HTTP device (ESP32 relay firmware, Tasmota, Shelly Gen2) at one base URL.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      baseUrl: { type: 'string', pattern: '^https?://', description: 'Device URL, e.g. http://192.168.1.50 (required by the real driver).' },
      apiKey: { type: 'string', 'x-secret': true, description: 'Sent in apiKeyHeader on every request; masked in logs.' },
      apiKeyHeader: { type: 'string', minLength: 1, default: 'X-API-Key', description: 'Header that carries apiKey.' },
      timeoutMs: { type: 'integer', minimum: 50, maximum: 120000, default: 2000, description: 'Deadline of one request (connect + reply).' },
      headers: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Extra headers on every request.' },
      maxReplyBytes: {
        type: 'integer', minimum: 1024, maximum: 16777216, default: 65536,
        description: 'Largest reply body read, in bytes; a bigger (or endless) one is cancelled, refused and counted in fieldgate_peer_reply_oversize_total.',
      },
      sim: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Simulator: the device firmware it speaks on 127.0.0.1.',
        properties: {
          device: { enum: [...HTTP_SIM_DEVICES], default: 'esp32-lab', description: 'Firmware preset the simulated device speaks.' },
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'Loopback port (0 = any free port).' },
          apiKey: { type: 'string', 'x-secret': true, description: 'Key the simulated lab firmware expects (default: apiKey).' },
          timeScale: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Process seconds per clock second of the shared lab plant.' },
          profile: {
            // An inline profile is checked by `fieldgate validate` with paths; a named or file profile when the simulator starts.
            if: { type: 'object' },
            then: profileSchema,
            else: { type: 'string', minLength: 1 },
            description: 'Device profile instead of a relay preset: a built-in name, a path to a profile JSON file (relative to the working directory), ' +
              'or an inline profile; see docs/simulators.md. Files are checked when the simulator starts.',
          },
        },
      },
    },
  },
  async real(raw, ctx) {
    const options = httpOptions(raw);
    if (!options.baseUrl) throw new Error('http adapter: options.baseUrl is required for the real driver (e.g. "http://192.168.1.50")');
    const { HttpDeviceClient } = await import('./client.ts');
    const client = new HttpDeviceClient({ ...options, baseUrl: options.baseUrl, onOversize: oversizeCounter(ctx) });
    return { instance: client, close: () => client.close() };
  },
  async sim(raw, ctx) {
    const options = httpOptions(raw);
    const [{ HttpDeviceClient }, { startHttpSim }] = await Promise.all([import('./client.ts'), import('../../sim/profiles/http-sim.ts')]);
    const device = await startHttpSim(ctx, {
      port: options.sim.port,
      timeScale: options.sim.timeScale,
      apiKey: options.sim.apiKey ?? options.apiKey,
      // The relay presets are built-in profiles of the same names.
      profile: options.sim.profile ?? options.sim.device,
    });
    ctx.log.info(`${device.label} listening on ${device.url}`);
    const client = new HttpDeviceClient({ ...options, baseUrl: device.url, onOversize: oversizeCounter(ctx) });
    return { instance: client, close: () => client.close() };
  },
});

/** Counts refused oversize replies per adapter id (bounded cardinality, unlike the URL). */
function oversizeCounter(ctx: AdapterContext): () => void {
  const count = peerLimitCounter(ctx.metrics);
  return () => count(ctx.id);
}
