// Segment summaries (`<start>.sum` sidecars) on a real temp directory, driven by a fake clock:
// written when a window closes, CRC-checked and versioned, rebuilt from the segment when missing,
// stale or corrupt, removed with their segment, and produced for old segments by the background pass.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { FaultyDisk } from '../../core/history/disk-fault.ts';
import { exactValue } from '../../core/history/exact-sum.ts';
import { type HistoryOptions, openHistory, type SegmentHistory } from '../../core/history/open.ts';
import { cellSum, decodeSummary, encodeSummary, SUMMARY_MAX_KEYS, SummaryBuilder } from '../../core/history/summary.ts';
import type { HistoryRecord } from '../../core/history/types.ts';
import { memoryLog } from '../../core/log.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

async function rig(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-summary-'));
  const clock = new FakeClock(T0);
  const { root, lines } = memoryLog('debug');
  const opened: SegmentHistory[] = [];
  t.after(async () => {
    for (const h of opened) await h.close();
    await rm(dir, { recursive: true, force: true });
  });
  const folder = (series: string) => join(dir, 'history', series);
  return {
    clock,
    lines,
    async open(options: Partial<HistoryOptions> = {}) {
      const h = await openHistory({ dataDir: dir, clock, log: root.logger('history'), commitDelayMs: 0, ...options });
      opened.push(h);
      return h;
    },
    folder,
    sidecar: (series: string, start: number) => join(folder(series), `${start}.sum`),
    async sidecars(series: string) {
      return (await readdir(folder(series))).filter((f) => !f.endsWith('.seg')).sort();
    },
  };
}

/** Waits for file work the store does in the background (polls; no fixed sleeps). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000; // generous: a loaded CI machine, never reached when all is well
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const exists = (path: string) => readFile(path).then(() => true, () => false);

/** One row every 10 s for `hours` hours from T0, the clock moving with them as on a running gateway. */
async function writeHours(r: Awaited<ReturnType<typeof rig>>, h: SegmentHistory, hours: number, value = (i: number) => i % 7): Promise<void> {
  for (let hour = 0; hour < hours; hour++) {
    const rows: HistoryRecord[] = [];
    for (let i = 0; i < 360; i++) rows.push({ ts: T0 + hour * HOUR + i * 10_000, data: { v: value(hour * 360 + i), state: i % 2 ? 'run' : 'stop' } });
    await h.append('sig', rows);
    await r.clock.advance(HOUR);
  }
  await h.append('sig', [{ ts: r.clock.now(), data: { v: -1 } }]); // rolls the last full hour closed
}

test('a window that closes gets a sidecar summarising its rows per 12 s cell', async (t) => {
  const r = await rig(t);
  const h = await r.open();
  await writeHours(r, h, 2);
  await until(async () => (await r.sidecars('sig')).length === 2, 'both closed hours to get their sidecar');
  assert.deepEqual(await r.sidecars('sig'), [`${T0}.sum`, `${T0 + HOUR}.sum`], 'the open hour has none');

  const s = decodeSummary(new Uint8Array(await readFile(r.sidecar('sig', T0))));
  assert.equal(s.records, 360);
  assert.equal(s.resolutionMs, 12_000);
  assert.equal(s.minTs, T0);
  assert.equal(s.maxTs, T0 + 359 * 10_000);
  const v = s.keys.get('v')!;
  assert.equal(v.cell.length, 300, 'one cell per 12 s of the hour');
  assert.equal(Array.from(v.n).reduce((a, b) => a + b, 0), 360);
  // Cell 1 is [12 s, 24 s): the rows at 20 s (i = 2).
  assert.deepEqual([v.n[1], v.min[1], v.max[1], exactValue(cellSum(v, 1)), v.firstTs[1], v.lastTs[1]], [1, 2, 2, 2, T0 + 20_000, T0 + 20_000]);
  assert.deepEqual([v.n[0], v.min[0], v.max[0], exactValue(cellSum(v, 0)), v.first[0], v.last[0]], [2, 0, 1, 1, 0, 1]);
  const coarse = s.coarse!;
  assert.equal(coarse.resolutionMs, 144_000);
  assert.equal(coarse.keys.get('v')!.cell.length, 25, 'and one per 144 s in the coarse level');
  assert.equal(Array.from(coarse.keys.get('v')!.n).reduce((a, b) => a + b, 0), 360);
  const state = s.keys.get('state')!;
  assert.deepEqual([state.n[0], state.first[0], state.last[0]], [0, 'stop', 'run'], 'text values: no count, but first and last');
});

