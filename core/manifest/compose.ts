// Composes the manifest JSON Schema from the core settings and every plugin's and adapter's own schema.
import type { AnyAdapterDefinition, AnyPluginDefinition } from '../plugin.ts';
import type { JsonSchema } from '../schema.ts';
import { LOG_LEVELS } from '../log.ts';
import { displaySchema } from '../display.ts';

export const MANIFEST_SCHEMA_ID = 'https://fieldgate.dev/schema/manifest.schema.json';
export const ID_PATTERN = '^[a-z][a-z0-9_-]*$';

export interface Catalog {
  // Definitions are generic over their config/options types; the composer only reads schemas.
  plugins: AnyPluginDefinition[];
  adapters: AnyAdapterDefinition[];
}

const id = (what: string): JsonSchema => ({
  type: 'string',
  pattern: ID_PATTERN,
  description: `${what}: lowercase letters, digits, '_' and '-', starting with a letter. Unique in the manifest.`,
});

const ms = (description: string, def: number, minimum = 0): JsonSchema => ({ type: 'integer', minimum, default: def, description });

const supervisorSchema: JsonSchema = {
  type: 'object',
  description: 'How failed plugins are restarted.',
  additionalProperties: false,
  default: {},
  properties: {
    initialBackoffMs: ms('First restart delay.', 1000),
    maxBackoffMs: ms('Upper bound of the restart delay.', 60000),
    factor: { type: 'number', minimum: 1, default: 2, description: 'Each restart delay is the previous one times this.' },
    jitter: { type: 'number', minimum: 0, maximum: 1, default: 0.2, description: 'Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter].' },
    resetAfterMs: ms('A plugin running this long without failing has its backoff reset.', 60000),
    stopTimeoutMs: ms('How long a stop (one plugin, or the whole shutdown) may take before it is abandoned.', 5000, 1),
    maxRestarts: ms('Mark the plugin failed after this many restarts in a row (0 = never give up).', 0),
  },
};

const storeSchema: JsonSchema = {
  type: 'object',
  description: 'The durable state store (sql.js + journal + snapshots).',
  additionalProperties: false,
  default: {},
  properties: {
    commitDelayMs: ms('Group-commit window: mutations arriving within it share one fsync.', 2),
    lazyFlushMs: ms('Non-durable writes are flushed at least this often (spares SD cards).', 1000, 1),
    snapshotIntervalMs: ms('Time between snapshots.', 300000, 1),
    snapshotJournalBytes: ms('Snapshot early when the journal grows past this many bytes.', 4194304, 1),
    diskRetryMs: ms('How often to retry the disk while running from memory.', 5000, 1),
    trendRetentionS: { type: 'integer', minimum: 0, default: 3600, description: 'Trend rows (the core trend table) older than this many seconds are deleted (0 = keep; a plugin must then prune).' },
    budgetBytes: { type: 'integer', minimum: 0, default: 33554432, description: 'Budget for the bytes the in-memory database uses (0 = none): /health degrades from warnRatio of it and raises a critical alarm above it.' },
    warnRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.8, description: 'Fraction of budgetBytes from which /health warns.' },
    housekeepingMs: ms('How often trend retention runs and the store size is measured.', 60000, 1000),
  },
};

const historySchema: JsonSchema = {
  type: 'object',
  description: 'Time-series history.',
  additionalProperties: false,
  default: {},
  properties: {
    segmentMs: ms('Length of one history segment.', 3600000, 1),
    retentionMs: ms('Drop history older than this (0 = keep forever).', 0),
  },
};

/** JSON-pointer-escaped, URI-safe name of a definition. */
function defKey(prefix: string, name: string): string {
  return `${prefix}.${name}`;
}

function defRef(key: string): string {
  return '#/definitions/' + encodeURIComponent(key.replace(/~/g, '~0').replace(/\//g, '~1'));
}

/**
 * Embeds a plugin's or adapter's schema under `definitions`: its own `#...` references are
 * rewritten to point inside the embedded copy, and a nested `$schema` is dropped. A schema
 * with its own `$id` keeps its references (they resolve against that id).
 */
function embed(schema: JsonSchema, ref: string): JsonSchema {
  const hasOwnId = typeof schema.$id === 'string';
  const rewrite = (node: unknown, top: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => rewrite(n, false));
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (top && key === '$schema') continue;
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#') && !hasOwnId) {
        out[key] = ref + value.slice(1);
      } else if (key === 'enum' || key === 'const' || key === 'default' || key === 'examples') {
        out[key] = value;
      } else out[key] = rewrite(value, false);
    }
    return out;
  };
  return rewrite(schema, true) as JsonSchema;
}

