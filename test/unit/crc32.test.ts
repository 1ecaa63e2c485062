// CRC-32 of journal lines, segment lines and summary sidecars: the table code (slicing-by-8, used for
// short inputs and where node:zlib has no crc32) and the dispatching crc32Bytes agree with zlib.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { crc32Bytes, crc32String, crc32Table } from '../../core/crc32.ts';
import { mulberry32 } from '../../sim/seeded-random.ts';

const zcrc = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;

test('known values: "123456789" is 0xcbf43926, empty is 0', () => {
  const b = new TextEncoder().encode('123456789');
  assert.equal(crc32Table(b), 0xcbf43926);
  assert.equal(crc32Bytes(b), 0xcbf43926);
  assert.equal(crc32String('123456789'), 0xcbf43926);
  assert.equal(crc32Bytes(new Uint8Array(0)), 0);
});

test('table and dispatching code agree with zlib on random lengths and offsets, short and long', { skip: zcrc ? false : 'node:zlib has no crc32 here' }, () => {
  const rand = mulberry32(7);
  for (let i = 0; i < 300; i++) {
    const len = i < 200 ? Math.floor(rand() * 300) : Math.floor(rand() * 100_000);
    const b = new Uint8Array(len);
    for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
    const start = Math.floor(rand() * (len + 1));
    const end = start + Math.floor(rand() * (len - start + 1));
    const want = zcrc!(b.subarray(start, end)) >>> 0;
    assert.equal(crc32Table(b, start, end), want, `table, ${start}..${end} of ${len}`);
    assert.equal(crc32Bytes(b, start, end), want, `bytes, ${start}..${end} of ${len}`);
  }
});
