// Config of the redis-bridge plugin: where Redis is, what this instance does (producer, worker or
// both), the stream and consumer group, live-key TTL, reconnect backoff and the history rows.
import type { JsonSchema } from '../../core/schema.ts';

export type BridgeMode = 'producer' | 'worker' | 'both';

export interface RedisBridgeConfig {
  /** `redis://[user:pass@]host:port[/db]`; the manifest uses `${REDIS_URL:-redis://127.0.0.1:6379}`. */
  url: string;
  /** producer: frames → XADD (+ live keys); worker: XREADGROUP → can_messages rows; both. */
  mode: BridgeMode;
  /** DBC used to decode frames into rows (worker, and the producer's direct-write fallback). */
  dbc: string;
  stream: string;
  /** Approximate stream cap (`XADD ... MAXLEN ~ maxLen`). */
  maxLen: number;
  group: string;
  /** Entries the worker cannot decode go here with the reason (default: `<stream>:dead`). */
  deadStream: string;
  /** Consumer name in the group; defaults to the plugin id. */
  consumer: string;
  /** `sensor:<name>` / `sensor:<name>:ts` live keys mirrored to Redis with `SET ... EX ttlS`. */
  ttlS: number;
  /** Mirror live keys (the state store's `sensor:*` changes) to Redis. */
  live: boolean;
  /** Entries per XREADGROUP and the BLOCK time of one read. */
  readCount: number;
  blockMs: number;
  /** Reconnect backoff: minMs * 2^(attempt-1), capped at maxMs (plus up to 10 % jitter). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** History series and batching of direct (fallback) writes. */
  series: string;
  batchSize: number;
  flushMs: number;
  /** Largest single Redis reply read, in bytes; a bigger one closes the connection. */
  maxReplyBytes: number;
}

export const DEFAULTS: Omit<RedisBridgeConfig, 'dbc' | 'consumer' | 'deadStream'> = {
  url: 'redis://127.0.0.1:6379',
  mode: 'both',
  stream: 'can:raw',
  maxLen: 100_000,
  group: 'fieldgate',
  ttlS: 10,
  live: true,
  readCount: 500,
  blockMs: 1000,
  reconnectMinMs: 100,
  reconnectMaxMs: 5000,
  series: 'can_messages',
  batchSize: 500,
  flushMs: 1000,
  maxReplyBytes: 16 * 1024 * 1024,
};

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dbc'],
  properties: {
    url: { type: 'string', pattern: '^rediss?://', default: DEFAULTS.url, description: 'Redis URL; the manifest usually says ${REDIS_URL:-redis://127.0.0.1:6379}.' },
    mode: { enum: ['producer', 'worker', 'both'], default: DEFAULTS.mode, description: 'producer: XADD every frame; worker: consume the stream into can_messages rows; both.' },
    dbc: { type: 'string', minLength: 1, description: 'DBC decoding frames into rows (relative: working directory, then the fieldgate install).' },
    stream: { type: 'string', minLength: 1, default: DEFAULTS.stream },
    maxLen: { type: 'integer', minimum: 1, default: DEFAULTS.maxLen, description: 'XADD MAXLEN ~ cap.' },
    group: { type: 'string', minLength: 1, default: DEFAULTS.group },
    consumer: { type: 'string', minLength: 1, description: 'Consumer name in the group (default: the plugin id).' },
    deadStream: { type: 'string', minLength: 1, description: 'Dead-letter stream for entries the worker cannot decode, with the reason (default: <stream>:dead).' },
    ttlS: { type: 'integer', minimum: 1, default: DEFAULTS.ttlS, description: 'TTL of the sensor:<name> keys in Redis.' },
    live: { type: 'boolean', default: DEFAULTS.live },
    readCount: { type: 'integer', minimum: 1, default: DEFAULTS.readCount },
    blockMs: { type: 'integer', minimum: 1, default: DEFAULTS.blockMs },
    reconnectMinMs: { type: 'integer', minimum: 1, default: DEFAULTS.reconnectMinMs },
    reconnectMaxMs: { type: 'integer', minimum: 1, default: DEFAULTS.reconnectMaxMs },
    series: { type: 'string', pattern: '^[a-z0-9_]+$', default: DEFAULTS.series },
    batchSize: { type: 'integer', minimum: 1, default: DEFAULTS.batchSize },
    flushMs: { type: 'integer', minimum: 1, default: DEFAULTS.flushMs },
    maxReplyBytes: {
      type: 'integer', minimum: 65536, default: DEFAULTS.maxReplyBytes,
      description: 'Largest single Redis reply read, in bytes (a readCount batch of frames is far smaller); a bigger one closes the connection and counts in fieldgate_peer_reply_oversize_total.',
    },
  },
};

export function resolveConfig(raw: Partial<RedisBridgeConfig> & { dbc: string }, id: string): RedisBridgeConfig {
  const c = { ...DEFAULTS, consumer: id, ...raw };
  return { ...c, deadStream: raw.deadStream ?? `${c.stream}:dead` };
}

export function checkConfig(c: Partial<RedisBridgeConfig>): string[] {
  const issues: string[] = [];
  if (c.reconnectMinMs !== undefined && c.reconnectMaxMs !== undefined && c.reconnectMinMs > c.reconnectMaxMs) {
    issues.push(`reconnectMinMs: ${c.reconnectMinMs} is above reconnectMaxMs ${c.reconnectMaxMs}`);
  }
  return issues;
}

/** The URL without its password, for logs and health. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
