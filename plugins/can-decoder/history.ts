// The seed's `can_messages` rows in the history store, appended in batches (by size or age) without
// fsync per batch: the history store group-commits, and a gateway at a full bus writes ~9,000 rows/s.
import type { HistoryRecord, HistoryStore } from '../../core/history/types.ts';

export interface CanMessageRow extends Record<string, unknown> {
  /** ms since the epoch (the frame's reception time). */
  timestamp: number;
  /** `0x101`, or 8 digits for an extended id. */
  can_id: string;
  /** The transmitting node from the DBC (`FLOWER_BACK`), or null for unknown ids. */
  node_id: string | null;
  /** The DBC message name (`FlowerBack_Psychro`). */
  message_type: string;
  dlc: number;
  /** `AA FF 04 10`. */
  raw_data: string;
  /** JSON text of the decoded physical values; `_invalid` lists signals flagged by validation. */
  decoded_data: string;
}

export class HistoryBatcher {
  #buffer: HistoryRecord[] = [];
  #inFlight = new Set<Promise<unknown>>();
  appended = 0;
  failed = 0;

  constructor(private readonly opts: { history: HistoryStore; series: string; batchSize: number; onError: (err: unknown, rows: number) => void }) {}

  add(row: CanMessageRow): void {
    this.#buffer.push({ ts: row.timestamp, data: row });
    if (this.#buffer.length >= this.opts.batchSize) this.#append();
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  /** Appends what is buffered and waits for every append in flight. */
  async flush(): Promise<void> {
    this.#append();
    await Promise.all([...this.#inFlight]);
  }

  #append(): void {
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    const p = this.opts.history.append(this.opts.series, batch, { durable: false }).then(
      () => {
        this.appended += batch.length;
      },
      (err: unknown) => {
        this.failed += batch.length;
        this.opts.onError(err, batch.length);
      },
    );
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }
}
