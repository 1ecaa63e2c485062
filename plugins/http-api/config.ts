// The http-api plugin's config: its JSON Schema (validated by the manifest loader) and the typed
// shape the plugin receives, with every default filled in.
import type { JsonSchema } from '../../core/schema.ts';
import { apiKeysSchema, type ApiKeyEntry } from './api-keys.ts';

export interface DashboardPanel {
  title: string;
  /** A GET route of this server whose JSON is shown as a table (array) or a list (object). */
  source?: string;
  /** State keys shown as live values in this panel. */
  keys?: string[];
}

export interface HttpApiConfig {
  host: string;
  port: number;
  /** Required for writes (and reads when `requireKeyForReads`). Empty: no key, loopback only. */
  apiKey?: string;
  /** Further keys with roles (read, operate, admin); `apiKey` is admin. */
  apiKeys: ApiKeyEntry[];
  requireKeyForReads: boolean;
  /** PEM certificate and key files; both set = HTTPS and WSS only. */
  tls: { cert?: string; key?: string };
  /** Writable state keys, each with the JSON Schema its value must satisfy. */
  commands: Record<string, JsonSchema>;
  rateLimit: { max: number; timeWindowMs: number };
  cors: { origins: string[] };
  /** Extra Host names (besides localhost, 127.0.0.1, [::1]) accepted while the Host is checked. */
  allowedHosts: string[];
  bodyLimit: number;
  ws: { softBytes: number; hardBytes: number; stallMs: number; pingIntervalMs: number; maxClients: number; maxClientsPerAddress: number; flushMs: number };
  audit: { keepRows: number; maxAgeDays: number; archive: boolean; archiveDays: number };
  /** The alarm board: how often conditions are evaluated, value limits, cleared alarms kept. */
  alarms: { evalMs: number; keepRecent: number; limits: Record<string, { min?: number; max?: number }> };
  /** GET /api/history limits: buckets per bucketed answer, rows per raw page. */
  history: { maxBuckets: number; maxLimit: number; rollupCacheCells: number };
  docs: boolean;
  dashboard: { enabled: boolean; title: string; keys: string[]; trendKeys: string[]; panels: DashboardPanel[]; chart: { keys: string[]; sampleMs: number } };
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'string', default: '127.0.0.1', description: 'Address to bind. Ignored (127.0.0.1 is used) while no apiKey is set.' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: '0 picks a free port (tests).' },
    apiKey: { type: 'string', 'x-secret': true, description: 'X-API-Key value required for writes; use "${API_KEY}".' },
    apiKeys: apiKeysSchema,
    requireKeyForReads: { type: 'boolean', default: false, description: 'Also require the key for GET routes and the WebSocket (not /health nor the dashboard files).' },
    tls: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Serve HTTPS and WSS instead of HTTP: both files set, e.g. "${API_TLS_CERT:-}" and "${API_TLS_KEY:-}"; empty = plain HTTP.',
      properties: {
        cert: { type: 'string', description: 'PEM certificate (chain) file.' },
        key: { type: 'string', description: 'PEM private key file (unencrypted; keep it readable by the gateway user only).' },
      },
    },
    commands: {
      type: 'object',
      default: {},
      description: 'Keys POST /api/command may write, each with the JSON Schema of its value.',
      additionalProperties: { type: 'object' },
    },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max: { type: 'integer', minimum: 1, default: 600, description: 'Requests per client address per window.' },
        timeWindowMs: { type: 'integer', minimum: 100, default: 60000 },
      },
    },
    cors: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { origins: { type: 'array', items: { type: 'string' }, default: [], description: 'Allowed browser origins; empty = same origin only.' } },
    },
    allowedHosts: {
      type: 'array',
      default: [],
      items: { type: 'string', pattern: '^[A-Za-z0-9._:\\[\\]-]+$' },
      description: 'Host names (no port) accepted besides localhost, 127.0.0.1 and [::1] when the server is bound to loopback or has no apiKey (DNS rebinding protection), e.g. a reverse proxy\'s name.',
    },
    bodyLimit: { type: 'integer', minimum: 256, maximum: 10485760, default: 16384, description: 'Largest request body in bytes (413 above).' },
    ws: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        softBytes: { type: 'integer', minimum: 1024, default: 65536, description: 'bufferedAmount above which a client gets only the latest value per key.' },
        hardBytes: { type: 'integer', minimum: 4096, default: 1048576, description: 'Buffered + pending bytes above which the client is closed (1013).' },
        stallMs: { type: 'integer', minimum: 100, default: 30000, description: 'A client conflated this long without draining is closed (1013).' },
        pingIntervalMs: { type: 'integer', minimum: 100, default: 30000 },
        maxClients: { type: 'integer', minimum: 1, default: 500 },
        maxClientsPerAddress: {
          type: 'integer', minimum: 1, default: 20,
          description: 'Connections one client address may hold; more are closed at once with 1013, so one address cannot lock the dashboards out.',
        },
        flushMs: { type: 'integer', minimum: 10, default: 250, description: 'How often conflated clients are checked and flushed.' },
      },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        keepRows: { type: 'integer', minimum: 100, default: 10000, description: 'Audit rows kept in the (in-memory) store; older ones are pruned at start and hourly.' },
        maxAgeDays: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'Audit rows older than this (days) are pruned at start and hourly.' },
        archive: { type: 'boolean', default: true, description: 'Move pruned rows to the history series http_api_audit (segment files on disk) instead of dropping them.' },
        archiveDays: { type: 'number', exclusiveMinimum: 0, default: 365, description: 'History segments of archived audit rows older than this (days) are deleted.' },
      },
    },
    alarms: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'GET /api/alarms: stale heartbeats, plugins not running, failing checks and values outside these limits.',
      properties: {
        evalMs: { type: 'integer', minimum: 100, default: 1000, description: 'How often alarm conditions are evaluated.' },
        keepRecent: { type: 'integer', minimum: 0, maximum: 10000, default: 100, description: 'Cleared alarms kept for GET /api/alarms.' },
        limits: {
          type: 'object',
          default: {},
          description: 'Per state key: an alarm while its number is below min or above max, e.g. {"rtd_temp": {"max": 110}}.',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: { min: { type: 'number' }, max: { type: 'number' } },
          },
        },
      },
    },
    history: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxBuckets: { type: 'integer', minimum: 10, maximum: 1000000, default: 5000, description: 'Most buckets one GET /api/history answer may hold (400 above, saying which step fits).' },
        maxLimit: { type: 'integer', minimum: 10, maximum: 1000000, default: 10000, description: 'Most raw rows per GET /api/history page.' },
        rollupCacheCells: { type: 'integer', minimum: 0, maximum: 10000000, default: 250000, description: 'Cells (per segment, key and 10-60 s) of cached rollups of closed segments, ~100 bytes each; 0 disables the cache.' },
      },
    },
    docs: { type: 'boolean', default: true, description: 'Serve the OpenAPI UI at /docs.' },
    dashboard: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        title: { type: 'string', default: 'fieldgate' },
        keys: { type: 'array', items: { type: 'string' }, default: [], description: 'State keys shown live; empty = every key.' },
        trendKeys: { type: 'array', items: { enum: ['pv', 'sp', 'mv'] }, default: ['pv', 'sp', 'mv'] },
        chart: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'State keys sampled into the history series "dashboard" for the history chart (GET /api/history/dashboard).',
          properties: {
            keys: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], uniqueItems: true, description: 'Numeric or boolean state keys to sample; empty = no sampling.' },
            sampleMs: { type: 'integer', minimum: 100, default: 10000, description: 'Sampling period (a row holds every key\'s current value).' },
          },
        },
        panels: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['title'],
            properties: {
              title: { type: 'string' },
              source: { type: 'string', pattern: '^/' },
              keys: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
  },
};

