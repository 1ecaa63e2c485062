// What feeds two dashboard panels: the chart sampler's rows (numbers, booleans as 0/1, nothing for
// keys without a value) and the CAN frames-per-second table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartRow } from '../../plugins/http-api/chart-sampler.ts';
import { MessageRates } from '../../plugins/can-decoder/message-rates.ts';
import type { StateStore } from '../../core/store/types.ts';
import type { Dbc } from '../../adapters/can/dbc/model.ts';

test('chart sampler: numbers and booleans of the chart keys, nothing when none has a value', () => {
  const values: Record<string, unknown> = { pv: 21.5, on: true, text: 'x', nan: Number.NaN };
  const store = { get: (k: string) => values[k] } as unknown as StateStore;
  assert.deepEqual(chartRow(store, ['pv', 'on', 'text', 'nan', 'missing'], 1000), { ts: 1000, data: { pv: 21.5, on: 1 } });
  assert.equal(chartRow(store, ['text', 'missing'], 1000), null);
});

test('CAN message rates: frames per message, rate since start, then per 10 s window; error and remote frames not counted', () => {
  const dbc = { messages: [{ id: 0x101, ext: false, name: 'B_SCD30' }, { id: 0x18ff5001, ext: true, name: 'Lab' }] } as unknown as Dbc;
  const rates = new MessageRates(dbc, 0);
  assert.deepEqual(rates.rows(1000).map((r) => r.per_s), [null, null], 'no rate in the first 2 s');
  for (let t = 0; t < 10_000; t += 1000) {
    rates.seen({ id: 0x101, ext: false, data: new Uint8Array(8) } as never, t);
    rates.seen({ id: 0x101, ext: false, data: new Uint8Array(8) } as never, t + 10);
    rates.seen({ id: 0x101, ext: false, err: true, data: new Uint8Array(8) } as never, t);
  }
  assert.deepEqual(rates.rows(5000)[0], { message: 'B_SCD30', id: '0x101', frames: 20, per_s: 4, last_s_ago: 0 });
  rates.tick(10_000);
  assert.deepEqual(rates.rows(12_000).map((r) => [r.message, r.per_s, r.last_s_ago]), [['B_SCD30', 2, 3], ['Lab', 0, null]]);
});
