// DPT 9.001 (KNX 2-byte float) as the Neasmart base uses it: known vectors, the invalid markers,
// rounding, range limits and a round trip over the whole room-temperature range.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDpt9, DPT9_INVALID, DPT9_INVALID_REHAU, DPT9_MAX, DPT9_MIN, encodeDpt9 } from '../../plugins/neasmart/dpt9001.ts';

const vectors: Array<[number, number]> = [
  [0, 0x0000],
  [0.01, 0x0001],
  [-0.01, 0x87ff],
  [20.47, 0x07ff],
  [20.48, 0x0c00], // 2048 hundredths no longer fit the mantissa: exponent 1
  [-20.48, 0x8000],
  [21.5, 0x0c33],
  [-5.5, 0x85da],
  [-30, 0x8a24],
  [100, 0x1ce2],
  [DPT9_MAX, 0x7ffe],
  [DPT9_MIN, 0xf800],
];

describe('DPT 9.001 codec', () => {
  test('known vectors encode with the smallest exponent and decode back', () => {
    for (const [value, raw] of vectors) {
      assert.equal(encodeDpt9(value), raw, `encode ${value} → 0x${raw.toString(16)}`);
      assert.equal(decodeDpt9(raw), value, `decode 0x${raw.toString(16)} → ${value}`);
    }
  });

  test('0x7FFF and 0x8116 are invalid (null), and null encodes as 0x7FFF', () => {
    assert.equal(decodeDpt9(DPT9_INVALID), null);
    assert.equal(decodeDpt9(DPT9_INVALID_REHAU), null);
    assert.equal(encodeDpt9(null), 0x7fff);
  });

  test('no number encodes to an invalid marker: -17.70 (0x8116 at exponent 0) takes exponent 1', () => {
    const raw = encodeDpt9(-17.7);
    assert.notEqual(raw, DPT9_INVALID_REHAU);
    assert.equal(raw, 0x8c8b);
    assert.equal(decodeDpt9(raw), -17.7);
  });

  test('rounds half away from zero, symmetrically for negatives', () => {
    assert.equal(decodeDpt9(encodeDpt9(21.57)), 21.58); // 1078.5 at exponent 1
    assert.equal(decodeDpt9(encodeDpt9(-21.57)), -21.58);
    assert.equal(decodeDpt9(encodeDpt9(0.005)), 0.01);
    assert.equal(decodeDpt9(encodeDpt9(-0.004)), 0);
    assert.equal(encodeDpt9(-0), 0);
  });

  test('large values lose precision as the exponent grows, within half a step', () => {
    for (const v of [1000, 12345.67, -9999.99, 300000, -600000]) {
      const back = decodeDpt9(encodeDpt9(v))!;
      const exponent = (encodeDpt9(v) >> 11) & 0x0f;
      assert.ok(Math.abs(back - v) <= 0.005 * 2 ** exponent + 1e-9, `${v} → ${back} (E=${exponent})`);
    }
  });

  test('round trip over -50..100 °C in 0.01 steps is exact', () => {
    for (let h = -5000; h <= 10000; h++) {
      const v = h / 100;
      const raw = encodeDpt9(v);
      const step = 2 ** ((raw >> 11) & 0x0f) * 0.01;
      assert.ok(Math.abs(decodeDpt9(raw)! - v) <= step / 2 + 1e-9, `${v}`);
    }
  });

  test('refuses what it cannot encode, and decodes non-words as null', () => {
    assert.throws(() => encodeDpt9(Number.NaN), RangeError);
    assert.throws(() => encodeDpt9(Infinity), RangeError);
    assert.throws(() => encodeDpt9(670760.96), /outside/); // would be 0x7FFF
    assert.throws(() => encodeDpt9(-700000), /outside/);
    assert.equal(decodeDpt9(-1), null);
    assert.equal(decodeDpt9(0x10000), null);
    assert.equal(decodeDpt9(1.5), null);
  });
});
