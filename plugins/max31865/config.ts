// The max31865 plugin's config: its JSON Schema (validated by the manifest loader) and the typed
// shape with every default filled in (tests build the config directly).
import type { JsonSchema } from '../../core/schema.ts';

export interface Max31865Keys {
  /** Temperature in °C. */
  temperature: string;
  /** Epoch seconds of the last good reading (the health heartbeat). */
  lastTs: string;
  /** true after a good reading, false while reads fail. */
  ok: string;
  /** Readable fault text while failing, null when reading. */
  fault: string;
  /** Read for the trend row's sp and mv. */
  setpoint: string;
  mv: string;
}

export interface Max31865Config {
  rtd: 'pt100' | 'pt1000';
  /** Reference resistor (Ω); 430 for PT100 and 4300 for PT1000 when left out. */
  rref: number;
  wires: 2 | 3 | 4;
  filterHz: 50 | 60;
  mode: 'one-shot' | 'auto';
  pollMs: number;
  staleAfterS: number;
  /** Added to every reading (°C), from a two-point check against a reference thermometer. */
  offsetC: number;
  trend: { enabled: boolean; everyMs: number; keepS: number; pruneEveryMs: number };
  keys: Max31865Keys;
}

const KEY = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.:-]*$' } as const;

export const DEFAULT_KEYS: Max31865Keys = {
  temperature: 'rtd_temp',
  lastTs: 'sensor_last_ts',
  ok: 'sensor_ok',
  fault: 'sensor_fault',
  setpoint: 'setpoint',
  mv: 'mv',
};

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rtd: { type: 'string', enum: ['pt100', 'pt1000'], default: 'pt100', description: 'RTD element: PT100 (R0 = 100 Ω) or PT1000.' },
    rref: { type: 'number', exclusiveMinimum: 0, maximum: 100000, description: 'Reference resistor on the board in Ω (default 430 for pt100, 4300 for pt1000).' },
    wires: { type: 'integer', enum: [2, 3, 4], default: 3, description: 'RTD wiring; the real lab uses 3-wire.' },
    filterHz: { type: 'integer', enum: [50, 60], default: 50, description: 'Mains notch filter: 50 Hz (Europe, Asia) or 60 Hz.' },
    mode: { type: 'string', enum: ['one-shot', 'auto'], default: 'one-shot', description: 'one-shot: bias on only while converting (no self-heating); auto: continuous conversion.' },
    pollMs: { type: 'integer', minimum: 100, maximum: 3600000, default: 1000, description: 'Time between readings.' },
    staleAfterS: { type: 'number', exclusiveMinimum: 0, default: 5, description: 'Health reports the sensor stale when no good reading for this long.' },
    offsetC: { type: 'number', minimum: -50, maximum: 50, default: 0, description: 'Calibration offset added to every reading (°C).' },
    trend: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Trend rows (pv = this sensor, sp and mv from state keys) and their retention.',
      properties: {
        enabled: { type: 'boolean', default: true },
        everyMs: { type: 'integer', minimum: 100, default: 2000 },
        keepS: { type: 'integer', minimum: 60, default: 3600, description: 'Rows older than this are pruned.' },
        pruneEveryMs: { type: 'integer', minimum: 1000, default: 60000 },
      },
    },
    keys: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'State key names; the defaults are the seed lab\'s names, which its API clients expect.',
      properties: {
        temperature: { ...KEY, default: DEFAULT_KEYS.temperature },
        lastTs: { ...KEY, default: DEFAULT_KEYS.lastTs },
        ok: { ...KEY, default: DEFAULT_KEYS.ok },
        fault: { ...KEY, default: DEFAULT_KEYS.fault },
        setpoint: { ...KEY, default: DEFAULT_KEYS.setpoint },
        mv: { ...KEY, default: DEFAULT_KEYS.mv },
      },
    },
  },
};

export function withDefaults(config: Partial<Max31865Config> = {}): Max31865Config {
  const rtd = config.rtd ?? 'pt100';
  return {
    rtd,
    rref: config.rref ?? (rtd === 'pt1000' ? 4300 : 430),
    wires: config.wires ?? 3,
    filterHz: config.filterHz ?? 50,
    mode: config.mode ?? 'one-shot',
    pollMs: config.pollMs ?? 1000,
    staleAfterS: config.staleAfterS ?? 5,
    offsetC: config.offsetC ?? 0,
    trend: { enabled: true, everyMs: 2000, keepS: 3600, pruneEveryMs: 60000, ...config.trend },
    keys: { ...DEFAULT_KEYS, ...config.keys },
  };
}
