// The recorder's configuration, shaped like the seed's collections (machines, sensors,
// sensorpinmappings), its JSON Schema and the checks the schema cannot express.
import type { JsonSchema } from '../../core/schema.ts';
import { parseS7Address } from '../../adapters/s7/address.ts';
import { normaliseModbusAddress } from './sources.ts';

export type SensorType = 'power' | 'cycle' | 'reject';
export type CountMode = 'edge' | 'counter';
export type SourceKind = 's7' | 'modbus' | 'gpio';

export interface MachineConfig {
  id: string;
  name: string;
  /** Seconds one unit takes at full speed: the performance reference of OEE. */
  idealCycleS: number;
  /** Hours of the day (0..23, local to `utcOffsetMinutes`) with planned production; absent: every hour. */
  plannedHours?: number[];
  /** Highest cycle rate expected; the recorder warns when its edge poll cannot see every pulse at this rate. */
  maxCyclesPerMinute?: number;
  /** Power (kW) at or above which the machine counts as running even between cycles. */
  runningKw?: number;
  /** Power (kW) at or above which a machine that is not running is idle rather than stopped. */
  idleKw: number;
}

export interface SensorConfig {
  id: string;
  machine: string;
  type: SensorType;
  /** Unit of the scaled value; power sensors need W, kW or MW. */
  unit: string;
  /** Multiplies the raw reading (numbers only). */
  scale: number;
}

export interface MappingConfig {
  sensor: string;
  /** Adapter binding name of the plugin: plc, plc2.., modbus, modbus2, gpio1..gpio8. */
  source: string;
  /** S7 address (`DB1,X14.0`), Modbus `hr:<n>` / `ir:<n>` / `coil:<n>` / `di:<n>`, GPIO `line`. */
  address: string;
  /** Cycle and reject sensors: count rising edges, or read a PLC counter. */
  mode?: CountMode;
  /** Edge mode: a rising edge closer than this to the last counted one is contact bounce. */
  debounceMs?: number;
  /** Counter mode: the counter's modulus (65536 for an INT/WORD counter). */
  counterWrap?: number;
  /** Narrowest pulse the input produces (ms); used for the poll-rate warning. Default: half a cycle at maxCyclesPerMinute. */
  pulseMs?: number;
  /** Modbus unit id. */
  unit?: number;
}

export interface RecorderConfig {
  machines: MachineConfig[];
  sensors: SensorConfig[];
  mappings: MappingConfig[];
  /** Raw signal sampling and the aggregation tick. */
  sampleMs: number;
  /** Edge-mode poll period. */
  pollMs: number;
  debounceMs: number;
  counterWrap: number;
  /** A machine with a cycle in the last `runningWindowCycles` × idealCycleS counts as running. */
  runningWindowCycles: number;
  /** Offset of the plant's local time from UTC, for hour-of-day planning (hours stay UTC-aligned). */
  utcOffsetMinutes: number;
  /** `recorder_last_sample_ts` older than this is stale in /health. */
  staleAfterS: number;
  /** Finished hourly records kept in the store (days). */
  keepDays: number;
}

/** Binding name → adapter kind. The core binds adapters by fixed names, so the recorder offers a few of each. */
export const BINDINGS: Record<string, SourceKind> = {
  plc: 's7', plc2: 's7', plc3: 's7', plc4: 's7',
  modbus: 'modbus', modbus2: 'modbus',
  gpio1: 'gpio', gpio2: 'gpio', gpio3: 'gpio', gpio4: 'gpio', gpio5: 'gpio', gpio6: 'gpio', gpio7: 'gpio', gpio8: 'gpio',
};

const ID = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' };

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['machines', 'sensors', 'mappings'],
  properties: {
    machines: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'idealCycleS'],
        properties: {
          id: ID,
          name: { type: 'string', minLength: 1 },
          idealCycleS: { type: 'number', exclusiveMinimum: 0, description: 'Ideal cycle time in seconds (OEE performance reference).' },
          plannedHours: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 23 }, uniqueItems: true, description: 'Planned production hours of the day; absent: all.' },
          maxCyclesPerMinute: { type: 'number', exclusiveMinimum: 0 },
          runningKw: { type: 'number', minimum: 0 },
          idleKw: { type: 'number', minimum: 0, default: 0.05 },
        },
      },
    },
    sensors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'machine', 'type'],
        properties: {
          id: ID,
          machine: { type: 'string' },
          type: { enum: ['power', 'cycle', 'reject'] },
          unit: { type: 'string', default: '' },
          scale: { type: 'number', default: 1 },
        },
      },
    },
    mappings: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sensor', 'source', 'address'],
        properties: {
          sensor: { type: 'string' },
          source: { enum: Object.keys(BINDINGS), description: 'Adapter binding the signal is read from.' },
          address: { type: 'string', minLength: 1 },
          mode: { enum: ['edge', 'counter'] },
          debounceMs: { type: 'integer', minimum: 0 },
          counterWrap: { type: 'integer', minimum: 2 },
          pulseMs: { type: 'number', exclusiveMinimum: 0 },
          unit: { type: 'integer', minimum: 0, maximum: 255 },
        },
      },
    },
    sampleMs: { type: 'integer', minimum: 10, default: 5000, description: 'Raw signal sampling period (ms).' },
    pollMs: { type: 'integer', minimum: 5, default: 50, description: 'Edge-mode poll period (ms).' },
    debounceMs: { type: 'integer', minimum: 0, default: 20 },
    counterWrap: { type: 'integer', minimum: 2, default: 65536 },
    runningWindowCycles: { type: 'number', exclusiveMinimum: 0, default: 3 },
    utcOffsetMinutes: { type: 'integer', minimum: -840, maximum: 840, default: 0 },
    staleAfterS: { type: 'number', exclusiveMinimum: 0, default: 30 },
    keepDays: { type: 'integer', minimum: 1, default: 400 },
  },
};

