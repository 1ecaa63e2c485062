// A queued mo_batch row as the PLC block the layout encodes: consumptions by silo equipment number.
import { type MoBatchRow, SILO_LETTERS } from '../odoo-sync/batch-repo.ts';
import type { PlcBatch } from '../odoo-sync/plc-layout.ts';

export function toPlcBatch(row: MoBatchRow): PlcBatch {
  const consumption: Record<number, number> = {};
  for (const letter of SILO_LETTERS) {
    const kg = row.consumptions[letter] ?? 0;
    // An unused silo stays 0 in its fixed place; only a used one must map to a PLC slot.
    if (kg > 0) consumption[row.silos[letter]] = (consumption[row.silos[letter]] ?? 0) + kg;
  }
  if (row.liquids?.lq114?.consumption) consumption[114] = row.liquids.lq114.consumption;
  if (row.liquids?.lq115?.consumption) consumption[115] = row.liquids.lq115.consumption;
  return {
    batchNo: row.batch_no,
    moId: row.mo_id,
    bomCode: row.bom_code ?? '',
    finishedGoods: row.finished_goods ?? '',
    quantity: row.consumption,
    consumption,
  };
}
