// Config of the mqtt plugin: the broker (URL, credentials, TLS files — all from the environment in
// the manifests), what is published and how, the writable keys, store-and-forward bounds, and the
// optional Sparkplug B and Home Assistant discovery faces.
import type { JsonSchema } from '../../core/schema.ts';

export type PayloadFormat = 'json' | 'raw';
export type Qos = 0 | 1 | 2;

export interface KeyRule {
  /** A state key, or a pattern where `*` matches any run of characters (`sensor:*`); `*` alone is every key. */
  key: string;
  /** Numbers: publish only when the change exceeds this (absolute). 0 = every change. */
  deadband?: number;
  /** Republish an unchanged value after this long (ms); 0 = never. */
  maxIntervalMs?: number;
  qos?: Qos;
  retain?: boolean;
  format?: PayloadFormat;
}

export interface MqttConfig {
  /** `mqtt://host:1883` or `mqtts://host:8883`; empty = the plugin stays off. */
  url: string;
  clientId: string;
  username: string;
  password: string;
  tls: { ca: string; cert: string; key: string; rejectUnauthorized: boolean };
  /** Topic prefix of plain topics: `<prefix>/<key>`, `<prefix>/<key>/set`, `<prefix>/status`. */
  prefix: string;
  publish: {
    keys: Array<string | KeyRule>;
    /** Keys never published even when a pattern matches (`sensor:*:ts`). */
    exclude: string[];
    /** Bus topic patterns (`production/+`) mirrored to `<prefix>/bus/<topic>` as JSON. */
    topics: string[];
    format: PayloadFormat;
    qos: Qos;
    retain: boolean;
    deadband: number;
    maxIntervalMs: number;
  };
  /** Writable keys (`<prefix>/<key>/set`); their schemas are the http-api plugin's `commands` unless given here. */
  commands: { enabled: boolean; schemas: Record<string, JsonSchema> | null };
  /** Every payload read from the broker larger than this is refused. */
  maxPayloadBytes: number;
  /** Store and forward: messages kept while the broker is unreachable (oldest dropped beyond). */
  queue: { maxMessages: number; drainBatch: number };
  reconnect: { minMs: number; maxMs: number };
  keepaliveS: number;
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5 (response topics for /set replies). */
  protocolVersion: 4 | 5;
  /** Devices group published state keys (exact or with `*`); none = one device `gateway` with every published key. */
  sparkplug: { enabled: boolean; groupId: string; edgeNodeId: string; devices: Array<{ id: string; keys: string[] }> };
  /** `entities` overrides the guessed device class / unit per state key. */
  homeassistant: { enabled: boolean; prefix: string; nodeId: string; entities: Record<string, { device_class?: string; unit_of_measurement?: string; state_class?: string }> };
}

