// Wraps a MoBatchRepository so every change to the queue — by the sync, an admin route or the PLC
// link removing a finished batch — updates `mo_batch_count` and publishes `erp/batch` on the bus.
import type { MoBatchRow, MoBatchStore, NewMoBatch, OrphanBatch, UpsertResult } from './batch-repo.ts';
import type { BatchHistoryRow, BatchResult, WriteBackPatch } from './history.ts';

export interface QueueChange {
  key: 'mo_batch';
  /** Rows in the queue after the change. */
  value: { count: number; change: 'upsert' | 'finished' | 'remove' | 'clear'; batchNo?: number; inserted?: number; updated?: number; removed?: number };
  /** Epoch seconds. */
  ts: number;
}

export const QUEUE_TOPIC = 'erp/batch';
export const COUNT_KEY = 'mo_batch_count';

export class ObservedMoBatchRepository implements MoBatchStore {
  constructor(
    readonly inner: MoBatchStore,
    readonly onChange: (change: QueueChange['value']) => void | Promise<void>,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  init(): Promise<void> {
    return this.inner.init();
  }

  count(): Promise<number> {
    return this.inner.count();
  }

  list(): Promise<MoBatchRow[]> {
    return this.inner.list();
  }

  get(batchNo: number): Promise<MoBatchRow | undefined> {
    return this.inner.get(batchNo);
  }

  async upsert(rows: NewMoBatch[]): Promise<UpsertResult> {
    const r = await this.inner.upsert(rows);
    if (r.inserted || r.updated) await this.#changed({ change: 'upsert', inserted: r.inserted, updated: r.updated });
    return r;
  }

  history(range?: { from?: number; to?: number; limit?: number }): Promise<BatchHistoryRow[]> {
    return this.inner.history(range);
  }

  getHistory(key: string): Promise<BatchHistoryRow | undefined> {
    return this.inner.getHistory(key);
  }

  due(nowS: number): Promise<BatchHistoryRow[]> {
    return this.inner.due(nowS);
  }

  finishedMoIds(): Promise<Set<string>> {
    return this.inner.finishedMoIds();
  }

  updateWriteBack(key: string, patch: WriteBackPatch): Promise<void> {
    return this.inner.updateWriteBack(key, patch);
  }

  async requeue(key: string, resolution: { text: string; at: number }): Promise<number> {
    const batchNo = await this.inner.requeue(key, resolution);
    await this.#changed({ change: 'upsert', inserted: 1, batchNo });
    return batchNo;
  }

  async recordOrphan(batch: OrphanBatch, result: BatchResult): Promise<void> {
    await this.inner.recordOrphan!(batch, result);
    await this.#changed({ change: 'finished', batchNo: batch.batchNo });
  }

  async markFinished(batchNo: number, result: BatchResult): Promise<void> {
    await this.inner.markFinished(batchNo, result);
    await this.#changed({ change: 'finished', batchNo });
  }

  async remove(batchNo: number): Promise<void> {
    await this.inner.remove(batchNo);
    await this.#changed({ change: 'remove', batchNo });
  }

  async clear(): Promise<number> {
    const removed = await this.inner.clear();
    await this.#changed({ change: 'clear', removed });
    return removed;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async #changed(change: Omit<QueueChange['value'], 'count'>): Promise<void> {
    await this.onChange({ count: await this.inner.count(), ...change });
  }
}
