// The mo_batch queue as the seed keeps it (one row per manufacturing order waiting for the mixing
// PLC), behind one small interface so it can live in the embedded store or in PostgreSQL.
import type { BatchOutbox, BatchResult } from './history.ts';

/** Silo letters a..m for equipment 101..113; the liquid tanks 114/115 are optional. */
export const SILO_LETTERS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm'] as const;
export type SiloLetter = (typeof SILO_LETTERS)[number];

/** One queued batch, with the seed's column names. */
export interface MoBatchRow {
  /** 1..N, unique, in queue order. */
  batch_no: number;
  /** Odoo MO reference (e.g. `WH/MO/00002`); unique in the queue (upsert key). */
  mo_id: string;
  /** Quantity of finished goods to make. */
  consumption: number;
  /** Equipment code of the MO's mixer, or null. */
  equipment_id_batch: string | null;
  finished_goods: string | null;
  bom_code: string | null;
  /** silo_a..silo_m: the silo's equipment number (defaults 101..113). */
  silos: Record<SiloLetter, number>;
  /** component_silo_x_name: the component drawn from silo x, or null. */
  component_names: Partial<Record<SiloLetter, string>>;
  /** consumption_silo_x: kg to draw from silo x (0 when unused). */
  consumptions: Partial<Record<SiloLetter, number>>;
  /** Liquid tanks (114, 115) when enabled: component name and kg. */
  liquids?: Partial<Record<'lq114' | 'lq115', { name: string; consumption: number }>>;
  status_manufacturing: boolean;
  status_operation: boolean;
  actual_weight_quantity_finished_goods: number | null;
  /** Epoch seconds the row was queued / last changed. */
  created_at: number;
  updated_at: number;
}

/** What a sync gives the repository: a row without its position and timestamps. */
export type NewMoBatch = Omit<MoBatchRow, 'batch_no' | 'created_at' | 'updated_at' | 'status_manufacturing' | 'status_operation' | 'actual_weight_quantity_finished_goods'>;

export interface UpsertResult {
  inserted: number;
  updated: number;
  /** MOs not queued because their batch already finished here (odoo-sync repositories only). */
  alreadyFinished?: string[];
}

export interface MoBatchRepository {
  readonly description: string;
  /** Creates the table if needed. */
  init(): Promise<void>;
  count(): Promise<number>;
  /** Every row, by batch_no. */
  list(): Promise<MoBatchRow[]>;
  get(batchNo: number): Promise<MoBatchRow | undefined>;
  /**
   * Inserts new MOs at the end of the queue (batch_no continues from the highest) and updates
   * rows whose mo_id is already queued, in one transaction: all or nothing. The odoo-sync
   * repositories skip, in that same transaction, an MO not queued whose batch already finished here
   * (a history row not `retried`) and list it in `alreadyFinished`.
   */
  upsert(rows: NewMoBatch[]): Promise<UpsertResult>;
  /**
   * Records what the PLC reported for a batch. The odoo-sync repositories also write its history
   * (outbox) row in the same transaction: all or nothing, and a second call for the same batch is a no-op.
   */
  markFinished(batchNo: number, result: BatchResult): Promise<void>;
  /**
   * Records a batch the PLC finished whose queue row is gone (the queue was cleared while it
   * mixed), from what its block holds, so its result is not lost and its MO not mixed again.
   */
  recordOrphan?(batch: OrphanBatch, result: BatchResult): Promise<void>;
  /** Removes a batch the PLC has finished (and renumbers nothing: batch_no stays the PLC's slot). */
  remove(batchNo: number): Promise<void>;
  /** Empties the queue; returns how many rows went. */
  clear(): Promise<number>;
  close(): Promise<void>;
}

/** What a finished PLC block tells about its batch (plc-layout.ts `decodeBatch`). */
export interface OrphanBatch {
  batchNo: number;
  moId: string;
  bomCode: string;
  finishedGoods: string;
  quantity: number;
  /** kg by silo/tank number 101..115. */
  consumption: Record<number, number>;
}

/** The odoo-sync repositories: the queue plus the finished-batch outbox and history. */
export type MoBatchStore = MoBatchRepository & BatchOutbox;

/** The service name under which the odoo-sync plugin offers its repository. */
export const moBatchService = (pluginId: string) => `mo-batch:${pluginId}`;
