// How values read on the page: the manifest's display section (label, unit, decimals, enum names)
// first, plain sensible defaults otherwise. Mirrors core/display.ts formatDisplayValue.
import { displayOf, page } from './state.js';

/** The enum name of a value (display section, else `x-enumLabels` of its command schema), or ''. */
export function enumName(key, v) {
  if (v === null || v === undefined || typeof v === 'object') return '';
  const named = displayOf(key)?.enum?.[String(v)];
  if (named) return named;
  const schema = page.config.commands?.[key];
  const i = Array.isArray(schema?.enum) ? schema.enum.indexOf(v) : -1;
  return i >= 0 && Array.isArray(schema['x-enumLabels']) && typeof schema['x-enumLabels'][i] === 'string' ? schema['x-enumLabels'][i] : '';
}

/** A number with the key's decimals (else up to 2, 1 above 100), booleans ON/OFF, — for none. */
export function fmt(v, decimals) {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (decimals !== undefined) return v.toFixed(decimals);
    return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 1 : 2);
  }
  if (typeof v === 'boolean') return v ? 'ON' : 'OFF';
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** {text, unit} of a key's value as the operator reads it. */
export function reading(key, v) {
  const name = enumName(key, v);
  if (name) return { text: name, unit: '' };
  const d = displayOf(key);
  return { text: fmt(v, d?.decimals), unit: typeof v === 'number' ? d?.unit ?? '' : '' };
}

/** `21.5 °C`, `auto` — for tables and messages. */
export const formatKeyValue = (key, v) => {
  const r = reading(key, v);
  return r.unit ? `${r.text} ${r.unit}` : r.text;
};

export const labelOf = (key) => displayOf(key)?.label ?? key;

export function ago(tsS) {
  if (!tsS) return '';
  const s = Math.max(0, Date.now() / 1000 - tsS);
  return s < 60 ? `${s.toFixed(0)} s ago` : s < 3600 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
}

/** A duration for people: `0.4 ms`, `12 ms`, `3.2 s`, `4 min`. */
export function formatMs(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60000)} min`;
}

/** Any cell of a panel table: numbers rounded for reading, the rest as text. */
export function cell(v) {
  if (typeof v === 'number' && !Number.isInteger(v)) return v.toFixed(Math.abs(v) >= 100 ? 1 : 2);
  return fmt(v);
}
