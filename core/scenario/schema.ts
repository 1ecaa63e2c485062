// The JSON Schema of a scenario file (`fieldgate test`), published as schema/scenario.schema.json,
// and the TypeScript shapes the runner reads. Steps and assertions are told apart by their key.
import type { JsonSchema } from '../schema.ts';

export type Comparison = {
  equals?: unknown;
  /** With `approx`: |value - approx| <= tolerance (default 0.01 × |approx|, at least 1e-9). */
  approx?: number;
  tolerance?: number;
  min?: number;
  max?: number;
};

export type Assertion =
  | ({ state: string; exists?: boolean } & Comparison)
  | { heartbeat: string; stale: boolean }
  | { plugin: string; status: string | string[] }
  | { health: 'ok' | 'degraded' }
  | { store: 'ok' | 'degraded' }
  | { history: 'ok' | 'degraded' }
  | ({ rows: string; from?: number; to?: number; where?: Record<string, string | number | boolean | null> } & Comparison)
  | ({ sql: string } & Comparison)
  | { alarm: string; active: boolean }
  | ({ published: string; from?: number; payload?: unknown } & Comparison)
  | ({ mqtt: string; from?: number; payload?: unknown } & Comparison)
  | { get: string; status: number; body?: unknown }
  | ({ log: string; level?: 'debug' | 'info' | 'warn' | 'error'; from?: number } & Comparison);

export type FaultName = 'offline' | 'hang' | 'slow' | 'power-cycle' | 'recover' | 'silent' | 'full' | 'read-only';

export type Step = { name?: string } & (
  | { wait: number }
  | { command: Record<string, unknown>; status?: number }
  | { http: { method?: string; path: string; body?: unknown; headers?: Record<string, string> }; status?: number }
  | { fault: FaultName; device: string; ms?: number; offMs?: number; memory?: 'zero' | 'defaults'; box?: string }
  | { fault: FaultName; disk: 'store' | 'history' | 'both' }
  | { expect: Assertion; within?: number; for?: number }
);

export interface Scenario {
  $schema?: string;
  name?: string;
  description?: string;
  manifest: string;
  clock: 'virtual' | 'real';
  env: Record<string, string>;
  apiKey?: string;
  /** A broker to watch (what the gateway's MQTT bridge published): `${VAR}` references are read from the environment. */
  mqtt?: { url: string; topics: string[]; username?: string; password?: string };
  /** Virtual seconds per real second at most (virtual clock only). */
  maxSpeed: number;
  steps: Step[];
}

export const STEP_KINDS = ['wait', 'command', 'http', 'fault', 'expect'] as const;
export const ASSERTION_KINDS = ['state', 'heartbeat', 'plugin', 'health', 'store', 'history', 'rows', 'sql', 'alarm', 'published', 'mqtt', 'get', 'log'] as const;
export const DEVICE_FAULTS = ['offline', 'hang', 'slow', 'power-cycle', 'recover', 'silent'] as const;
export const DISK_FAULTS = ['full', 'read-only', 'recover'] as const;

const seconds = (description: string): JsonSchema => ({ type: 'number', minimum: 0, maximum: 86_400, description });
const name: JsonSchema = { type: 'string', minLength: 1, maxLength: 200, description: 'A label for the report (default: a description of the step).' };

const comparison: Record<string, JsonSchema> = {
  equals: { description: 'Deep-equal to this JSON value.' },
  approx: { type: 'number', description: 'A number within `tolerance` of this.' },
  tolerance: { type: 'number', minimum: 0, description: 'For `approx` (default 1 % of |approx|).' },
  min: { type: 'number', description: 'At least this (inclusive).' },
  max: { type: 'number', description: 'At most this (inclusive).' },
};

/** One `then` schema per discriminating key, each closed to its own keys. */
function byKey(kinds: Record<string, JsonSchema>, common: Record<string, JsonSchema> = {}): JsonSchema {
  return {
    type: 'object',
    allOf: Object.entries(kinds).map(([key, schema]) => ({
      if: { required: [key] },
      then: { ...schema, properties: { ...common, ...schema.properties }, additionalProperties: false },
    })),
  };
}