const DEFAULTS: HttpApiConfig = {
  host: '127.0.0.1',
  port: 8080,
  apiKeys: [],
  requireKeyForReads: false,
  tls: {},
  commands: {},
  rateLimit: { max: 600, timeWindowMs: 60000 },
  cors: { origins: [] },
  allowedHosts: [],
  bodyLimit: 16384,
  ws: { softBytes: 65536, hardBytes: 1048576, stallMs: 30000, pingIntervalMs: 30000, maxClients: 500, maxClientsPerAddress: 20, flushMs: 250 },
  audit: { keepRows: 10000, maxAgeDays: 30, archive: true, archiveDays: 365 },
  alarms: { evalMs: 1000, keepRecent: 100, limits: {} },
  history: { maxBuckets: 5000, maxLimit: 10000, rollupCacheCells: 250000 },
  docs: true,
  dashboard: { enabled: true, title: 'fieldgate', keys: [], trendKeys: ['pv', 'sp', 'mv'], panels: [], chart: { keys: [], sampleMs: 10000 } },
};

/**
 * Fills defaults for a partial config: the manifest loader applies schema defaults already, but
 * tests and code that build the plugin directly get the same values this way.
 */
export function withDefaults(config: Partial<HttpApiConfig>): HttpApiConfig {
  return {
    ...DEFAULTS,
    ...config,
    rateLimit: { ...DEFAULTS.rateLimit, ...config.rateLimit },
    cors: { ...DEFAULTS.cors, ...config.cors },
    tls: { ...config.tls },
    ws: { ...DEFAULTS.ws, ...config.ws },
    audit: { ...DEFAULTS.audit, ...config.audit },
    alarms: { ...DEFAULTS.alarms, ...config.alarms },
    history: { ...DEFAULTS.history, ...config.history },
    dashboard: { ...DEFAULTS.dashboard, ...config.dashboard, chart: { ...DEFAULTS.dashboard.chart, ...config.dashboard?.chart } },
    commands: config.commands ?? {},
    allowedHosts: config.allowedHosts ?? [],
    apiKeys: config.apiKeys ?? [],
    apiKey: config.apiKey ? config.apiKey : undefined,
  };
}
