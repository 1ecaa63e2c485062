// GET /api/history over a real history store in a temp dir: buckets checked against rows written
// here (edges, late rows), raw paging, CSV parsed back, and every refusal a user can provoke.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHistoryApi, type HistoryApi } from './history-api-fixture.ts';

/** RFC 4180 reader, independent of the writer: quoted fields, doubled quotes, CRLF inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\r' && text[i + 1] === '\n') {
      endField();
      rows.push(row);
      row = [];
      i++;
    } else field += c;
  }
  if (field !== '' || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}

type Rows = { rows: Array<Record<string, unknown>>; next?: string | null };

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0); // a bucket boundary for any step dividing a day
const S0 = T0 / 1000;

describe('history API', () => {
  let api: HistoryApi;
  before(async () => {
    api = await startHistoryApi({ history: { maxBuckets: 100, maxLimit: 1000, rollupCacheCells: 10000 } });
    const h = api.runtime.history;
    // Bucket [S0, S0+10): rows at the edge, inside, and just before the next edge.
    await h.append('signaldatas', [
      { ts: T0, data: { machine: 'm1', sensor: 't', value: 5, unit: '°C' } },
      { ts: T0 + 4000, data: { machine: 'm1', sensor: 't', value: 1, unit: '°C' } },
      { ts: T0 + 9999, data: { machine: 'm1', sensor: 't', value: 9, unit: '°C' } },
      // Exactly on the next boundary: belongs to [S0+10, S0+20).
      { ts: T0 + 10000, data: { machine: 'm1', sensor: 't', value: 100, unit: '°C' } },
      { ts: T0 + 15000, data: { machine: 'm2', sensor: 't', value: 7, unit: '°C' } },
      // Second hour (another segment file).
      { ts: T0 + 3_600_000, data: { machine: 'm1', sensor: 't', value: 3, unit: '°C' } },
    ], { durable: true });
    // A late row appended after the rest but earlier in time: `last` must go by ts, not by arrival.
    await h.append('signaldatas', [{ ts: T0 + 2000, data: { machine: 'm1', sensor: 't', value: 50, unit: '°C' } }], { durable: true });
    await h.append('can_messages', [
      { ts: T0, data: { can_id: '0x101', message_type: 'Psychro', dlc: 4, raw_data: 'AA FF', decoded_data: '{"t":21.5,"note":"a, \\"b\\"\\nc"}' } },
    ], { durable: true });
  });
  after(() => api?.stop());

  test('GET /api/history lists every series with its span and fields', async () => {
    const body = await api.getJson<{ series: Array<{ name: string; oldest: number; newest: number; fields: Array<{ name: string; types: string[] }> }> }>('/api/history');
    assert.deepEqual(body.series.map((s) => s.name), ['can_messages', 'signaldatas']);
    const sig = body.series.find((s) => s.name === 'signaldatas')!;
    assert.equal(sig.oldest, S0);
    assert.equal(sig.newest, S0 + 3600);
    assert.deepEqual(sig.fields, [
      { name: 'machine', types: ['string'] }, { name: 'sensor', types: ['string'] }, { name: 'unit', types: ['string'] }, { name: 'value', types: ['number'] },
    ]);
  });

  test('buckets: a row on a boundary belongs to the later bucket; min/max/avg/last per bucket', async () => {
    const body = await api.getJson<Rows & { step: number }>(`/api/history/signaldatas?keys=value&from=${S0}&to=${S0 + 29}&step=10`);
    assert.equal(body.step, 10);
    assert.deepEqual(body.rows, [
      { ts: S0, time: '2026-01-01T00:00:00.000Z', value_min: 1, value_max: 50, value_avg: (5 + 1 + 9 + 50) / 4, value_last: 9, value_count: 4 },
      { ts: S0 + 10, time: '2026-01-01T00:00:10.000Z', value_min: 7, value_max: 100, value_avg: 53.5, value_last: 7, value_count: 2 },
    ]);
    for (const [agg, want] of [['avg', [16.25, 53.5]], ['min', [1, 7]], ['max', [50, 100]], ['last', [9, 7]]] as const) {
      const r = await api.getJson<Rows>(`/api/history/signaldatas?keys=value&from=${S0}&to=${S0 + 29}&step=10&agg=${agg}`);
      assert.deepEqual(r.rows.map((x) => x.value), want, agg);
      assert.deepEqual(Object.keys(r.rows[0]!), ['ts', 'time', 'value'], agg);
    }
  });

  test('from/to are inclusive, accept ISO-8601, and where= filters rows', async () => {
    const iso = await api.getJson<Rows>('/api/history/signaldatas?keys=value&from=2026-01-01T00:00:10Z&to=2026-01-01T00:00:15Z&step=10s&agg=max');
    assert.deepEqual(iso.rows.map((r) => [r.ts, r.value]), [[S0 + 10, 100]]);
    const m2 = await api.getJson<Rows>(`/api/history/signaldatas?keys=value&from=${S0}&to=${S0 + 3600}&step=1h&agg=avg&where=machine:m1`);
    assert.deepEqual(m2.rows.map((r) => [r.ts, r.value]), [[S0, (5 + 1 + 9 + 50 + 100) / 5], [S0 + 3600, 3]]);
  });

  test('an empty range is an empty list, bucketed or raw, JSON or CSV', async () => {
    // Only `to`, before the oldest row: from defaults to it, not to the oldest row (which would be after to).
    assert.deepEqual((await api.getJson<Rows>(`/api/history/signaldatas?keys=value&to=${S0 - 1}`)).rows, []);
    const q = `from=${S0 - 500}&to=${S0 - 1}`;
    assert.deepEqual((await api.getJson<Rows>(`/api/history/signaldatas?keys=value&${q}&step=10`)).rows, []);
    assert.deepEqual(await api.getJson<Rows>(`/api/history/signaldatas?keys=value&${q}`), { series: 'signaldatas', from: S0 - 500, to: S0 - 1, keys: ['value'], rows: [], next: null });
    const csv = await api.get(`/api/history/signaldatas?keys=value&${q}&step=10&agg=avg&format=csv`);
    assert.equal(csv.status, 200);
    assert.equal(await csv.text(), 'ts,time,value\r\n');
  });

  test('refusals: from > to, unknown series, unknown key, too many buckets, bad times', async () => {
    const cases: Array<[string, number, RegExp]> = [
      [`/api/history/signaldatas?from=${S0 + 10}&to=${S0}`, 400, /from .* is after to/],
      ['/api/history/nosuch', 404, /no history series "nosuch"; known: can_messages, signaldatas/],
      ['/api/history/signaldatas?keys=value,bogus&step=10', 400, /unknown key\(s\) bogus .*known: machine, sensor, unit, value/],
      [`/api/history/signaldatas?from=${S0}&to=${S0 + 3600}&step=1`, 400, /3601 buckets, more than the maximum of 100: use step>=37/],
      ['/api/history/signaldatas?from=yesterday', 400, /from="yesterday" is not a time/],
      ['/api/history/signaldatas?agg=avg', 400, /agg needs step/],
      ['/api/history/signaldatas?step=0', 400, /step="0" is not a bucket width/],
      ['/api/history/signaldatas?step=5x', 400, /step="5x" is not a bucket width/],
      ['/api/history/signaldatas?after=xyz', 400, /not a cursor/],
    ];
    for (const [path, status, message] of cases) {
      const r = await api.get(path);
      assert.equal(r.status, status, path);
      assert.match(((await r.json()) as { message: string }).message, message, path);
    }
    // The step the refusal suggests is accepted.
    assert.equal((await api.get(`/api/history/signaldatas?from=${S0}&to=${S0 + 3600}&step=37`)).status, 200);
  });

  test('CSV has a header row and quotes commas, quotes and line breaks', async () => {
    const r = await api.get(`/api/history/can_messages?keys=can_id,decoded_data,dlc&from=${S0}&to=${S0}&format=csv`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
    const rows = parseCsv(await r.text());
    assert.deepEqual(rows, [
      ['ts', 'time', 'can_id', 'decoded_data', 'dlc'],
      [String(S0), '2026-01-01T00:00:00.000Z', '0x101', '{"t":21.5,"note":"a, \\"b\\"\\nc"}', '4'],
    ]);
    const b = parseCsv(await (await api.get(`/api/history/signaldatas?keys=value&from=${S0}&to=${S0 + 19}&step=10&format=csv`)).text());
    assert.deepEqual(b[0], ['ts', 'time', 'value_min', 'value_max', 'value_avg', 'value_last', 'value_count']);
    assert.deepEqual(b.slice(1).map((row) => row.map(String)), [
      [String(S0), '2026-01-01T00:00:00.000Z', '1', '50', '16.25', '9', '4'],
      [String(S0 + 10), '2026-01-01T00:00:10.000Z', '7', '100', '53.5', '7', '2'],
    ]);
  });

  test('raw paging returns every row exactly once, also across equal timestamps', async () => {
    // 3 rows per timestamp so page edges fall between rows sharing a ts.
    const rows = Array.from({ length: 60 }, (_, i) => ({ ts: T0 + Math.floor(i / 3) * 1000, data: { id: i, v: i * 0.5 } }));
    await api.runtime.history.append('paged', rows, { durable: true });
    for (const format of ['json', 'csv'] as const) {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await api.get(`/api/history/paged?from=${S0}&to=${S0 + 100}&limit=7&format=${format}${cursor ? `&after=${cursor}` : ''}`);
        assert.equal(r.status, 200);
        if (format === 'json') {
          const body = (await r.json()) as Rows;
          seen.push(...body.rows.map((x) => x.id as number));
          cursor = body.next ?? null;
        } else {
          const csv = parseCsv(await r.text());
          assert.deepEqual(csv[0], ['ts', 'time', 'id', 'v']);
          seen.push(...csv.slice(1).map((x) => Number(x[2])));
          cursor = r.headers.get('x-next-cursor');
        }
        assert.ok(++pages < 20, 'paging ends');
      } while (cursor);
      assert.deepEqual(seen, rows.map((r) => r.data.id), format);
    }
  });

  test('cached per-segment rollups give the same answer and follow late rows', async () => {
    const h = api.runtime.history;
    const rows = Array.from({ length: 3 * 3600 }, (_, i) => ({ ts: T0 + i * 1000, data: { v: i % 7 } }));
    await h.append('rolled', rows, { durable: true });
    const path = `/api/history/rolled?keys=v&from=${S0}&to=${S0 + 3 * 3600 - 1}&step=1200`;
    const want = Array.from({ length: 9 }, (_, b) => {
      const vs = rows.slice(b * 1200, (b + 1) * 1200).map((r) => r.data.v);
      return { ts: S0 + b * 1200, min: Math.min(...vs), max: Math.max(...vs), sum: vs.reduce((a, x) => a + x, 0), n: vs.length, last: vs[vs.length - 1] };
    });
    const check = (got: Array<Record<string, unknown>>, label: string) => {
      assert.deepEqual(got.map((r) => [r.ts, r.v_min, r.v_max, r.v_count, r.v_last]), want.map((w) => [w.ts, w.min, w.max, w.n, w.last]), label);
      got.forEach((r, i) => assert.ok(Math.abs((r.v_avg as number) - want[i]!.sum / want[i]!.n) < 1e-9, label));
    };
    check((await api.getJson<Rows>(path)).rows, 'first answer (builds the rollups)');
    check((await api.getJson<Rows>(path)).rows, 'second answer (from the rollups)');
    // A late row into the first, already rolled-up hour must show at once.
    await h.append('rolled', [{ ts: T0 + 5000, data: { v: 1000 } }], { durable: true });
    want[0]!.max = 1000;
    want[0]!.n++;
    want[0]!.sum += 1000;
    check((await api.getJson<Rows>(path)).rows, 'after a late row');
  });

  test('rows of the open segment count, on disk or still waiting for their commit', async () => {
    const now = Math.floor(Date.now() / 10_000) * 10_000 - 20_000; // a bucket start in the open hour (or just before)
    const h = api.runtime.history;
    await h.append('live', [{ ts: now, data: { v: 1 } }, { ts: now + 1000, data: { v: 3 } }], { durable: true });
    void h.append('live', [{ ts: now + 2000, data: { v: 5 } }], { durable: false }); // not yet committed
    const body = await api.getJson<Rows>(`/api/history/live?keys=v&from=${now / 1000}&to=${now / 1000 + 9}&step=10&agg=avg`);
    assert.deepEqual(body.rows.map((r) => [r.ts, r.v]), [[now / 1000, 3]]);
    const raw = await api.getJson<Rows>(`/api/history/live?keys=v&from=${now / 1000}`);
    assert.deepEqual(raw.rows.map((r) => r.v), [1, 3, 5]);
  });

  test('many answers at once all arrive, and match one answer alone', async () => {
    const path = `/api/history/signaldatas?keys=value&from=${S0}&to=${S0 + 3600}&step=37`;
    const alone = await api.getJson<Rows>(path);
    const together = await Promise.all(Array.from({ length: 6 }, () => api.getJson<Rows>(path)));
    for (const body of together) assert.deepEqual(body.rows, alone.rows);
  });

  test('with requireKeyForReads the history routes need the key', async () => {
    const locked = await startHistoryApi({ apiKey: 'history-key-0123456789', requireKeyForReads: true });
    try {
      assert.equal((await locked.get('/api/history')).status, 401);
      assert.equal((await fetch(`${locked.base}/api/history`, { headers: { 'x-api-key': 'history-key-0123456789' } })).status, 200);
      await locked.runtime.history.append('s', [{ ts: T0, data: { v: 1 } }], { durable: true });
      assert.equal((await locked.get(`/api/history/s?from=${S0}`)).status, 401);
      const r = await fetch(`${locked.base}/api/history/s?from=${S0}`, { headers: { 'x-api-key': 'history-key-0123456789' } });
      assert.deepEqual(((await r.json()) as Rows).rows, [{ ts: S0, time: '2026-01-01T00:00:00.000Z', v: 1 }]);
    } finally {
      await locked.stop();
    }
  });

  test('the routes are in the OpenAPI document', async () => {
    const doc = await api.getJson<{ paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> }>('/openapi.json');
    assert.ok(doc.paths['/api/history']?.get);
    const names = doc.paths['/api/history/{series}']?.get?.parameters?.map((p) => p.name) ?? [];
    for (const n of ['series', 'keys', 'from', 'to', 'step', 'agg', 'limit', 'after', 'format']) assert.ok(names.includes(n), n);
  });
});
