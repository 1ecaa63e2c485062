// Config of the can-decoder plugin: the DBC, the mapping of DBC signals to the seed's sensor names
// with calibration and validation, the live-key TTL and the history batching.
import type { JsonSchema } from '../../core/schema.ts';

export interface SensorMapping {
  /** Seed sensor name: live keys are `sensor:<name>` and `sensor:<name>:ts`. */
  name: string;
  /** DBC message name (`FlowerBack_Psychro`). */
  message: string;
  /** DBC signal name in that message (`DryBulb`). */
  signal: string;
  /** Calibration applied after the DBC's factor/offset: value * gain + offset. */
  gain: number;
  offset: number;
  /** Valid range after calibration; outside → flagged, not published as a valid value. */
  min?: number;
  max?: number;
}

export interface DecoderConfig {
  /** DBC file; a relative path is resolved against the working directory, then the fieldgate install. */
  dbc: string;
  sensors: SensorMapping[];
  /** Live keys expire (→ null) this long after the sensor's last valid frame. */
  ttlS: number;
  /** How often expiry is checked; expiry lands between ttlS and ttlS + sweepMs. */
  sweepMs: number;
  /** Live values are coalesced and written to the store at most this often. */
  liveFlushMs: number;
  /** Publish one `can/signal` bus message per decoded frame. */
  publish: boolean;
  history: { enabled: boolean; series: string; batchSize: number; flushMs: number };
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dbc', 'sensors'],
  properties: {
    dbc: { type: 'string', minLength: 1, description: 'DBC file describing the frames (relative: to the working directory, then the fieldgate install).' },
    sensors: {
      type: 'array',
      description: 'DBC signals published as live sensor keys.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'message', 'signal'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', description: 'Seed sensor name, e.g. dry_bulb_b.' },
          message: { type: 'string', minLength: 1 },
          signal: { type: 'string', minLength: 1 },
          gain: { type: 'number', default: 1 },
          offset: { type: 'number', default: 0 },
          min: { type: 'number' },
          max: { type: 'number' },
        },
      },
    },
    ttlS: { type: 'number', exclusiveMinimum: 0, default: 10 },
    sweepMs: { type: 'integer', minimum: 10, default: 1000 },
    liveFlushMs: { type: 'integer', minimum: 1, default: 100 },
    publish: { type: 'boolean', default: true },
    history: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        series: { type: 'string', pattern: '^[a-z0-9_]+$', default: 'can_messages' },
        batchSize: { type: 'integer', minimum: 1, default: 1000 },
        flushMs: { type: 'integer', minimum: 1, default: 1000 },
      },
    },
  },
};

/** Checks the schema cannot express; one `path: message` per problem. */
export function checkConfig(config: DecoderConfig): string[] {
  const issues: string[] = [];
  const names = new Map<string, number>();
  const signals = new Map<string, number>();
  config.sensors.forEach((s, i) => {
    if (names.has(s.name)) issues.push(`sensors[${i}].name: "${s.name}" already used by sensors[${names.get(s.name)}]`);
    else names.set(s.name, i);
    const key = `${s.message}.${s.signal}`;
    if (signals.has(key)) issues.push(`sensors[${i}]: ${key} already mapped by sensors[${signals.get(key)}]`);
    else signals.set(key, i);
    if (s.min !== undefined && s.max !== undefined && s.min > s.max) issues.push(`sensors[${i}].min: ${s.min} is above max ${s.max}`);
  });
  return issues;
}

/** Fills defaults a runtime built without the manifest loader (tests, bench) would miss. */
export function withDefaults(config: Partial<DecoderConfig> & Pick<DecoderConfig, 'dbc' | 'sensors'>): DecoderConfig {
  return {
    ttlS: 10,
    sweepMs: 1000,
    liveFlushMs: 100,
    publish: true,
    ...config,
    sensors: config.sensors.map((s) => ({ ...s, gain: s.gain ?? 1, offset: s.offset ?? 0 })),
    history: { enabled: true, series: 'can_messages', batchSize: 1000, flushMs: 1000, ...config.history },
  };
}
