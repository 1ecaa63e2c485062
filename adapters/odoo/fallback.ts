// Open MOs without the grt_scada module: `mrp.production` and its raw-material `stock.move`s through
// search_read, mapped to the custom endpoint's MO shape as far as Odoo's standard fields allow.
import { OPEN_MO_STATES, type OdooComponentRaw, type OdooMany2One, type OdooMoRaw, type OdooSearchReadOptions, type OdooDomain } from './types.ts';

type SearchRead = <T>(model: string, domain: OdooDomain, options: OdooSearchReadOptions) => Promise<T[]>;

/** The `mrp.production` fields read (all standard in Odoo 14). */
export const MO_FIELDS = ['name', 'origin', 'state', 'date_planned_start', 'date_planned_finished', 'product_id', 'product_qty', 'qty_produced', 'product_uom_id', 'bom_id'];
export const MOVE_FIELDS = ['raw_material_production_id', 'product_id', 'product_uom_qty', 'quantity_done', 'reserved_availability', 'product_uom', 'state'];

export interface MrpProductionRow {
  id: number;
  name: string;
  origin: string | false;
  state: string;
  date_planned_start: string | false;
  date_planned_finished: string | false;
  product_id: OdooMany2One;
  product_qty: number;
  qty_produced?: number;
  product_uom_id: OdooMany2One;
  bom_id: OdooMany2One;
}

export interface StockMoveRow {
  id: number;
  raw_material_production_id: OdooMany2One;
  product_id: OdooMany2One;
  product_uom_qty: number;
  quantity_done: number;
  reserved_availability: number;
  product_uom: OdooMany2One;
  state: string;
}

export async function fetchBySearchRead(searchRead: SearchRead, page: { limit: number; offset: number; signal?: AbortSignal }): Promise<OdooMoRaw[]> {
  const rows = await searchRead<MrpProductionRow>('mrp.production', [['state', 'in', [...OPEN_MO_STATES]]], {
    fields: MO_FIELDS,
    order: 'date_planned_start asc, id desc',
    limit: page.limit,
    offset: page.offset,
    signal: page.signal,
  });
  if (rows.length === 0) return [];
  const moves = await searchRead<StockMoveRow>('stock.move', [['raw_material_production_id', 'in', rows.map((r) => r.id)]], {
    fields: MOVE_FIELDS,
    order: 'id asc',
    signal: page.signal,
  });
  return rows.map((row) => toMo(row, moves.filter((m) => m.raw_material_production_id && m.raw_material_production_id[0] === row.id)));
}

export function toMo(row: MrpProductionRow, moves: StockMoveRow[]): OdooMoRaw {
  return {
    mo_id: row.name,
    reference: row.origin,
    state: row.state,
    schedule_start: row.date_planned_start,
    schedule_end: row.date_planned_finished,
    equipment: false,
    product_id: row.product_id ? row.product_id[0] : false,
    product_name: row.product_id ? row.product_id[1] : false,
    quantity: row.product_qty,
    produced_qty: row.qty_produced ?? false,
    uom: row.product_uom_id ? row.product_uom_id[1] : false,
    bom_id: row.bom_id ? row.bom_id[0] : false,
    bom_code: false,
    bom_components: [],
    components_consumption: components(moves),
  };
}

/** Sums the moves of one product, as the custom module does (a component can be split over moves). */
function components(moves: StockMoveRow[]): OdooComponentRaw[] {
  const byProduct = new Map<string, OdooComponentRaw & { to_consume: number; reserved: number; consumed: number }>();
  for (const move of moves) {
    if (move.state === 'cancel') continue;
    const key = move.product_id ? String(move.product_id[0]) : `move-${move.id}`;
    const entry = byProduct.get(key) ?? {
      product_id: move.product_id ? move.product_id[0] : false,
      product_name: move.product_id ? move.product_id[1] : false,
      to_consume: 0,
      reserved: 0,
      consumed: 0,
      uom: move.product_uom ? move.product_uom[1] : false,
      equipment: false,
    };
    entry.to_consume += Number(move.product_uom_qty) || 0;
    entry.reserved += Number(move.reserved_availability) || 0;
    entry.consumed += Number(move.quantity_done) || 0;
    byProduct.set(key, entry);
  }
  return [...byProduct.values()];
}
