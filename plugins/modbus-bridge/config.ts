// The modbus-bridge configuration: its JSON Schema (everything JSON Schema can say) and the checks
// it cannot say (overlapping addresses, a 32-bit value running past 65535), reported by path.
import type { JsonSchema } from '../../core/schema.ts';
import type { ModbusTable } from '../../adapters/modbus/types.ts';

export type TagType = 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';
export type Direction = 'read' | 'write' | 'read-write';
/**
 * Who holds the truth of a value. `gateway`: the store holds it and the PLC gets it again after
 * every reconnect and whenever its copy differs (commands, the PV). `plc`: the PLC holds it and it
 * only flows into the store (feedback). `shared`: either side may change it, the last change wins
 * and nothing is re-asserted (a command the PLC clears itself, such as a start pulse).
 */
export type Owner = 'gateway' | 'plc' | 'shared';

export interface TagConfig {
  key: string;
  table: ModbusTable;
  address: number;
  /** Default: bool for coil/discrete, uint16 for registers. */
  type?: TagType;
  wordOrder: 'big' | 'little';
  scale: number;
  offset: number;
  /** Default from `owner`: gateway and shared read-write, plc read; without either, read. */
  direction?: Direction;
  /** Default from `direction`: write → gateway, read-write → shared, read → plc. */
  owner?: Owner;
  deadband: number;
  /** Written last when one command needs several requests (a mode switch that takes the others). */
  commit?: boolean;
}

/** Gateway/PLC sequence handshake (the lab's gw_tx_seq HR 0 and ack_seq HR 100). */
export interface HandshakeConfig {
  seqAddress: number;
  ackAddress: number;
  /** Keys whose every sample advances the sequence; default every gateway-owned write-only key. */
  keys?: string[];
  /** /health reports the PLC as not acknowledging after this long. */
  ackTimeoutS: number;
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
  handshake?: HandshakeConfig;
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
    direction: {
      enum: ['read', 'write', 'read-write'],
      description: 'read: PLC → store; write: store → PLC (never read back); read-write: both. Default: read-write for gateway- and shared-owned entries, read otherwise.',
    },
    owner: {
      enum: ['gateway', 'plc', 'shared'],
      description: 'gateway: the store holds the value and it is re-written after every reconnect and whenever the PLC holds another (commands, PV). ' +
        'plc: the PLC holds it and it only flows into the store (feedback). shared: either side may change it, nothing is re-asserted. ' +
        'Default: write → gateway, read-write → shared, read → plc.',
    },
    deadband: { type: 'number', minimum: 0, default: 0, description: 'A read is published, and a write sent, only when the value moved more than this.' },
    commit: {
      type: 'boolean',
      description: 'A register that makes the PLC act on the others (a mode switch): when one command needs several write requests, ' +
        'the request holding it goes last, so the PLC never acts on the old values.',
    },
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
    maxGap: {
      type: 'integer',
      minimum: 0,
      maximum: 124,
      default: 32,
      description: 'Unused registers (or bits) a read may span to join two blocks into one request. A read refused across a hole (exception 2) is split for good.',
    },
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
    handshake: {
      type: 'object',
      additionalProperties: false,
      required: ['seqAddress', 'ackAddress'],
      description: 'Sequence handshake: the gateway increments a holding register with each write of the listed keys, the PLC copies it to its ack register; a PLC that stops copying is reported in /health.',
      properties: {
        seqAddress: { type: 'integer', minimum: 0, maximum: 65535, description: 'Holding register the gateway writes its sequence to (lab: HR 0, gw_tx_seq).' },
        ackAddress: { type: 'integer', minimum: 0, maximum: 65535, description: 'Holding register the PLC echoes it to (lab: HR 100, ack_seq).' },
        keys: {
          type: 'array',
          items: { type: 'string', pattern: KEY_PATTERN },
          description: 'Map keys whose every sample (each store update, moved or not) advances the sequence; default every gateway-owned write-only key (the PV).',
        },
        ackTimeoutS: { type: 'number', exclusiveMinimum: 0, default: 3, description: '/health reports the PLC as not acknowledging after this long.' },
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

export function tagOwner(tag: Pick<TagConfig, 'owner' | 'direction'>): Owner {
  if (tag.owner) return tag.owner;
  return tag.direction === 'write' ? 'gateway' : tag.direction === 'read-write' ? 'shared' : 'plc';
}

export function tagDirection(tag: Pick<TagConfig, 'owner' | 'direction'>): Direction {
  if (tag.direction) return tag.direction;
  return tag.owner === 'gateway' || tag.owner === 'shared' ? 'read-write' : 'read';
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
    const owner = tagOwner(tag);
    const direction = tagDirection(tag);
    if (owner === 'plc' && direction !== 'read') issues.push(`map[${i}].owner: "${tag.key}" is owned by the PLC, so it is only read; use direction "read" or owner "gateway"/"shared"`);
    if (owner === 'gateway' && direction === 'read') issues.push(`map[${i}].owner: "${tag.key}" is owned by the gateway, so it must be written; use direction "write" or "read-write" (read back to check)`);
    if (owner === 'shared' && direction !== 'read-write') issues.push(`map[${i}].owner: a shared value is read and written; "${tag.key}" needs direction "read-write"`);
    if (owner !== 'plc' && (tag.table === 'input' || tag.table === 'discrete')) issues.push(`map[${i}].owner: ${tag.table} ${tag.address} ("${tag.key}") is read-only; only owner "plc" fits`);
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
  const hs = config.handshake;
  if (hs) {
    for (const [field, address] of [['seqAddress', hs.seqAddress], ['ackAddress', hs.ackAddress]] as const) {
      const hit = config.map.findIndex((t) => t.table === 'holding' && t.address <= address && address < t.address + tagWidth(t));
      if (hit >= 0) issues.push(`handshake.${field}: HR ${address} is also mapped by map[${hit}] ("${config.map[hit].key}")`);
    }
    if (hs.seqAddress === hs.ackAddress) issues.push(`handshake.ackAddress: must differ from seqAddress (${hs.seqAddress})`);
    (hs.keys ?? []).forEach((key, k) => {
      const tag = config.map.find((t) => t.key === key);
      if (!tag) issues.push(`handshake.keys[${k}]: "${key}" is not a key of the map`);
      else if (tagOwner(tag) !== 'gateway') issues.push(`handshake.keys[${k}]: "${key}" is not gateway-owned; only the gateway's writes carry the sequence`);
    });
  }
  if (config.backoff.maxMs < config.backoff.initialMs) issues.push(`backoff.maxMs: must be >= backoff.initialMs (${config.backoff.initialMs})`);
  return issues;
}
