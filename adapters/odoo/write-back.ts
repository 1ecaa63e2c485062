// Writing a finished batch back to Odoo 14: actual consumption per silo and finished weight, then the
// MO marked done — through the grt_scada routes when installed, else the standard ORM — idempotently.
import { OdooError } from './errors.ts';
import type { Logger } from '../../core/log.ts';
import type { OdooCallOptions, OdooClient } from './types.ts';

export const CONSUME_PATH = '/api/scada/mo/update-with-consumptions';
export const MARK_DONE_PATH = '/api/scada/mo/mark-done';
/** Context that lets `button_mark_done` finish without the backorder / consumption / immediate wizards. */
export const MARK_DONE_CONTEXT = { skip_backorder: true, skip_consumption: true, skip_immediate: true };

export interface WriteBackRequest {
  /** The MO name, e.g. `WH/MO/00001`. */
  moId: string;
  /** kg consumed by equipment code (`silo101`..`silo115`); zero entries are not sent. */
  consumption: Record<string, number>;
  /** Component (product) name by equipment code: the ORM fallback finds the raw move by it. */
  components: Record<string, string>;
  /** Actual finished weight (kg). */
  finishedQty: number;
  /** The mixer's equipment code (grt_scada `equipment_id`), if known. */
  equipmentId?: string | null;
  /** When the PLC reported the batch finished, epoch ms. */
  finishedAt: number;
  /**
   * Sum of the MO's raw-move `quantity_done` seen right before the consumption was first sent
   * (persisted by the caller); null = never sent. A different sum now means it was applied.
   */
  baseline: number | null;
  /** Persists the baseline; awaited before the consumption goes out, so a crash cannot lose it. */
  beforeConsume(baseline: number): Promise<void>;
}

export interface WriteBackResult {
  /** Which calls did the writing: the grt_scada routes or the ORM. */
  route: 'custom' | 'orm';
  /** The MO was already done when we looked (a retry after a lost reply, or closed by hand). */
  alreadyDone: boolean;
  /** The consumption had already been applied (seen through the baseline) and was not sent again. */
  consumptionSkipped: boolean;
  /** Partial-success notes from Odoo (`errors` of the custom route, moves not found by the fallback). */
  warnings: string[];
}

interface ProductionRow {
  id: number;
  name: string;
  state: string;
}

interface MoveRow {
  id: number;
  product_id: [number, string] | false;
  quantity_done: number;
  state: string;
}

