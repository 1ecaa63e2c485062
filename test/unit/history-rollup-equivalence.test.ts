// Bucketed history answers built from segment summaries (`.sum` sidecars) and cached rollups must
// equal a plain scan of the rows, bucket by bucket (min, max, avg, last, count): random rows with
// gaps, ties, late rows, text and booleans; random ranges (on bucket and segment edges too) and steps.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { FaultyDisk } from '../../core/history/disk-fault.ts';
import { openHistory, type SegmentHistory } from '../../core/history/open.ts';
import type { HistoryRecord } from '../../core/history/types.ts';
import { memoryLog } from '../../core/log.ts';
import { Bucketer } from '../../plugins/http-api/history/buckets.ts';
import { bucketRange, RollupCache } from '../../plugins/http-api/history/rollup.ts';
import { mulberry32 } from '../../sim/seeded-random.ts';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const SPAN = 4 * 60 * MIN;

async function store(t: TestContext, segmentMs: number): Promise<{ h: SegmentHistory; clock: FakeClock; disk: FaultyDisk }> {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-rollup-eq-'));
  const clock = new FakeClock(T0);
  const disk = new FaultyDisk();
  const h = await openHistory({ dataDir: dir, clock, log: memoryLog('silent').root.logger('history'), segmentMs, commitDelayMs: 0, disk });
  t.after(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { h, clock, disk };
}

/** Rows over SPAN with the clock following them (so windows close as on a gateway), plus late rows. */
async function fill(h: SegmentHistory, clock: FakeClock, rand: () => number): Promise<number> {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  let n = 0;
  let ts = T0;
  while (ts < T0 + SPAN - MIN) {
    // Gaps of up to 40 min leave empty buckets and empty segments.
    ts += rand() < 0.003 ? Math.floor(rand() * 40 * MIN) : Math.floor(rand() * 6000);
    if (rand() < 0.1) ts += 0.5;
    const data: Record<string, unknown> = {};
    if (rand() < 0.9) data.a = pick([1, 1e-9, 1e9, -3.25, 0.1, 0.7]) * (rand() - 0.3) * 1000;
    if (rand() < 0.5) data.b = pick([true, false, 'fault', 2, null, 7.5]);
    if (rand() < 0.05) data.c = Math.round(rand() * 100);
    const rows: HistoryRecord[] = [{ ts, data }];
    if (rand() < 0.05) rows.push({ ts, data: { a: rand(), b: 'tie' } }); // same ts: the later one is last
    if (ts > clock.now()) await clock.advance(ts - clock.now());
    if (rand() < 0.01 && ts - T0 > 30 * MIN) rows.push({ ts: ts - Math.floor(rand() * 30 * MIN), data: { a: 5000, b: 'late' } });
    await h.append('sig', rows);
    n += rows.length;
  }
  return n;
}

async function raw(h: SegmentHistory, keys: string[], from: number, to: number, stepMs: number): Promise<Bucketer> {
  const b = new Bucketer(keys, stepMs);
  for await (const batch of h.scan('sig', { from, to })) for (const r of batch) b.add(r);
  return b;
}

function queries(rand: () => number, count: number) {
  const steps = [12, 24, 36, 60, 120, 144, 288, 300, 600, 2592, 3600, 10, 15, 7].map((s) => s * 1000);
  const keySets = [['a'], ['b'], ['a', 'b', 'c'], ['c'], ['zzz', 'a']];
  const out: { from: number; to: number; stepMs: number; keys: string[] }[] = [];
  for (let i = 0; i < count; i++) {
    const stepMs = steps[Math.floor(rand() * steps.length)];
    let from = T0 - 5 * MIN + Math.floor(rand() * (SPAN + 10 * MIN));
    let to = from + Math.floor(rand() * (SPAN / (i % 3 === 0 ? 1 : 8)));
    // On bucket edges (and so, for many steps, on segment edges), and one ms either side.
    if (i % 4 === 1) from = Math.floor(from / stepMs) * stepMs + (i % 8 === 1 ? -1 : 0);
    if (i % 4 === 2) to = Math.floor(to / stepMs) * stepMs - (i % 8 === 2 ? 0 : 1);
    if (i % 10 === 5) to = from; // one instant
    out.push({ from, to, stepMs, keys: keySets[i % keySets.length] });
  }
  out.push({ from: T0 - 10 * MIN, to: T0 + SPAN + 10 * MIN, stepMs: 60_000, keys: ['a', 'b'] });
  out.push({ from: T0 + 2 * SPAN, to: T0 + 3 * SPAN, stepMs: 60_000, keys: ['a'] }); // no rows at all
  return out;
}

for (const segmentMs of [10 * MIN, 100_000]) {
  test(`summaries and rollups answer exactly as a scan of the rows (segments of ${segmentMs / 1000} s, random data and queries)`, async (t) => {
    const rand = mulberry32(segmentMs);
    const { h, clock } = await store(t, segmentMs);
    const written = await fill(h, clock, rand);
    assert.ok(written > 1500, `wrote ${written} rows`);
    const cache = new RollupCache(1_000_000);
    const none = new RollupCache(0);
    let buckets = 0;
    for (const q of queries(rand, 80)) {
      const want = (await raw(h, q.keys, q.from, q.to, q.stepMs)).rows(undefined);
      const what = `keys=${q.keys} from=${q.from - T0} to=${q.to - T0} step=${q.stepMs}`;
      // Cold (summaries read from disk), warm (cached rollups) and without the cache (summaries only).
      assert.deepEqual((await bucketRange(h, 'sig', q, cache)).rows(undefined), want, `cold: ${what}`);
      assert.deepEqual((await bucketRange(h, 'sig', q, cache)).rows(undefined), want, `warm: ${what}`);
      assert.deepEqual((await bucketRange(h, 'sig', q, none)).rows(undefined), want, `no cache: ${what}`);
      buckets += want.length;
    }
    assert.ok(buckets > 1000, `compared ${buckets} buckets`);
  });
}

test('a cold bucketed query over closed segments reads their sidecars, and rows only for the open segment and ragged edges', async (t) => {
  const { h, clock, disk } = await store(t, 10 * MIN);
  for (let minute = T0; minute < T0 + 60 * MIN; minute += MIN) {
    if (minute > clock.now()) await clock.advance(minute - clock.now());
    const rows: HistoryRecord[] = [];
    for (let ts = minute; ts < minute + MIN; ts += 1000) rows.push({ ts, data: { a: ts % 17 } });
    await h.append('sig', rows);
  }
  await h.flush();
  // Ask for the closed windows' sidecars to be there (written in the background as each window closed).
  for (let w = T0; w < T0 + 50 * MIN; w += 10 * MIN) assert.ok(await h.summary('sig', w));
  disk.reads.length = 0;
  const q = { from: T0 + 5 * MIN + 1, to: T0 + 60 * MIN, stepMs: 60_000, keys: ['a'] };
  const got = (await bucketRange(h, 'sig', q, new RollupCache(0))).rows('avg');
  const reads = [...disk.reads];
  assert.deepEqual(got, (await raw(h, q.keys, q.from, q.to, q.stepMs)).rows('avg'));
  assert.equal(got.length, 55);
  const segs = reads.filter((p) => p.endsWith('.seg')).map((p) => Number(p.split('/').pop()!.slice(0, -4)) - T0);
  const sums = reads.filter((p) => p.endsWith('.sum')).length;
  assert.deepEqual(segs, [0], 'rows read only from the ragged first segment (the open one is in memory)');
  // The ragged first one's sidecar is read too: its rows might all lie inside the range (they do not).
  assert.equal(sums, 5, 'the four whole closed segments come from their sidecars');
});
