// Odoo manufacturing orders → mo_batch rows: each component goes to the silo whose 3-digit number
// appears in its equipment code + name (101..113 → silo a..m; 114/115 liquid tanks when enabled).
// Pure: what cannot be mapped is skipped and reported, never thrown.
import type { OdooComponentRaw, OdooEquipmentRaw, OdooMoRaw } from '../../adapters/odoo/types.ts';
import { SILO_LETTERS, type NewMoBatch, type SiloLetter } from './batch-repo.ts';

export interface MappingOptions {
  /** Map equipment 114/115 to the liquid tanks instead of skipping them. */
  liquidTanks: boolean;
}

export interface SkippedMo {
  mo_id: string;
  reason: string;
}

export interface MappingResult {
  batches: NewMoBatch[];
  /** One line per component skipped or duplicate MO ignored, naming the MO and the component. */
  warnings: string[];
  /** MOs with nothing mappable (or no usable id), with the reason. */
  skipped: SkippedMo[];
}

const SILO_NUMBER = /(\d{3})/;
const LIQUID_TANKS = { 114: 'lq114', 115: 'lq115' } as const;

/** The equipment number found in code + name, or null. */
export function equipmentNumber(eq: OdooEquipmentRaw | false | null | undefined): number | null {
  if (!eq || typeof eq !== 'object') return null;
  // Joined with a space so digits of the code and of the name never run together.
  const text = [eq.code, eq.name].filter((s): s is string => typeof s === 'string').join(' ');
  const m = SILO_NUMBER.exec(text);
  return m ? Number(m[1]) : null;
}

export type Destination = { kind: 'silo'; letter: SiloLetter; number: number } | { kind: 'liquid'; tank: 'lq114' | 'lq115'; number: number };

/** Where equipment number `n` goes, or null when it is not wired to the mixer. */
export function destination(n: number | null, options: MappingOptions): Destination | null {
  if (n === null) return null;
  if (n >= 101 && n <= 113) return { kind: 'silo', letter: SILO_LETTERS[n - 101]!, number: n };
  if (options.liquidTanks && (n === 114 || n === 115)) return { kind: 'liquid', tank: LIQUID_TANKS[n], number: n };
  return null;
}

/** A quantity as Odoo sent it, as a finite number >= 0, or null (strings such as "12,5 kg" are refused). */
export function quantity(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return null;
}

/** Odoo's `false` (and null/undefined/'') → null; anything else as a string. */
export function text(v: unknown): string | null {
  if (v === false || v === null || v === undefined) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
}

/** `to_consume`, falling back to `consumed` when to_consume is 0 or false. */
function componentQuantity(c: OdooComponentRaw): { value: number | null; raw: unknown } {
  const planned = c.to_consume;
  const empty = planned === false || planned === null || planned === 0 || planned === '0' || planned === undefined;
  const raw = empty ? c.consumed : planned;
  return { value: quantity(raw), raw };
}

function componentLabel(c: OdooComponentRaw, index: number): string {
  return `component ${JSON.stringify(text(c.product_name) ?? `#${index + 1}`)}${typeof c.product_id === 'number' ? ` (product ${c.product_id})` : ''}`;
}

function equipmentLabel(eq: OdooComponentRaw['equipment']): string {
  if (!eq) return 'no equipment';
  return `equipment ${JSON.stringify([text(eq.code), text(eq.name)].filter(Boolean).join(' / ') || `#${eq.id}`)}`;
}

/** Maps one MO; `warnings` gets a line per skipped component. Returns null (with the reason) when nothing maps. */
export function mapMo(mo: OdooMoRaw, options: MappingOptions, warnings: string[]): NewMoBatch | SkippedMo {
  const moId = text(mo.mo_id) ?? '';
  const batch: NewMoBatch = {
    mo_id: moId,
    consumption: quantity(mo.quantity) ?? 0,
    equipment_id_batch: mo.equipment ? text(mo.equipment.code) ?? text(mo.equipment.name) : null,
    finished_goods: text(mo.product_name),
    bom_code: text(mo.bom_code),
    silos: Object.fromEntries(SILO_LETTERS.map((l, i) => [l, 101 + i])) as Record<SiloLetter, number>,
    component_names: {},
    consumptions: {},
  };
  if (quantity(mo.quantity) === null) warnings.push(`${moId}: quantity ${JSON.stringify(mo.quantity)} is not a number; consumption set to 0`);
  let mapped = 0;
  const components = Array.isArray(mo.components_consumption) ? mo.components_consumption : [];
  components.forEach((c, i) => {
    const label = componentLabel(c, i);
    const n = equipmentNumber(c.equipment);
    const dest = destination(n, options);
    if (!dest) {
      const why = !c.equipment ? 'has no equipment'
        : n === null ? `${equipmentLabel(c.equipment)} has no silo number`
        : (n === 114 || n === 115) ? `${equipmentLabel(c.equipment)} is liquid tank ${n} (liquidTanks is off)`
        : `${equipmentLabel(c.equipment)} is number ${n}, not a silo 101..113`;
      warnings.push(`${moId}: ${label} skipped: ${why}`);
      return;
    }
    const q = componentQuantity(c);
    if (q.value === null) {
      warnings.push(`${moId}: ${label} skipped: quantity ${JSON.stringify(q.raw)} is not a number`);
      return;
    }
    const name = text(c.product_name) ?? `product ${String(c.product_id)}`;
    if (dest.kind === 'silo') {
      if (batch.component_names[dest.letter] !== undefined) {
        // Two lines on one silo (rare: a split move): the PLC has one slot per silo, so they add up.
        warnings.push(`${moId}: ${label} shares silo ${dest.number} with ${JSON.stringify(batch.component_names[dest.letter])}; quantities added`);
        batch.consumptions[dest.letter] = round(batch.consumptions[dest.letter]! + q.value);
      } else {
        batch.component_names[dest.letter] = name;
        batch.consumptions[dest.letter] = q.value;
      }
    } else {
      batch.liquids ??= {};
      const prev = batch.liquids[dest.tank];
      batch.liquids[dest.tank] = prev ? { name: prev.name, consumption: round(prev.consumption + q.value) } : { name, consumption: q.value };
    }
    mapped++;
  });
  if (!mapped) {
    return { mo_id: moId, reason: components.length ? `none of its ${components.length} component(s) maps to a silo` : 'it has no components' };
  }
  return batch;
}

/** Maps a fetch: skips MOs without an id or anything mappable, keeps the first of duplicate mo_ids. */
export function mapMos(mos: readonly OdooMoRaw[], options: MappingOptions): MappingResult {
  const result: MappingResult = { batches: [], warnings: [], skipped: [] };
  const seen = new Set<string>();
  for (const mo of mos) {
    const moId = text(mo?.mo_id);
    if (!moId) {
      result.skipped.push({ mo_id: String(mo?.mo_id ?? ''), reason: 'it has no mo_id' });
      continue;
    }
    if (seen.has(moId)) {
      result.warnings.push(`${moId}: listed twice in one fetch; the first one is kept`);
      continue;
    }
    seen.add(moId);
    const mapped = mapMo(mo, options, result.warnings);
    if ('reason' in mapped) result.skipped.push(mapped);
    else result.batches.push(mapped);
  }
  return result;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