interface CustomReply {
  status?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** Clients whose server answered 404 on the custom write routes: they use the ORM from then on. */
const customMissing = new WeakSet<object>();

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** `YYYY-MM-DD HH:MM:SS` in UTC, the format Odoo's ORM and grt_scada parse. */
export function odooDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export async function writeBackMo(client: OdooClient, req: WriteBackRequest, options: OdooCallOptions & { log?: Logger } = {}): Promise<WriteBackResult> {
  const call = { signal: options.signal };
  const warnings: string[] = [];
  const mo = await readMo(client, req.moId, call);
  if (mo.state === 'done') return { route: customMissing.has(client) ? 'orm' : 'custom', alreadyDone: true, consumptionSkipped: true, warnings };
  if (mo.state === 'cancel' || mo.state === 'draft') {
    throw new OdooError('app', `odoo: MO ${req.moId} is "${mo.state}" in Odoo; not writing a finished batch to it (resolve it in Odoo, then retry or dismiss the batch)`);
  }
  const moves = await client.searchRead<MoveRow>('stock.move', [['raw_material_production_id', '=', mo.id]], { fields: ['product_id', 'quantity_done', 'state'], ...call });
  const total = round3(moves.filter((m) => m.state !== 'cancel').reduce((s, m) => s + (Number(m.quantity_done) || 0), 0));
  const entries = Object.entries(req.consumption).filter(([, kg]) => kg > 0);
  let route: 'custom' | 'orm' = customMissing.has(client) ? 'orm' : 'custom';
  // Only the custom route adds to quantity_done, so only it may be skipped by the baseline. The ORM
  // sets absolute figures move by move: after a drop half-way its writes are simply sent again.
  let consumptionSkipped = route === 'custom' && req.baseline !== null && Math.abs(total - req.baseline) > 0.0005;
  const ormConsume = async () => {
    const open = moves.filter((m) => m.state !== 'cancel' && m.state !== 'done');
    for (const [code, kg] of entries) {
      const name = req.components[code];
      const move = open.find((m) => m.product_id && m.product_id[1] === name);
      if (!move) {
        warnings.push(`${code}: no open raw move of ${JSON.stringify(name ?? '?')} on ${req.moId}; ${kg} kg not written`);
        continue;
      }
      // quantity_done is set, not added: a repeated write leaves the same figure.
      await client.callKw('stock.move', 'write', [[move.id], { quantity_done: kg }], {}, call);
    }
  };
  if (!consumptionSkipped) {
    await req.beforeConsume(total);
    if (route === 'custom') {
      try {
        const r = await client.callRoute<CustomReply>(CONSUME_PATH, { mo_id: req.moId, quantity: req.finishedQty, ...Object.fromEntries(entries) }, call);
        warnings.push(...customOk(r, CONSUME_PATH, req.moId));
      } catch (err) {
        if (!(err instanceof OdooError) || err.kind !== 'not-found') throw err;
        customMissing.add(client);
        route = 'orm';
        options.log?.warn(`odoo: ${CONSUME_PATH} not found (grt_scada module missing or older); writing back through the ORM (stock.move / mrp.production)`);
      }
    }
    if (route === 'orm') await ormConsume();
  }
  if (route === 'custom') {
    try {
      const r = await client.callRoute<CustomReply>(MARK_DONE_PATH, {
        mo_id: req.moId, finished_qty: req.finishedQty, auto_consume: false, date_end_actual: odooDateTime(req.finishedAt),
        ...(req.equipmentId ? { equipment_id: req.equipmentId } : {}),
      }, call);
      warnings.push(...customOk(r, MARK_DONE_PATH, req.moId));
    } catch (err) {
      if (!(err instanceof OdooError) || err.kind !== 'not-found') throw err;
      customMissing.add(client);
      route = 'orm';
      // A restart forgot that the routes are missing: the change the baseline saw was an earlier
      // ORM attempt (maybe cut short), not the custom route's addition, so the moves are written again.
      if (consumptionSkipped) {
        await ormConsume();
        consumptionSkipped = false;
      }
    }
  }
  if (route === 'orm') {
    await client.callKw('mrp.production', 'write', [[mo.id], { qty_producing: req.finishedQty }], {}, call);
    await client.callKw('mrp.production', 'button_mark_done', [[mo.id]], { context: MARK_DONE_CONTEXT }, call);
  }
  const after = await readMo(client, req.moId, call);
  if (after.state !== 'done') {
    throw new OdooError('app', `odoo: MO ${req.moId} is still "${after.state}" after mark done (a wizard or a rule in Odoo stopped it); close it in Odoo, then dismiss the batch`);
  }
  for (const w of warnings) options.log?.warn(`odoo write-back of ${req.moId}: ${w}`);
  return { route, alreadyDone: false, consumptionSkipped, warnings };
}

async function readMo(client: OdooClient, moId: string, call: OdooCallOptions): Promise<ProductionRow> {
  const rows = await client.searchRead<ProductionRow>('mrp.production', [['name', '=', moId]], { fields: ['name', 'state'], limit: 2, ...call });
  if (!Array.isArray(rows) || rows.length === 0) throw new OdooError('app', `odoo: MO ${moId} not found in mrp.production; nothing written back (was it deleted or renamed?)`);
  const row = rows[0]!;
  if (typeof row.id !== 'number' || typeof row.state !== 'string') throw new OdooError('protocol', `odoo: mrp.production ${moId} answered without id/state`);
  return row;
}

/** Warnings of a custom route's success; throws its failure as kind `app`. */
function customOk(r: CustomReply | null, path: string, moId: string): string[] {
  const status = r && typeof r === 'object' ? r.status : undefined;
  if (status !== 'success' && status !== 'ok') {
    throw new OdooError('app', `odoo: ${path} refused ${moId}: ${String(r?.message ?? JSON.stringify(r)).slice(0, 200)}`, { path });
  }
  return Array.isArray(r!.errors) ? r!.errors.map((e) => String(e).slice(0, 200)) : [];
}