const qos: JsonSchema = { type: 'integer', enum: [0, 1, 2] };
const format: JsonSchema = { type: 'string', enum: ['json', 'raw'] };

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', pattern: '^$|^mqtts?://', default: '', description: 'Broker URL (mqtt:// or mqtts://); use "${MQTT_URL:-}". Empty: the plugin stays off.' },
    clientId: { type: 'string', default: '', description: 'MQTT client id; empty = fieldgate-<manifest name>-<plugin id>. Recorded as the key id of audited writes.' },
    username: { type: 'string', default: '', description: 'Use "${MQTT_USERNAME:-}".' },
    password: { type: 'string', default: '', 'x-secret': true, description: 'Use "${MQTT_PASSWORD:-}".' },
    tls: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ca: { type: 'string', default: '', description: 'PEM file of the CA that signed the broker (mqtts://); empty = the system CAs.' },
        cert: { type: 'string', default: '', description: 'PEM client certificate file (mutual TLS).' },
        key: { type: 'string', default: '', description: 'PEM private key file of the client certificate.' },
        rejectUnauthorized: { type: 'boolean', default: true },
      },
    },
    prefix: { type: 'string', minLength: 1, pattern: '^[^#+]+$', default: 'fieldgate', description: 'Plain topic prefix (no wildcards, no trailing /).' },
    publish: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        keys: {
          type: 'array',
          default: [],
          items: {
            oneOf: [
              { type: 'string', minLength: 1 },
              {
                type: 'object',
                additionalProperties: false,
                required: ['key'],
                properties: {
                  key: { type: 'string', minLength: 1 },
                  deadband: { type: 'number', minimum: 0 },
                  maxIntervalMs: { type: 'integer', minimum: 0 },
                  qos,
                  retain: { type: 'boolean' },
                  format,
                },
              },
            ],
          },
          description: 'State keys published at <prefix>/<key>; * matches any run of characters (sensor:*).',
        },
        exclude: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Keys never published, even when matched (sensor:*:ts).' },
        topics: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Bus topic patterns mirrored to <prefix>/bus/<topic>.' },
        format: { ...format, default: 'json', description: 'json: the value as JSON; raw: strings bare, other values as JSON.' },
        qos: { ...qos, default: 1 },
        retain: { type: 'boolean', default: true },
        deadband: { type: 'number', minimum: 0, default: 0 },
        maxIntervalMs: { type: 'integer', minimum: 0, default: 0 },
      },
    },
    commands: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Subscribe to <prefix>/<key>/set for the writable keys.' },
        schemas: { type: ['object', 'null'], default: null, additionalProperties: { type: 'object' }, description: 'Writable keys and their JSON Schemas; null = the http-api plugin\'s commands.' },
      },
    },
    maxPayloadBytes: { type: 'integer', minimum: 64, maximum: 1048576, default: 16384 },
    queue: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxMessages: { type: 'integer', minimum: 1, default: 100000, description: 'Queued messages kept in the store while the broker is down; the oldest are dropped beyond.' },
        drainBatch: { type: 'integer', minimum: 1, maximum: 10000, default: 500 },
      },
    },
    reconnect: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { minMs: { type: 'integer', minimum: 10, default: 1000 }, maxMs: { type: 'integer', minimum: 10, default: 30000 } },
    },
    keepaliveS: { type: 'integer', minimum: 0, maximum: 65535, default: 30 },
    protocolVersion: { type: 'integer', enum: [4, 5], default: 4, description: '4 = MQTT 3.1.1, 5 = MQTT 5 (a /set with a response topic is answered there, with its correlation data).' },
    sparkplug: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        groupId: { type: 'string', pattern: '^[^/#+]+$', default: 'fieldgate' },
        edgeNodeId: { type: 'string', pattern: '^$|^[^/#+]+$', default: '', description: 'Empty = the manifest name.' },
        devices: {
          type: 'array',
          default: [],
          description: 'Sparkplug devices (one per plugin, say), each with the state keys it reports (exact or prefix*). Empty: one device "gateway" with every published key.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'keys'],
            properties: {
              id: { type: 'string', pattern: '^[^/#+]+$' },
              keys: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
            },
          },
        },
      },
    },
    homeassistant: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        prefix: { type: 'string', default: 'homeassistant' },
        nodeId: { type: 'string', pattern: '^$|^[A-Za-z0-9_-]+$', default: '', description: 'Empty = the manifest name (non [A-Za-z0-9_-] replaced by _).' },
        entities: {
          type: 'object',
          default: {},
          description: 'Per state key: device_class, unit_of_measurement, state_class instead of the guess from the key name.',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: { device_class: { type: 'string' }, unit_of_measurement: { type: 'string' }, state_class: { type: 'string' } },
          },
        },
      },
    },
  },
};

/** Fills every default (tests build configs by hand; the manifest loader fills them too). */
export function resolveConfig(raw: Partial<MqttConfig>, names: { manifest: string; plugin: string }): MqttConfig {
  const p: Partial<MqttConfig['publish']> = raw.publish ?? {};
  return {
    url: raw.url ?? '',
    clientId: raw.clientId || `fieldgate-${names.manifest}-${names.plugin}`,
    username: raw.username ?? '',
    password: raw.password ?? '',
    tls: { ca: '', cert: '', key: '', rejectUnauthorized: true, ...raw.tls },
    prefix: (raw.prefix ?? 'fieldgate').replace(/\/+$/, ''),
    publish: { keys: [], exclude: [], topics: [], format: 'json', qos: 1, retain: true, deadband: 0, maxIntervalMs: 0, ...p },
    commands: { enabled: true, schemas: null, ...raw.commands },
    maxPayloadBytes: raw.maxPayloadBytes ?? 16384,
    queue: { maxMessages: 100000, drainBatch: 500, ...raw.queue },
    reconnect: { minMs: 1000, maxMs: 30000, ...raw.reconnect },
    keepaliveS: raw.keepaliveS ?? 30,
    protocolVersion: raw.protocolVersion ?? 4,
    sparkplug: { enabled: false, groupId: 'fieldgate', devices: [], ...raw.sparkplug, edgeNodeId: raw.sparkplug?.edgeNodeId || names.manifest },
    homeassistant: { enabled: false, prefix: 'homeassistant', entities: {}, ...raw.homeassistant, nodeId: raw.homeassistant?.nodeId || names.manifest.replace(/[^A-Za-z0-9_-]/g, '_') },
  };
}

/** What the schema cannot say, one `path: message` line per problem. */
export function checkConfig(c: MqttConfig): string[] {
  const issues: string[] = [];
  if (c.reconnect.minMs > c.reconnect.maxMs) issues.push(`reconnect.minMs: ${c.reconnect.minMs} is above reconnect.maxMs ${c.reconnect.maxMs}`);
  if ((c.tls.cert === '') !== (c.tls.key === '')) issues.push('tls: give both cert and key (mutual TLS), or neither');
  c.publish.keys.forEach((k, i) => {
    const key = typeof k === 'string' ? k : k.key;
    if (/[#+]/.test(key)) issues.push(`publish.keys[${i}]: "${key}" contains an MQTT wildcard (# or +)`);
  });
  return issues;
}

/** `mqtt://user:***@host` for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
