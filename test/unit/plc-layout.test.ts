// The batch <-> D-memory codec of the mixing PLC (layout of the real middleware's MASTER_BATCH_REFERENCE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BATCH_WORDS, batchAddress, batchAt, decodeAscii, decodeBatch, decodeScaled, encodeAscii, encodeBatch, encodeScaled, OFFSET, PlcLayoutError,
} from '../../plugins/odoo-sync/plc-layout.ts';

test('batch n sits at D7000 + 100(n-1)', () => {
  assert.equal(batchAddress(1), 7000);
  assert.equal(batchAddress(2), 7100);
  assert.equal(batchAddress(30), 9900);
  assert.equal(batchAt(7176), 2);
  assert.equal(batchAt(7180), 0, 'past the used words of a block');
  assert.throws(() => batchAddress(0), PlcLayoutError);
});

test('ASCII: two characters per word, first in the high byte, NUL padded', () => {
  const words = encodeAscii('WH/MO/00002', 8);
  assert.deepEqual(words.slice(0, 6), [0x5748, 0x2f4d, 0x4f2f, 0x3030, 0x3030, 0x3200]);
  assert.deepEqual(words.slice(6), [0, 0]);
  assert.equal(decodeAscii(words), 'WH/MO/00002');
  assert.throws(() => encodeAscii('WH/MO/000000000002', 8, { field: 'moId' }), /moId: .* is 18 characters; the PLC field holds 16/);
  assert.equal(decodeAscii(encodeAscii('JF SUPER 2A 25 EXTRA', 8, { truncate: true })), 'JF SUPER 2A 25 E');
  assert.throws(() => encodeAscii('Pâte', 8), /outside printable ASCII/);
});

test('REAL as int x100 in two words, high word first', () => {
  assert.deepEqual(encodeScaled(144.15), [0, 14415]);
  assert.deepEqual(encodeScaled(20000), [0x001e, 0x8480], '2 000 000 = 0x001E8480');
  assert.equal(decodeScaled(0x001e, 0x8480), 20000);
  assert.deepEqual(encodeScaled(0.1 + 0.2), [0, 30], 'rounded to hundredths');
  assert.throws(() => encodeScaled(-1, 'quantity'), /quantity: -1 is negative/);
  assert.throws(() => encodeScaled(43_000_000, 'quantity'), /quantity: .* too large/);
  assert.throws(() => encodeScaled(Number.NaN), /not a number/);
});

test('a batch round-trips through its block, silos 101..115 at +27 + 3i', () => {
  const batch = { batchNo: 3, moId: 'WH/MO/00002', bomCode: 'JF SUPER 2A 25', finishedGoods: 'JF SUPER 2A 25', quantity: 20000, consumption: { 101: 144.15, 103: 200.45, 115: 0.2 } };
  const words = encodeBatch(batch);
  assert.equal(words.length, BATCH_WORDS);
  assert.equal(words[0], 3);
  assert.deepEqual(words.slice(27, 30), [101, 0, 14415]);
  assert.deepEqual(words.slice(33, 36), [103, 0, 20045]);
  assert.deepEqual(words.slice(69, 72), [115, 0, 20]);
  assert.equal(words[OFFSET.statusManufacturing], 0);
  const back = decodeBatch(words);
  assert.deepEqual({ ...back, finished: undefined, failed: undefined, weightFinished: undefined, readAcknowledged: undefined }, { ...batch, finished: undefined, failed: undefined, weightFinished: undefined, readAcknowledged: undefined });
  assert.equal(back.finished, false);
});

test('a batch the PLC would misread is refused with the field named', () => {
  const ok = { batchNo: 1, moId: 'MO1', bomCode: '', finishedGoods: '', quantity: 1, consumption: {} };
  assert.throws(() => encodeBatch({ ...ok, consumption: { 116: 1 } }), /batch 1: silo 116 has no place/);
  assert.throws(() => encodeBatch({ ...ok, consumption: { 102: -5 } }), /batch 1 silo 102 consumption: -5 is negative/);
  assert.throws(() => encodeBatch({ ...ok, quantity: 1e9 }), /batch 1 quantity: .* too large/);
});