export function composeManifestSchema(catalog: Catalog): JsonSchema {
  const definitions: Record<string, JsonSchema> = {};
  const pluginTypes = catalog.plugins.map((p) => p.type);
  const adapterKinds = catalog.adapters.map((a) => a.kind);

  const pluginBranches = catalog.plugins.map((plugin): JsonSchema => {
    const key = defKey('plugin', plugin.type);
    const ref = defRef(key);
    definitions[key] = { ...embed(plugin.configSchema, ref), description: plugin.configSchema.description ?? plugin.description };
    // Binding names are listed for editor completion only; the loader checks them after the schema.
    const bindings: Record<string, JsonSchema> = {};
    for (const [name, req] of Object.entries(plugin.adapters ?? {})) {
      bindings[name] = { type: 'string', description: `${req.description ?? name}: id of an adapter of kind "${req.kind}"${req.optional ? ' (optional)' : ''}.` };
    }
    return {
      if: { properties: { use: { const: plugin.type } }, required: ['use'] },
      then: { properties: { config: { $ref: ref, default: {} }, adapters: { properties: bindings } } },
    };
  });

  const adapterBranches = catalog.adapters.map((adapter): JsonSchema => {
    const key = defKey('adapter', adapter.kind);
    const ref = defRef(key);
    definitions[key] = { ...embed(adapter.optionsSchema, ref), description: adapter.optionsSchema.description ?? adapter.description };
    return {
      if: { properties: { kind: { const: adapter.kind } }, required: ['kind'] },
      then: { properties: { options: { $ref: ref, default: {} } } },
    };
  });

  const adapterEntry: JsonSchema = {
    type: 'object',
    description: 'A connection to hardware or a remote system, shared by the plugins bound to it.',
    additionalProperties: false,
    required: ['id', 'kind'],
    properties: {
      id: id('Adapter id'),
      kind: {
        type: 'string',
        description: 'Adapter kind.',
        ...(adapterKinds.length ? { enum: adapterKinds } : {}),
      },
      driver: { enum: ['real', 'sim'], default: 'real', description: '`real` opens the hardware; `sim` starts the bundled simulator.' },
      options: { type: 'object', default: {}, description: "Connection options, checked against the adapter kind's schema." },
    },
    ...(adapterBranches.length ? { allOf: adapterBranches } : {}),
  };

  const pluginEntry: JsonSchema = {
    type: 'object',
    description: 'One plugin instance.',
    additionalProperties: false,
    required: ['id', 'use'],
    properties: {
      id: id('Plugin id'),
      use: {
        type: 'string',
        description: 'Plugin type.',
        ...(pluginTypes.length ? { enum: pluginTypes } : {}),
      },
      enabled: { type: 'boolean', default: true, description: 'A disabled plugin is validated but not started.' },
      adapters: {
        type: 'object',
        default: {},
        description: 'Binding name → adapter id.',
        additionalProperties: { type: 'string' },
      },
      dependsOn: {
        type: 'array',
        default: [],
        uniqueItems: true,
        description: 'Plugin ids that must be running before this one starts.',
        items: { type: 'string' },
      },
      config: { type: 'object', default: {}, description: "Plugin configuration, checked against the plugin type's schema." },
    },
    ...(pluginBranches.length ? { allOf: pluginBranches } : {}),
  };

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: MANIFEST_SCHEMA_ID,
    title: 'fieldgate manifest',
    description: 'Which adapters and plugins a fieldgate gateway runs. Strings may use ${VAR} and ${VAR:-default} (environment); $${ is a literal ${.',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'plugins'],
    properties: {
      $schema: { type: 'string', description: 'Path or URL of this schema, for editor completion.' },
      name: { type: 'string', minLength: 1, description: 'Name of this gateway.' },
      description: { type: 'string' },
      dataDir: { type: 'string', minLength: 1, description: 'Directory for the store, journal and history.' },
      log: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: { level: { enum: [...LOG_LEVELS], default: 'info', description: 'Lowest level written.' } },
      },
      supervisor: supervisorSchema,
      store: storeSchema,
      history: historySchema,
      adapters: { type: 'array', default: [], description: 'Adapters (connections) plugins can bind to.', items: { $ref: '#/definitions/adapterEntry' } },
      plugins: { type: 'array', description: 'Plugins, started in dependency order.', items: { $ref: '#/definitions/pluginEntry' } },
      display: displaySchema,
    },
    definitions: { adapterEntry, pluginEntry, ...definitions },
  };
}

const ENV_REFERENCE: JsonSchema = {
  type: 'string',
  pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}',
  description: 'An environment reference, converted to the expected type when the manifest is loaded.',
};

/**
 * The schema as published for editors: wherever a number, integer or boolean is expected, a
 * string holding `${VAR}` is accepted too, since the loader interpolates and coerces it before
 * validating. The loader itself validates with the unwidened schema.
 */
export function widenForEnvironment(schema: JsonSchema): JsonSchema {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      out[key] = key === 'enum' || key === 'const' || key === 'default' || key === 'examples' ? value : walk(value);
    }
    const types = typeof out.type === 'string' ? [out.type] : Array.isArray(out.type) ? out.type : [];
    if (types.includes('string') || !types.some((t) => t === 'number' || t === 'integer' || t === 'boolean')) return out;
    const { description, default: def, ...rest } = out;
    return {
      ...(description !== undefined ? { description } : {}),
      ...(def !== undefined ? { default: def } : {}),
      anyOf: [rest, ENV_REFERENCE],
    };
  };
  return walk(schema) as JsonSchema;
}