const assertion = byKey({
  state: { description: 'A state key: equals/approx/min/max, or exists.', properties: { state: { type: 'string', minLength: 1 }, exists: { type: 'boolean' }, ...comparison } },
  heartbeat: { description: 'A heartbeat key in /health is stale or fresh.', properties: { heartbeat: { type: 'string', minLength: 1 }, stale: { type: 'boolean' } }, required: ['stale'] },
  plugin: {
    description: 'A plugin\'s supervisor status (one of them, when a list).',
    properties: { plugin: { type: 'string', minLength: 1 }, status: { anyOf: [{ $ref: '#/$defs/pluginStatus' }, { type: 'array', items: { $ref: '#/$defs/pluginStatus' }, minItems: 1 }] } },
    required: ['status'],
  },
  health: { description: 'The overall /health status.', properties: { health: { enum: ['ok', 'degraded'] } } },
  store: { description: 'The state store: ok (writing to disk) or degraded (serving from memory after a disk failure).', properties: { store: { enum: ['ok', 'degraded'] } } },
  history: { description: 'The history store: ok or degraded.', properties: { history: { enum: ['ok', 'degraded'] } } },
  rows: {
    description: 'The number of history records of a series between from and to (seconds relative to now, default the last 60 s); default min 1.',
    properties: { rows: { type: 'string', minLength: 1 }, from: { type: 'number', maximum: 0 }, to: { type: 'number', maximum: 0 }, where: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } }, ...comparison },
  },
  sql: { description: 'The first column of the first row of a read-only query on the state store.', properties: { sql: { type: 'string', minLength: 1 }, ...comparison } },
  alarm: { description: 'An alarm of GET /api/alarms (id, `*` wildcards allowed) is active or not.', properties: { alarm: { type: 'string', minLength: 1 }, active: { type: 'boolean' } }, required: ['active'] },
  published: {
    description: 'Messages published on the bus on a topic (MQTT-style + and # wildcards) in the last `from` seconds (default since the previous step began); default min 1.',
    properties: { published: { type: 'string', minLength: 1 }, from: { type: 'number', maximum: 0 }, payload: { description: 'Keep only messages whose payload contains this (objects: these keys with these values).' }, ...comparison },
  },
  log: {
    description: 'Gateway log lines matching a regular expression (at `level` or above, default info) since the previous step began or in the last `from` seconds; default min 1.',
    properties: { log: { type: 'string', minLength: 1, format: 'regex' }, level: { enum: ['debug', 'info', 'warn', 'error'] }, from: { type: 'number', maximum: 0 }, ...comparison },
  },
  mqtt: {
    description: 'Messages received from the scenario\'s `mqtt` broker on a topic filter since the previous step began (or the last `from` seconds); JSON payloads parsed; default min 1.',
    properties: { mqtt: { type: 'string', minLength: 1 }, from: { type: 'number', maximum: 0 }, payload: {}, ...comparison },
  },
  get: { description: 'An HTTP GET on the gateway\'s API answers this status (and a body containing `body`).', properties: { get: { type: 'string', pattern: '^/' }, status: { type: 'integer', minimum: 100, maximum: 599 }, body: {} }, required: ['status'] },
});

const step = byKey({
  wait: { description: 'Let time pass (virtual seconds).', properties: { wait: seconds('Seconds.') } },
  command: {
    description: 'POST /api/command with this body; fails unless the answer has `status` (default 200).',
    properties: { command: { type: 'object', minProperties: 1 }, status: { type: 'integer', minimum: 100, maximum: 599 } },
  },
  http: {
    description: 'Any request to the gateway\'s API; fails unless the answer has `status` (default any 2xx).',
    properties: {
      http: {
        type: 'object',
        properties: {
          method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], default: 'GET' },
          path: { type: 'string', pattern: '^/' },
          body: {},
          headers: { type: 'object', additionalProperties: { type: 'string' } },
        },
        required: ['path'],
        additionalProperties: false,
      },
      status: { type: 'integer', minimum: 100, maximum: 599 },
    },
  },
  fault: {
    description: 'A device fault through its simulator (`device`: an adapter id) or a disk fault (`disk`). See docs/scenarios.md for which simulator supports which fault.',
    properties: {
      fault: { enum: [...new Set([...DEVICE_FAULTS, ...DISK_FAULTS])] },
      device: { type: 'string', minLength: 1 },
      disk: { enum: ['store', 'history', 'both'] },
      ms: { type: 'integer', minimum: 0, maximum: 600_000, description: 'slow: the delay added to each answer.' },
      offMs: { type: 'integer', minimum: 0, maximum: 600_000, description: 'power-cycle: how long the device stays off (default 300).' },
      memory: { enum: ['zero', 'defaults'], description: 'power-cycle: what the device remembers (default zero).' },
      box: { type: 'string', minLength: 1, description: 'silent (CAN): the node that stops sending.' },
    },
  },
  expect: {
    description: 'An assertion, polled until it holds (`within` seconds, default 0: now), then optionally required to keep holding (`for` seconds).',
    properties: { expect: { $ref: '#/$defs/assertion' }, within: seconds('Seconds to wait for it to hold.'), for: seconds('Seconds it must keep holding.') },
  },
}, { name });

export const scenarioSchema: JsonSchema = {
  $id: 'https://fieldgate.dev/schema/scenario.schema.json',
  title: 'fieldgate scenario',
  description: 'A manifest started on simulators, timed steps on a virtual clock, and assertions: `fieldgate test <scenario.json>`.',
  type: 'object',
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string' },
    manifest: { type: 'string', minLength: 1, description: 'The manifest, relative to this file.' },
    clock: { enum: ['virtual', 'real'], default: 'virtual', description: 'virtual: a fake clock driven as fast as the gateway keeps up; real: wall-clock time.' },
    env: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Variables for the manifest\'s ${VAR} references (over the process environment).' },
    apiKey: { type: 'string', description: 'Sent as x-api-key with command, http and get.' },
    mqtt: {
      type: 'object',
      description: 'An MQTT broker to watch for `mqtt` assertions (the one the manifest\'s MQTT bridge publishes to). ${VAR} references are read from the environment and `env`.',
      properties: {
        url: { type: 'string', minLength: 1 },
        topics: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, default: ['#'] },
        username: { type: 'string' },
        password: { type: 'string' },
      },
      required: ['url'],
      additionalProperties: false,
    },
    maxSpeed: { type: 'number', minimum: 1, maximum: 10_000, default: 50, description: 'Virtual clock: at most this many virtual seconds per real second.' },
    steps: { type: 'array', items: { $ref: '#/$defs/step' }, minItems: 1 },
  },
  required: ['manifest', 'steps'],
  additionalProperties: false,
  $defs: {
    step,
    assertion,
    pluginStatus: { enum: ['starting', 'running', 'backing-off', 'failed', 'stopped', 'stopping'] },
  },
} as JsonSchema;
