// The modbus-bridge configuration: its JSON Schema (everything JSON Schema can say) and the checks
// it cannot say (overlapping addresses, a 32-bit value running past 65535), reported by path.
import type { JsonSchema } from '../../core/schema.ts';
import type { ModbusTable } from '../../adapters/modbus/types.ts';

export type TagType = 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';
export type Direction = 'read' | 'write' | 'read-write';

export interface TagConfig {
  key: string;
  table: ModbusTable;
  address: number;
  /** Default: bool for coil/discrete, uint16 for registers. */
  type?: TagType;
  wordOrder: 'big' | 'little';
  scale: number;
  offset: number;
  direction: Direction;
  deadband: number;
}

export interface BridgeConfig {
  unit: number;
  pollMs: number;
  map: TagConfig[];
  maxGap: number;
  maxRegistersPerRequest: number;
  maxBitsPerRequest: number;
  staleAfterS: number;
  connectedKey: string;
  lastOkKey: string;
  circuit: { failureThreshold: number; openMs: number };
  backoff: { initialMs: number; maxMs: number; factor: number; jitter: number };
}

const KEY_PATTERN = '^[A-Za-z][A-Za-z0-9_.:-]*$';

const tagSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'table', 'address'],
  properties: {
    key: { type: 'string', pattern: KEY_PATTERN, description: 'State key the value is published under (read) or taken from (write).' },
    table: { enum: ['holding', 'input', 'coil', 'discrete'], description: 'Modbus table: holding/input registers, coils, discrete inputs.' },
    address: { type: 'integer', minimum: 0, maximum: 65535, description: 'Zero-based address (HR 8 = 40009 in 1-based notation).' },
    type: {
      enum: ['bool', 'int16', 'uint16', 'int32', 'uint32', 'float32'],
      description: 'Value type; 32-bit types use two registers. Default bool for coils and discrete inputs, uint16 for registers.',
    },
    wordOrder: { enum: ['big', 'little'], default: 'big', description: '32-bit types: big = high word first (Omron, Siemens), little = low word first.' },
    scale: { type: 'number', not: { const: 0 }, default: 1, description: 'value = raw * scale + offset (numbers only).' },
    offset: { type: 'number', default: 0 },
    direction: { enum: ['read', 'write', 'read-write'], default: 'read', description: 'read: PLC → store; write: store → PLC; read-write: both.' },
    deadband: { type: 'number', minimum: 0, default: 0, description: 'A read is published, and a write sent, only when the value moved more than this.' },
  },
  allOf: [
    {
      if: { properties: { table: { enum: ['coil', 'discrete'] } }, required: ['table'] },
      then: { properties: { type: { const: 'bool' } } },
    },
    {
      if: { properties: { table: { enum: ['input', 'discrete'] } }, required: ['table'] },
      then: { properties: { direction: { const: 'read', description: 'Input registers and discrete inputs are read-only.' } } },
    },
  ],
};

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['map'],
  properties: {
    unit: { type: 'integer', minimum: 0, maximum: 255, default: 1, description: 'Modbus unit (slave) id.' },
    pollMs: { type: 'integer', minimum: 10, maximum: 3600000, default: 100, description: 'Poll period while the device answers.' },
    map: { type: 'array', minItems: 1, items: tagSchema, description: 'State keys ↔ Modbus addresses.' },
    maxGap: { type: 'integer', minimum: 0, maximum: 124, default: 10, description: 'Unused registers (or bits) a read may span to join two blocks into one request.' },
    maxRegistersPerRequest: { type: 'integer', minimum: 1, maximum: 125, default: 125 },
    maxBitsPerRequest: { type: 'integer', minimum: 1, maximum: 2000, default: 2000 },
    staleAfterS: { type: 'number', exclusiveMinimum: 0, default: 5, description: 'Health calls the link stale when no request succeeded for this long.' },
    connectedKey: { type: 'string', pattern: KEY_PATTERN, default: 'plc_connected', description: 'State key: true while the device answers.' },
    lastOkKey: { type: 'string', pattern: KEY_PATTERN, default: 'modbus_last_ok_ts', description: 'State key: epoch seconds of the last successful exchange (heartbeat).' },
    circuit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        failureThreshold: { type: 'integer', minimum: 1, default: 5, description: 'Consecutive failures that open the circuit.' },
        openMs: { type: 'integer', minimum: 0, default: 10000, description: 'While open, no request is sent; then one trial decides.' },
      },
    },
    backoff: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Delay between attempts while the device fails (before the circuit opens).',
      properties: {
        initialMs: { type: 'integer', minimum: 0, default: 500 },
        maxMs: { type: 'integer', minimum: 0, default: 10000 },
        factor: { type: 'number', minimum: 1, default: 2 },
        jitter: { type: 'number', minimum: 0, maximum: 1, default: 0.2 },
      },
    },
  },
};

