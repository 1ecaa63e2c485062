// Finished and failed batches (the outbox of the Odoo write-back and the batch history), shared by
// the embedded-store and PostgreSQL repositories: one row per batch the PLC reported, written in the
// same transaction that marks the mo_batch row finished, so no PLC result is ever lost or doubled.
import { type MoBatchRow, type OrphanBatch, SILO_LETTERS, type SiloLetter } from './batch-repo.ts';

/**
 * - `pending`: to be written back (retried with backoff until Odoo confirms);
 * - `confirmed`: Odoo shows the MO done with our figures;
 * - `held`: the PLC flagged the batch failed: waits for an operator (retry on the PLC, or write back);
 * - `rejected`: Odoo refused it for good (MO missing, cancelled): waits for an operator;
 * - `retried`: the operator sent the MO to the PLC again (a new batch row follows);
 * - `dismissed`: the operator closed it without writing back.
 */
export type WriteBackState = 'pending' | 'confirmed' | 'held' | 'rejected' | 'retried' | 'dismissed';

/** What the PLC reported for a batch; `consumption` is kg by silo/tank number (101..115) as read back. */
export interface BatchResult {
  failed: boolean;
  actualWeight: number | null;
  consumption?: Record<number, number>;
}

export interface BatchHistoryRow {
  /** `<mo_id>@<queued epoch s>#<batch_no>`: one per batch of one MO. */
  key: string;
  batch_no: number;
  mo_id: string;
  finished_goods: string | null;
  equipment_id_batch: string | null;
  /** Planned quantity (kg). */
  quantity: number;
  status_manufacturing: true;
  /** The PLC's failed flag. */
  status_operation: boolean;
  actual_weight_quantity_finished_goods: number | null;
  /** kg by equipment code (`silo101`, `lq114`), as the PLC reported. */
  consumption: Record<string, number>;
  /** Component name by equipment code. */
  components: Record<string, string>;
  queued_at: number;
  finished_at: number;
  state: WriteBackState;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
  /** Odoo's raw-move total before the consumption was first sent (write-back.ts); null = not sent yet. */
  baseline: number | null;
  confirmed_at: number | null;
  /** The operator's decision, e.g. `retry on the PLC` / `write back consumed`. */
  resolution: string | null;
  resolved_at: number | null;
  /** The queued row, to put the MO back in the queue on "retry". */
  row: MoBatchRow;
}

export type WriteBackPatch = Partial<Pick<BatchHistoryRow, 'state' | 'attempts' | 'last_error' | 'next_attempt_at' | 'baseline' | 'confirmed_at' | 'resolution' | 'resolved_at'>>;

/** The outbox and history half of a queue repository. */
export interface BatchOutbox {
  /** Finished/failed batches with finished_at in [from, to] (epoch s), newest first. */
  history(range?: { from?: number; to?: number; limit?: number }): Promise<BatchHistoryRow[]>;
  getHistory(key: string): Promise<BatchHistoryRow | undefined>;
  /** `pending` rows whose next attempt is due at `nowS`, oldest first. */
  due(nowS: number): Promise<BatchHistoryRow[]>;
  /** MOs finished here (any state but `retried`): never queued again, whatever Odoo still lists. */
  finishedMoIds(): Promise<Set<string>>;
  updateWriteBack(key: string, patch: WriteBackPatch): Promise<void>;
  /** In one transaction: the history row becomes `retried` and the MO is queued again at the end; returns its batch_no. */
  requeue(key: string, resolution: { text: string; at: number }): Promise<number>;
}

export const HISTORY_KEY = (row: MoBatchRow) => `${row.mo_id}@${row.created_at}#${row.batch_no}`;

/** `silo101`..`silo113`, `lq114`, `lq115`: the equipment codes the grt_scada write route takes. */
export function equipmentCode(n: number): string {
  return n >= 114 ? `lq${n}` : `silo${n}`;
}

/** The history row a finished batch starts as. */
export function historyRow(row: MoBatchRow, result: BatchResult, nowS: number): BatchHistoryRow {
  const components: Record<string, string> = {};
  const planned: Record<string, number> = {};
  for (const l of SILO_LETTERS) {
    const kg = row.consumptions[l] ?? 0;
    const code = equipmentCode(row.silos[l]);
    if (row.component_names[l] !== undefined) components[code] = row.component_names[l]!;
    if (kg > 0) planned[code] = kg;
  }
  for (const [tank, v] of Object.entries(row.liquids ?? {})) {
    const code = equipmentCode(Number(tank.slice(2)));
    components[code] = v.name;
    if (v.consumption > 0) planned[code] = v.consumption;
  }
  const consumption = result.consumption
    ? Object.fromEntries(Object.entries(result.consumption).filter(([, kg]) => kg > 0).map(([n, kg]) => [equipmentCode(Number(n)), kg]))
    : planned;
  return {
    key: HISTORY_KEY(row),
    batch_no: row.batch_no,
    mo_id: row.mo_id,
    finished_goods: row.finished_goods,
    equipment_id_batch: row.equipment_id_batch,
    quantity: row.consumption,
    status_manufacturing: true,
    status_operation: result.failed,
    actual_weight_quantity_finished_goods: result.actualWeight,
    consumption,
    components,
    queued_at: row.created_at,
    finished_at: nowS,
    state: result.failed ? 'held' : 'pending',
    attempts: 0,
    last_error: null,
    next_attempt_at: result.failed ? null : nowS,
    baseline: null,
    confirmed_at: null,
    resolution: null,
    resolved_at: null,
    row: { ...row, status_manufacturing: true, status_operation: result.failed, actual_weight_quantity_finished_goods: result.actualWeight },
  };
}

/** The history row of a batch finished after its queue row was cleared: held for the operator. */
export function orphanRow(b: OrphanBatch, result: BatchResult, nowS: number): BatchHistoryRow {
  const consumptions: MoBatchRow['consumptions'] = {};
  const liquids: NonNullable<MoBatchRow['liquids']> = {};
  for (const [n, kg] of Object.entries(b.consumption)) {
    const id = Number(n);
    if (id >= 101 && id <= 113) consumptions[SILO_LETTERS[id - 101] as SiloLetter] = kg;
    else if (id === 114 || id === 115) liquids[`lq${id}`] = { name: `tank ${id}`, consumption: kg };
  }
  const row: MoBatchRow = {
    batch_no: b.batchNo, mo_id: b.moId, consumption: b.quantity, equipment_id_batch: null,
    finished_goods: b.finishedGoods || null, bom_code: b.bomCode || null,
    silos: Object.fromEntries(SILO_LETTERS.map((l, i) => [l, 101 + i])) as Record<SiloLetter, number>,
    component_names: {}, consumptions, ...(Object.keys(liquids).length ? { liquids } : {}),
    status_manufacturing: false, status_operation: false, actual_weight_quantity_finished_goods: null, created_at: nowS, updated_at: nowS,
  };
  return {
    ...historyRow(row, result, nowS),
    key: `${b.moId}@plc#${b.batchNo}`,
    state: 'held',
    next_attempt_at: null,
    last_error: 'finished on the PLC after its queue row was cleared; check it, then write back, retry or dismiss',
  };
}