test('the format is checked: wrong magic, torn body, flipped byte and unknown version are refused with the reason', () => {
  const b = new SummaryBuilder(T0, HOUR);
  b.add({ ts: T0 + 1, data: { a: 1.5, on: true, obj: { x: 1 } } });
  b.add({ ts: T0 + 13_000, data: { a: -2 } });
  const bytes = encodeSummary(b.finish(123));
  const back = decodeSummary(bytes);
  assert.equal(back.segmentBytes, 123);
  assert.deepEqual(back.keys.get('on')!.last, [true]);
  assert.deepEqual(back.keys.get('obj')!.last, [{ x: 1 }]);
  assert.deepEqual(Array.from(back.keys.get('a')!.cell), [Math.floor(T0 / 12_000), Math.floor(T0 / 12_000) + 1]);

  const flipped = bytes.slice();
  flipped[bytes.length - 3] ^= 0x40;
  assert.throws(() => decodeSummary(flipped), /CRC mismatch/);
  assert.throws(() => decodeSummary(bytes.subarray(0, bytes.length - 5)), /torn write/);
  const magic = bytes.slice();
  magic[0] = 0;
  assert.throws(() => decodeSummary(magic), /bad magic/);
  const version = bytes.slice();
  version[4] = 9;
  assert.throws(() => decodeSummary(version), /format version 9, this build reads 1/);
});

test('a segment with more keys than a sidecar holds is marked truncated', () => {
  const b = new SummaryBuilder(T0, HOUR);
  const data: Record<string, number> = {};
  for (let i = 0; i <= SUMMARY_MAX_KEYS; i++) data[`k${i}`] = i;
  b.add({ ts: T0, data });
  const s = decodeSummary(encodeSummary(b.finish(1)));
  assert.equal(s.truncated, true);
  assert.equal(s.keys.size, SUMMARY_MAX_KEYS);
});

test('a corrupt sidecar is reported, the segment is read instead and the sidecar rewritten', async (t) => {
  const r = await rig(t);
  const h1 = await r.open();
  await writeHours(r, h1, 1);
  await until(() => exists(r.sidecar('sig', T0)), 'the sidecar');
  const good = decodeSummary(new Uint8Array(await readFile(r.sidecar('sig', T0))));
  await h1.close();

  const bytes = await readFile(r.sidecar('sig', T0));
  bytes[bytes.length - 10] ^= 0xff;
  await writeFile(r.sidecar('sig', T0), bytes);
  const disk = new FaultyDisk();
  const h = await r.open({ disk });
  const s = (await h.summary('sig', T0))!;
  // Compared as sidecar bytes would hold them (read back, columns are typed arrays).
  assert.deepEqual(decodeSummary(encodeSummary(s)), good, 'the summary folded from the rows equals the one written at close');
  assert.ok(disk.reads.includes(join(r.folder('sig'), `${T0}.seg`)), 'the segment was read');
  const warn = r.lines.find((l) => l.level === 'warn' && String(l.msg).includes('summary unusable'));
  assert.match(String(warn?.msg), new RegExp(`${T0}\\.sum\\): summary unusable \\(CRC mismatch\\); reading the segment instead and rewriting it`));
  // Rewritten behind the answer.
  const intact = async () => {
    try {
      return decodeSummary(new Uint8Array(await readFile(r.sidecar('sig', T0)))).records === 360;
    } catch {
      return false;
    }
  };
  await until(intact, 'the sidecar to be rewritten');
  assert.deepEqual(decodeSummary(new Uint8Array(await readFile(r.sidecar('sig', T0)))), good, 'rewritten intact');

  disk.reads.length = 0;
  assert.deepEqual(await h.summary('sig', T0), good);
  assert.deepEqual(disk.reads, [r.sidecar('sig', T0)], 'now only the sidecar is read');
});

