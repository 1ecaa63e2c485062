// A cursor over one history series: hands out the records after the cursor in time order, batch by
// batch. The cursor is (ts, skip): the last shipped record's time and how many records at exactly
// that time were shipped, so equal timestamps are neither lost nor resent. It moves only after the
// caller says a batch is safely stored (at-least-once; the sink is idempotent).
import type { HistoryRecord, HistoryStore } from '../../core/history/types.ts';

export interface TailCursor {
  /** ms since the epoch of the last shipped record; null = from the oldest record kept. */
  ts: number | null;
  skip: number;
}

export function isCursor(v: unknown): v is TailCursor {
  if (!v || typeof v !== 'object') return false;
  const c = v as Record<string, unknown>;
  return (c.ts === null || (typeof c.ts === 'number' && Number.isFinite(c.ts))) && typeof c.skip === 'number' && Number.isInteger(c.skip) && c.skip >= 0;
}

/** The next batch after `cursor` and the cursor to store once it is written. */
export async function nextBatch(history: HistoryStore, series: string, cursor: TailCursor, batchSize: number): Promise<{ records: HistoryRecord[]; cursor: TailCursor }> {
  const got = cursor.ts === null
    ? await history.query(series, { limit: batchSize })
    : await history.query(series, { from: cursor.ts, limit: cursor.skip + batchSize });
  let lead = 0;
  while (lead < cursor.skip && lead < got.length && got[lead].ts === cursor.ts) lead++;
  const records = got.slice(lead);
  if (records.length === 0) return { records, cursor };
  const last = records[records.length - 1].ts;
  let skip = 0;
  for (let i = got.length - 1; i >= 0 && got[i].ts === last; i--) skip++;
  return { records, cursor: { ts: last, skip } };
}