const BIT_TABLES = new Set<ModbusTable>(['coil', 'discrete']);

export function tagType(tag: Pick<TagConfig, 'table' | 'type'>): TagType {
  return tag.type ?? (BIT_TABLES.has(tag.table) ? 'bool' : 'uint16');
}

/** Registers (or bits) a tag occupies. */
export function tagWidth(tag: Pick<TagConfig, 'table' | 'type'>): number {
  const t = tagType(tag);
  return t === 'int32' || t === 'uint32' || t === 'float32' ? 2 : 1;
}

export function isBitTable(table: ModbusTable): boolean {
  return BIT_TABLES.has(table);
}

/**
 * What the schema cannot express, one `map[i].field: message` line per problem (paths relative to
 * the plugin's config). Assumes the config passed the schema.
 */
export function checkConfig(config: BridgeConfig): string[] {
  const issues: string[] = [];
  const seen = new Map<string, number>();
  const reserved = new Set([config.connectedKey, config.lastOkKey]);
  config.map.forEach((tag, i) => {
    const first = seen.get(tag.key);
    if (first !== undefined) issues.push(`map[${i}].key: "${tag.key}" is already mapped by map[${first}]`);
    else seen.set(tag.key, i);
    if (reserved.has(tag.key)) issues.push(`map[${i}].key: "${tag.key}" is the bridge's own status key (connectedKey/lastOkKey); pick another`);
    const last = tag.address + tagWidth(tag) - 1;
    if (last > 65535) issues.push(`map[${i}].address: ${tagType(tag)} needs 2 registers, so it cannot start at ${tag.address} (last address is 65535)`);
  });
  // Overlaps per table, reported once per pair against the earlier entry.
  const byTable = new Map<ModbusTable, number[]>();
  config.map.forEach((tag, i) => byTable.set(tag.table, [...(byTable.get(tag.table) ?? []), i]));
  for (const indices of byTable.values()) {
    const sorted = [...indices].sort((a, b) => config.map[a].address - config.map[b].address || a - b);
    for (let n = 1; n < sorted.length; n++) {
      for (let m = n - 1; m >= 0; m--) {
        const a = config.map[sorted[m]];
        const b = config.map[sorted[n]];
        if (a.address + 2 <= b.address) break; // nothing earlier in the sort can reach b (widths are 1 or 2)
        if (a.address + tagWidth(a) <= b.address) continue;
        const [earlier, later] = sorted[m] < sorted[n] ? [sorted[m], sorted[n]] : [sorted[n], sorted[m]];
        const x = config.map[earlier];
        const y = config.map[later];
        issues.push(
          `map[${later}].address: ${y.table} ${y.address}${tagWidth(y) > 1 ? `..${y.address + tagWidth(y) - 1}` : ''} ("${y.key}") overlaps ` +
            `map[${earlier}] ${x.address}${tagWidth(x) > 1 ? `..${x.address + tagWidth(x) - 1}` : ''} ("${x.key}")`,
        );
      }
    }
  }
  const wide = config.map.findIndex((t) => tagWidth(t) > 1);
  if (wide >= 0 && config.maxRegistersPerRequest < 2) {
    issues.push(`maxRegistersPerRequest: must be >= 2, since map[${wide}] is a 32-bit ${tagType(config.map[wide])}`);
  }
  if (config.backoff.maxMs < config.backoff.initialMs) issues.push(`backoff.maxMs: must be >= backoff.initialMs (${config.backoff.initialMs})`);
  return issues;
}
