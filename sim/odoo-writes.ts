// The simulated Odoo's side of the write-back: grt_scada's update-with-consumptions and mark-done
// routes, and the ORM writes (stock.move quantity_done, mrp.production qty_producing,
// button_mark_done). Consumption is ADDED to what a move has (the worst case for a repeated call),
// so a client that sends one batch twice is caught double-counting.
import type { OdooComponentRaw } from '../adapters/odoo/types.ts';
import { equipmentNumber } from '../plugins/odoo-sync/mapping.ts';
import type { SimMo } from './odoo-data.ts';

/** One write the simulated Odoo applied, for tests counting write-backs. */
export interface OdooSimWrite {
  moId: string;
  kind: 'consume' | 'done' | 'move-write' | 'qty-producing';
  /** What was applied: kg by equipment code (consume), finished qty (done), the values (writes). */
  detail: Record<string, unknown>;
}

export type WriteOutcome = { ok: true; result: unknown } | { ok: false; name: string; message: string };

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v) || 0);

function find(mos: SimMo[], moId: unknown): SimMo | undefined {
  return mos.find((m) => m.mo.mo_id === moId);
}

/** POST /api/scada/mo/update-with-consumptions {mo_id, quantity?, <equipment code>: kg, ...}. */
export function updateWithConsumptions(mos: SimMo[], params: Record<string, unknown>, writes: OdooSimWrite[]): unknown {
  const sim = find(mos, params.mo_id);
  if (!sim) return { status: 'error', message: `Manufacturing order ${String(params.mo_id)} not found` };
  if (sim.mo.state === 'done' || sim.mo.state === 'cancel') return { status: 'error', message: `MO ${sim.mo.mo_id} is ${sim.mo.state}` };
  const consumed_items: unknown[] = [];
  const errors: string[] = [];
  const applied: Record<string, number> = {};
  for (const [key, raw] of Object.entries(params)) {
    if (key === 'mo_id' || key === 'quantity') continue;
    const n = equipmentNumber({ id: 0, code: key, name: false });
    const comps = sim.mo.components_consumption.filter((c) => n !== null && equipmentNumber(c.equipment) === n);
    if (!comps.length) {
      errors.push(`${key}: No raw material move found for this equipment`);
      continue;
    }
    const c = comps[0] as OdooComponentRaw;
    c.consumed = Math.round((num(c.consumed) + num(raw)) * 1000) / 1000;
    applied[key] = num(raw);
    consumed_items.push({ equipment_code: key, applied_qty: num(raw), products: [c.product_name] });
  }
  if (typeof params.quantity === 'number' && params.quantity > 0) sim.mo = { ...sim.mo, quantity: params.quantity };
  if (sim.mo.state === 'confirmed') sim.mo = { ...sim.mo, state: 'progress' };
  writes.push({ moId: sim.mo.mo_id, kind: 'consume', detail: applied });
  return { status: 'success', message: errors.length ? 'MO updated with some errors' : 'MO updated successfully', mo_id: sim.mo.mo_id, mo_state: sim.mo.state, updated_quantity: params.quantity ?? null, consumed_items, errors };
}

/** POST /api/scada/mo/mark-done {mo_id, finished_qty, ...}. */
export function markDone(mos: SimMo[], params: Record<string, unknown>, writes: OdooSimWrite[]): unknown {
  const sim = find(mos, params.mo_id);
  if (!sim) return { status: 'error', message: `Manufacturing order ${String(params.mo_id)} not found` };
  if (!(num(params.finished_qty) > 0)) return { status: 'error', message: 'finished_qty must be > 0' };
  if (sim.mo.state === 'done') return { status: 'error', message: `MO ${sim.mo.mo_id} is already done` };
  sim.mo = { ...sim.mo, state: 'done', produced_qty: num(params.finished_qty) };
  writes.push({ moId: sim.mo.mo_id, kind: 'done', detail: { finished_qty: num(params.finished_qty) } });
  return { status: 'success', message: 'Manufacturing order marked as done', mo_id: sim.mo.mo_id };
}

/** call_kw `write` / `button_mark_done` on mrp.production and stock.move. */
export function ormCall(mos: SimMo[], model: unknown, method: unknown, args: unknown[], writes: OdooSimWrite[]): WriteOutcome {
  const ids = Array.isArray(args[0]) ? args[0].map(Number) : [];
  if (model === 'stock.move' && method === 'write') {
    const values = (args[1] ?? {}) as Record<string, unknown>;
    for (const id of ids) {
      const sim = mos.find((m) => m.id === Math.floor(id / 100));
      const c = sim?.mo.components_consumption[id % 100];
      if (!sim || !c) return { ok: false, name: 'odoo.exceptions.MissingError', message: `Record does not exist or has been deleted. (Record: stock.move(${id},))` };
      if ('quantity_done' in values) c.consumed = num(values.quantity_done);
      writes.push({ moId: sim.mo.mo_id, kind: 'move-write', detail: { move: id, ...values } });
    }
    return { ok: true, result: true };
  }
  if (model === 'mrp.production' && (method === 'write' || method === 'button_mark_done')) {
    for (const id of ids) {
      const sim = mos.find((m) => m.id === id);
      if (!sim) return { ok: false, name: 'odoo.exceptions.MissingError', message: `Record does not exist or has been deleted. (Record: mrp.production(${id},))` };
      if (method === 'write') {
        const values = (args[1] ?? {}) as Record<string, unknown>;
        if ('qty_producing' in values) sim.mo = { ...sim.mo, produced_qty: num(values.qty_producing) };
        writes.push({ moId: sim.mo.mo_id, kind: 'qty-producing', detail: values });
      } else {
        if (sim.mo.state === 'done' || sim.mo.state === 'cancel') return { ok: false, name: 'odoo.exceptions.UserError', message: `MO ${sim.mo.mo_id} is ${sim.mo.state}` };
        sim.mo = { ...sim.mo, state: 'done' };
        writes.push({ moId: sim.mo.mo_id, kind: 'done', detail: { finished_qty: sim.mo.produced_qty ?? 0 } });
      }
    }
    return { ok: true, result: true };
  }
  return { ok: false, name: 'builtins.NotImplementedError', message: `the simulator implements search_read, write (stock.move, mrp.production) and button_mark_done (asked: ${String(model)}.${String(method)})` };
}
