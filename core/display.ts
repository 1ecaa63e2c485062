// What the operator sees for each state key (the manifest's `display` section): label, unit, number
// format, enum labels and alarm limits. One source for the dashboard, the OpenAPI text and the monitor CLI.
import type { JsonSchema } from './schema.ts';
import { formatPath } from './manifest/paths.ts';

export interface DisplayEntry {
  /** The operator's name for the key ("Living room temperature"). */
  label?: string;
  /** Shown after the value ("°C", "kW", "%"). */
  unit?: string;
  /** Digits after the decimal point. */
  decimals?: number;
  /** Names of the values of an enum key: `{"0": "manual", "1": "auto"}`. */
  enum?: Record<string, string>;
  /** An alarm is raised while the number is below `low` or above `high`. */
  limits?: { low?: number; high?: number };
  /** Where the operator finds the key on the dashboard (tiles are grouped by it). */
  group?: string;
  /** A longer explanation (tooltip, OpenAPI description). */
  description?: string;
  /** The tile turns amber when the value has not been updated for this long (a lapsed TTL). */
  staleAfterS?: number;
  /** The tile turns amber while this health check fails (values kept in registers nobody refreshes). */
  staleWith?: string;
  /**
   * Operator control on the tile: −/+ buttons (numbers, by `step`) or a selector (enum keys) that
   * POST `{[field]: value}` to `url` with the operator's API key (so it is keyed and audited).
   */
  control?: { url: string; field: string; step?: number; min?: number; max?: number };
}

export type DisplayMap = Record<string, DisplayEntry>;

export const displaySchema: JsonSchema = {
  type: 'object',
  default: {},
  description: 'Per state key: how the dashboard, the OpenAPI document and `fieldgate monitor` show it, and the limits that raise an alarm.',
  propertyNames: { minLength: 1, maxLength: 200 },
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    properties: {
      label: { type: 'string', minLength: 1, maxLength: 80, description: 'The operator\'s name for the key.' },
      unit: { type: 'string', maxLength: 16, description: 'Unit shown after the value, e.g. "°C".' },
      decimals: { type: 'integer', minimum: 0, maximum: 6, description: 'Digits after the decimal point.' },
      enum: {
        type: 'object',
        minProperties: 1,
        description: 'Names of the values, e.g. {"0": "manual", "1": "auto", "2": "tune"}.',
        propertyNames: { pattern: '^(-?[0-9]+|true|false|[A-Za-z_][A-Za-z0-9_-]*)$' },
        additionalProperties: { type: 'string', minLength: 1, maxLength: 40 },
      },
      limits: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        description: 'An alarm (GET /api/alarms) while the number is below low or above high.',
        properties: { low: { type: 'number' }, high: { type: 'number' } },
      },
      group: { type: 'string', minLength: 1, maxLength: 60, description: 'Dashboard tiles with the same group are shown together.' },
      description: { type: 'string', maxLength: 400 },
      staleAfterS: { type: 'number', exclusiveMinimum: 0, description: 'The dashboard marks the value stale (amber) after this long without an update.' },
      staleWith: { type: 'string', minLength: 1, description: 'A health check (GET /health `checks`) whose failure marks the value stale, e.g. "neasmart:neasmart".' },
      control: {
        type: 'object',
        additionalProperties: false,
        required: ['url', 'field'],
        description: 'A control on the tile: -/+ (numbers, by step) or a selector (enum keys) POSTing {field: value} to url with the API key.',
        properties: {
          url: { type: 'string', pattern: '^/[^\\s]*$', description: 'A POST route of this gateway, e.g. "/zones/1/1".' },
          field: { type: 'string', minLength: 1, description: 'The body field that carries the new value.' },
          step: { type: 'number', exclusiveMinimum: 0, description: 'What one press of - or + changes (numbers).' },
          min: { type: 'number' },
          max: { type: 'number' },
        },
      },
    },
  },
};

/** Problems the schema cannot see (`display["mode"].limits: low 5 is not below high 3`), as `path: message` lines. */
export function checkDisplay(display: unknown): string[] {
  if (!display || typeof display !== 'object' || Array.isArray(display)) return [];
  const out: string[] = [];
  for (const [key, entry] of Object.entries(display as Record<string, unknown>)) {
    const limits = (entry as DisplayEntry | null)?.limits;
    if (limits && typeof limits.low === 'number' && typeof limits.high === 'number' && !(limits.low < limits.high)) {
      out.push(`${formatPath(['display', key, 'limits'])}: low ${limits.low} is not below high ${limits.high}; swap them`);
    }
    const control = (entry as DisplayEntry | null)?.control;
    if (control && typeof control.min === 'number' && typeof control.max === 'number' && !(control.min < control.max)) {
      out.push(`${formatPath(['display', key, 'control'])}: min ${control.min} is not below max ${control.max}; swap them`);
    }
  }
  return out;
}

/** The enum name of `value`, or '' when the key has none for it. */
export function enumName(entry: DisplayEntry | undefined, value: unknown): string {
  if (!entry?.enum || value === null || value === undefined || typeof value === 'object') return '';
  return entry.enum[String(value)] ?? '';
}

/** A value as the operator reads it: `21.5 °C`, `auto`, `ON`; `—` for none. */
export function formatDisplayValue(entry: DisplayEntry | undefined, value: unknown): string {
  const name = enumName(entry, value);
  if (name) return name;
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'ON' : 'OFF';
  if (typeof value === 'number') {
    const text = entry?.decimals !== undefined ? value.toFixed(entry.decimals) : String(Math.round(value * 1e6) / 1e6);
    return entry?.unit ? `${text} ${entry.unit}` : text;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `Living room temperature (°C)` for headings and OpenAPI text; the key itself when nothing is declared. */
export function displayTitle(key: string, entry: DisplayEntry | undefined): string {
  const label = entry?.label ?? key;
  return entry?.unit ? `${label} (${entry.unit})` : label;
}

export interface NamedLimit {
  min?: number;
  max?: number;
  label?: string;
  unit?: string;
  decimals?: number;
}

/**
 * Value limits for the alarm board: the display section's low/high, then `extra` (an older
 * per-plugin limits map) on top; every limit carries the key's label and unit for its message.
 */
export function displayLimits(display: DisplayMap, extra: Record<string, { min?: number; max?: number }> = {}): Record<string, NamedLimit> {
  const out: Record<string, NamedLimit> = {};
  const named = (key: string) => {
    const e = display[key];
    return { ...(e?.label ? { label: e.label } : {}), ...(e?.unit ? { unit: e.unit } : {}), ...(e?.decimals !== undefined ? { decimals: e.decimals } : {}) };
  };
  for (const [key, e] of Object.entries(display)) {
    if (!e.limits) continue;
    out[key] = { ...named(key), ...(e.limits.low !== undefined ? { min: e.limits.low } : {}), ...(e.limits.high !== undefined ? { max: e.limits.high } : {}) };
  }
  for (const [key, l] of Object.entries(extra)) out[key] = { ...named(key), ...l };
  return out;
}