test('a row arriving late in a closed hour makes its sidecar stale: the summary includes it and is rewritten', async (t) => {
  const r = await rig(t);
  const h = await r.open();
  await writeHours(r, h, 1);
  await until(() => exists(r.sidecar('sig', T0)), 'the sidecar');
  await h.append('sig', [{ ts: T0 + 5, data: { v: 100 } }]);
  const s = (await h.summary('sig', T0))!;
  assert.equal(s.records, 361);
  assert.equal(s.keys.get('v')!.max[0], 100);
  const records = async () => decodeSummary(new Uint8Array(await readFile(r.sidecar('sig', T0)))).records;
  await until(async () => (await records()) === 361, 'the sidecar to be rewritten with the late row');
  assert.equal(await h.summary('sig', T0 + HOUR), null, 'the open hour has no summary');
});

test('retention deletes the sidecar with its segment', async (t) => {
  const r = await rig(t);
  const h = await r.open({ retentionMs: 3 * HOUR });
  await writeHours(r, h, 3);
  await until(async () => (await r.sidecars('sig')).length === 3, 'three sidecars');
  await r.clock.advance(2 * HOUR); // now T0+5h: hours 0 and 1 end at or before now-3h; hour 3 has closed
  // Hour 3's sidecar is written while retention runs: wait for the final listing, not for a count
  // (a count of 4 is also met while that sidecar is still `.sum.tmp`).
  const want = [`${T0 + 2 * HOUR}.seg`, `${T0 + 2 * HOUR}.sum`, `${T0 + 3 * HOUR}.seg`, `${T0 + 3 * HOUR}.sum`];
  const listing = async () => (await readdir(r.folder('sig'))).sort();
  await until(async () => JSON.stringify(await listing()) === JSON.stringify(want), 'retention to delete two segments and their sidecars');
  assert.deepEqual(await listing(), want);
});

test('segments without sidecars (older store, crash before the write) get them from the background pass; strays are removed', async (t) => {
  const r = await rig(t);
  const h1 = await r.open();
  await writeHours(r, h1, 3);
  await until(async () => (await r.sidecars('sig')).length === 3, 'three sidecars');
  const want = await readFile(r.sidecar('sig', T0 + HOUR));
  await h1.close();
  for (const f of await r.sidecars('sig')) await unlink(join(r.folder('sig'), f));
  await writeFile(join(r.folder('sig'), `${T0}.sum.tmp`), 'half a write');
  await writeFile(join(r.folder('sig'), `${T0 - HOUR}.sum`), 'sidecar of a deleted segment');

  const h = await r.open();
  assert.deepEqual(await r.sidecars('sig'), [], 'temp files and orphans go at start');
  await r.clock.advance(HOUR / 4); // the housekeeping tick runs the background pass
  await until(async () => (await r.sidecars('sig')).length === 3, 'the background pass to write three sidecars');
  assert.deepEqual(await readFile(r.sidecar('sig', T0 + HOUR)), want, 'the same bytes as written at close');
  assert.equal((await h.summary('sig', T0))!.records, 360);
});

test('while the disk fails no sidecar is written and summary() says to read the rows', async (t) => {
  const r = await rig(t);
  const disk = new FaultyDisk();
  const h = await r.open({ disk });
  await h.append('sig', [{ ts: T0, data: { v: 1 } }]);
  disk.setFault('EROFS');
  await h.append('sig', [{ ts: T0 + 1000, data: { v: 2 } }]);
  await r.clock.advance(HOUR);
  await h.append('sig', [{ ts: T0 + HOUR, data: { v: 3 } }]);
  assert.equal(await h.summary('sig', T0), null);
  assert.equal(await exists(r.sidecar('sig', T0)), false);
  disk.clearFault();
  await r.clock.advance(5000); // the disk retry writes the backlog
  await until(() => exists(r.sidecar('sig', T0)), 'the sidecar once the rows are on disk');
  assert.equal((await h.summary('sig', T0))!.records, 2);
});
