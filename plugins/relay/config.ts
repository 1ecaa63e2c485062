// The relay plugin's config: its JSON Schema and the defaults applied when config comes from code.
import type { JsonSchema } from '../../core/schema.ts';

export const RELAY_DRIVERS = ['esp32-lab', 'tasmota', 'shelly-gen2', 'gpio'] as const;
export type RelayDriverName = (typeof RELAY_DRIVERS)[number];

export interface RelayKeys {
  /** Boolean the operator sets (API, dashboard); the plugin reacts to its bus event. */
  requested: string;
  /** What the device reports. */
  actual: string;
  /** Whether the last contact with the device succeeded. */
  connected: string;
  /** Epoch seconds of the last successful contact (health heartbeat). */
  lastTs: string;
}

export interface RelayConfig {
  driver: RelayDriverName;
  /** Tasmota relay number (1 = `Power`), Shelly switch id (default 0). */
  channel?: number;
  pollMs: number;
  backoff: { initialMs: number; maxMs: number; factor: number; jitter: number };
  staleAfterS: number;
  keys: RelayKeys;
}

/** The seed's state key names, so its API clients work unchanged. */
export const SEED_KEYS: RelayKeys = {
  requested: 'power_on_requested',
  actual: 'power_on_actual',
  connected: 'esp32_connected',
  lastTs: 'relay_last_ts',
};

const key = (def: string, description: string): JsonSchema => ({ type: 'string', pattern: '^[a-z][a-z0-9_]*$', default: def, description });

export const relayConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['driver'],
  properties: {
    driver: {
      enum: [...RELAY_DRIVERS],
      description: 'Device preset. esp32-lab, tasmota and shelly-gen2 need the "device" binding (http adapter); gpio needs the "line" binding (gpio adapter).',
    },
    channel: { type: 'integer', minimum: 0, maximum: 31, description: 'Tasmota relay number (1 = Power) or Shelly switch id (0). Default: the first relay.' },
    pollMs: { type: 'integer', minimum: 50, maximum: 3600000, default: 2000, description: 'Status poll interval while the device answers.' },
    backoff: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Poll delays while the device is unreachable: initialMs, then x factor per failure, capped at maxMs.',
      properties: {
        initialMs: { type: 'integer', minimum: 10, default: 1000 },
        maxMs: { type: 'integer', minimum: 10, default: 30000 },
        factor: { type: 'number', minimum: 1, default: 2 },
        jitter: { type: 'number', minimum: 0, maximum: 1, default: 0.2 },
      },
    },
    staleAfterS: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Health calls the relay stale when no contact succeeded for this long.' },
    keys: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'State key names (defaults are the seed\'s).',
      properties: {
        requested: key(SEED_KEYS.requested, 'Requested relay state (boolean) the plugin follows.'),
        actual: key(SEED_KEYS.actual, 'Relay state the device reports.'),
        connected: key(SEED_KEYS.connected, 'Whether the device answers.'),
        lastTs: key(SEED_KEYS.lastTs, 'Epoch seconds of the last good contact.'),
      },
    },
  },
};

/** Applies defaults to a config that may not have been through the manifest validator. */
export function relayConfig(raw: Partial<RelayConfig> & Pick<RelayConfig, 'driver'>): RelayConfig {
  const config: RelayConfig = {
    ...raw,
    driver: raw.driver,
    pollMs: raw.pollMs ?? 2000,
    backoff: { initialMs: 1000, maxMs: 30000, factor: 2, jitter: 0.2, ...raw.backoff },
    staleAfterS: raw.staleAfterS ?? 10,
    keys: { ...SEED_KEYS, ...raw.keys },
  };
  if (config.backoff.maxMs < config.backoff.initialMs) {
    throw new Error(`relay: backoff.maxMs (${config.backoff.maxMs}) must be >= backoff.initialMs (${config.backoff.initialMs})`);
  }
  return config;
}
