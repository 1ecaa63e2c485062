// Read coalescing: the map's readable entries grouped into the fewest requests, each within the
// per-request limit and spanning at most `maxGap` unused addresses between two entries.
import type { ModbusTable } from '../../adapters/modbus/types.ts';
import { isBitTable, type TagConfig, tagWidth } from './config.ts';

export interface ReadBlock<T extends Pick<TagConfig, 'table' | 'address' | 'type'>> {
  table: ModbusTable;
  address: number;
  count: number;
  /** Entries inside, with their offset from `address`. */
  tags: Array<{ tag: T; offset: number; width: number }>;
}

export interface PlanLimits {
  maxGap: number;
  maxRegistersPerRequest: number;
  maxBitsPerRequest: number;
}

/**
 * Greedy left-to-right per table, which is optimal for this problem: a block ends only when the
 * next entry would push it past the request limit or lie more than `maxGap` beyond its end.
 */
export function planReads<T extends Pick<TagConfig, 'table' | 'address' | 'type'>>(tags: readonly T[], limits: PlanLimits): ReadBlock<T>[] {
  const blocks: ReadBlock<T>[] = [];
  const tables: ModbusTable[] = ['holding', 'input', 'coil', 'discrete'];
  for (const table of tables) {
    const max = isBitTable(table) ? limits.maxBitsPerRequest : limits.maxRegistersPerRequest;
    const sorted = tags.filter((t) => t.table === table).sort((a, b) => a.address - b.address);
    let block: ReadBlock<T> | null = null;
    for (const tag of sorted) {
      const width = tagWidth(tag);
      const end = tag.address + width;
      if (block && end - block.address <= max && tag.address - (block.address + block.count) <= limits.maxGap) {
        block.count = Math.max(block.count, end - block.address);
        block.tags.push({ tag, offset: tag.address - block.address, width });
        continue;
      }
      block = { table, address: tag.address, count: width, tags: [{ tag, offset: 0, width }] };
      blocks.push(block);
    }
  }
  return blocks;
}

// Protocol limits of FC16 and FC15.
const MAX_WRITE = { holding: 123, coil: 1968 } as const;

/**
 * Contiguous runs of pending writes in one table, each within FC16/FC15 limits (gaps are never
 * written). Runs holding a `commit` entry (a mode switch) go last, so the PLC acts on the new values.
 */
export function planWrites<W extends { table: ModbusTable; address: number; raw: unknown[]; tag?: { commit?: boolean } }>(writes: readonly W[]): W[][] {
  const runs: W[][] = [];
  for (const table of ['holding', 'coil'] as const) {
    const max = MAX_WRITE[table];
    const sorted = writes.filter((w) => w.table === table).sort((a, b) => a.address - b.address);
    let run: W[] = [];
    let start = 0;
    let end = 0;
    for (const w of sorted) {
      const wEnd = w.address + w.raw.length;
      if (run.length && w.address === end && wEnd - start <= max) {
        run.push(w);
        end = wEnd;
        continue;
      }
      run = [w];
      runs.push(run);
      start = w.address;
      end = wEnd;
    }
  }
  const commits = (run: W[]) => run.some((w) => w.tag?.commit === true);
  return [...runs.filter((r) => !commits(r)), ...runs.filter(commits)];
}

/**
 * One command, one request: what must be written too so that two pending holding-register runs at
 * most `maxGap` apart become one run. `at(address)` names the gateway-owned value covering a
 * register (undefined: not ours, or busy); a gap with any register that is not ours stays a gap,
 * since writing a PLC-owned register would overwrite the PLC's value.
 */
export function gapFillers<F>(
  pending: ReadonlyArray<{ table: ModbusTable; address: number; raw: unknown[] }>,
  maxGap: number,
  at: (address: number) => F | undefined,
): F[] {
  const sorted = pending.filter((w) => w.table === 'holding').sort((a, b) => a.address - b.address);
  const out: F[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const end = sorted[i - 1].address + sorted[i - 1].raw.length;
    const gap = sorted[i].address - end;
    if (gap <= 0 || gap > maxGap) continue;
    const fill: F[] = [];
    for (let a = end; a < sorted[i].address; a++) {
      const f = at(a);
      if (!f) {
        fill.length = 0;
        break;
      }
      if (!fill.includes(f)) fill.push(f);
    }
    out.push(...fill);
  }
  return out;
}