/** Fills defaults for configs that did not come through the manifest validator (tests, code). */
export function resolveConfig(raw: Partial<RecorderConfig>): RecorderConfig {
  return {
    machines: (raw.machines ?? []).map((m) => ({ ...m, idleKw: m.idleKw ?? 0.05 })),
    sensors: (raw.sensors ?? []).map((s) => ({ ...s, unit: s.unit ?? '', scale: s.scale ?? 1 })),
    mappings: raw.mappings ?? [],
    sampleMs: raw.sampleMs ?? 5000,
    pollMs: raw.pollMs ?? 50,
    debounceMs: raw.debounceMs ?? 20,
    counterWrap: raw.counterWrap ?? 65536,
    runningWindowCycles: raw.runningWindowCycles ?? 3,
    utcOffsetMinutes: raw.utcOffsetMinutes ?? 0,
    staleAfterS: raw.staleAfterS ?? 30,
    keepDays: raw.keepDays ?? 400,
  };
}

/** kW per unit of a power sensor's scaled value, or undefined when the unit is not a power unit. */
export function kwFactor(unit: string): number | undefined {
  return ({ W: 0.001, w: 0.001, kW: 1, kw: 1, KW: 1, MW: 1000 } as Record<string, number>)[unit];
}

/** A canonical pin name, so `db1,x14.0` and `DB1,X14.0` are the same pin; throws with the reason when invalid. */
export function pinKey(kind: SourceKind, address: string, unit = 1): string {
  if (kind === 'gpio') return 'line';
  if (kind === 'modbus') return `${normaliseModbusAddress(address)}@${unit}`;
  const a = parseS7Address(address);
  return `${a.area}${a.db ?? ''},${a.type}${a.byte}${a.bit !== undefined ? `.${a.bit}` : ''}`;
}

export function checkConfig(c: RecorderConfig): string[] {
  const issues: string[] = [];
  const machines = new Map<string, number>();
  c.machines.forEach((m, i) => {
    if (machines.has(m.id)) issues.push(`machines[${i}].id: duplicate machine id "${m.id}" (first used by machines[${machines.get(m.id)}])`);
    else machines.set(m.id, i);
  });
  const sensors = new Map<string, number>();
  c.sensors.forEach((s, i) => {
    if (sensors.has(s.id)) issues.push(`sensors[${i}].id: duplicate sensor id "${s.id}" (first used by sensors[${sensors.get(s.id)}])`);
    else sensors.set(s.id, i);
    if (!machines.has(s.machine)) issues.push(`sensors[${i}].machine: unknown machine "${s.machine}" (known: ${[...machines.keys()].join(', ') || '(none)'})`);
    if (s.type === 'power' && kwFactor(s.unit) === undefined) issues.push(`sensors[${i}].unit: a power sensor needs unit W, kW or MW, got "${s.unit}"`);
  });
  const pins = new Map<string, number>();
  const mapped = new Map<string, number>();
  c.mappings.forEach((m, i) => {
    const at = `mappings[${i}]`;
    const si = sensors.get(m.sensor);
    if (si === undefined) issues.push(`${at}.sensor: unknown sensor "${m.sensor}" (known: ${[...sensors.keys()].join(', ') || '(none)'})`);
    else if (mapped.has(m.sensor)) issues.push(`${at}.sensor: sensor "${m.sensor}" is already mapped by mappings[${mapped.get(m.sensor)}]`);
    else mapped.set(m.sensor, i);
    const sensor = si === undefined ? undefined : c.sensors[si];
    if (sensor?.type === 'power' && m.mode) issues.push(`${at}.mode: power sensors are sampled, "mode" applies to cycle and reject sensors`);
    const kind = BINDINGS[m.source];
    if (!kind) {
      issues.push(`${at}.source: unknown source "${m.source}" (allowed: ${Object.keys(BINDINGS).join(', ')})`);
      return;
    }
    if (kind === 'gpio' && m.mode === 'counter') issues.push(`${at}.mode: a GPIO input has no counter; use "edge"`);
    let key: string;
    try {
      key = `${m.source}/${pinKey(kind, m.address, m.unit)}`;
    } catch (err) {
      issues.push(`${at}.address: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const first = pins.get(key);
    if (first !== undefined) issues.push(`${at}.address: duplicate pin "${m.address}" on ${m.source} (already mapped by mappings[${first}])`);
    else pins.set(key, i);
  });
  if (c.pollMs > c.sampleMs) issues.push(`pollMs: must be <= sampleMs (${c.sampleMs})`);
  return issues;
}
