// The segment line format on its own: checksums, round trips, and line splitting across read chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32Bytes as crc32 } from '../../core/crc32.ts';
import { MemoryDisk } from '../../core/history/disk-memory.ts';
import { decodeLine, encodeRecord, parseSegmentFileName, readSegment } from '../../core/history/segment.ts';
import type { HistoryRecord } from '../../core/history/types.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(bytes('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array()), 0);
});

test('a record round-trips through its line, as JSON would store it', () => {
  const { line, stored } = encodeRecord({ ts: 1767225600123, data: { id: 0x18ff50e5, text: 'Öl °C ✓', nan: Number.NaN, gone: undefined } });
  assert.equal(line[line.length - 1], 0x0a);
  assert.deepEqual(stored, { ts: 1767225600123, data: { id: 0x18ff50e5, text: 'Öl °C ✓', nan: null } });
  assert.deepEqual(decodeLine(line.subarray(0, -1)), stored);
});

test('a flipped byte, a bad checksum or a short line decodes to null', () => {
  const { line } = encodeRecord({ ts: 1, data: { v: 1 } });
  const flipped = line.slice(0, -1);
  flipped[flipped.length - 3] ^= 0x01;
  assert.equal(decodeLine(flipped), null);
  assert.equal(decodeLine(bytes('zzzzzzzz {"ts":1,"data":{}}')), null);
  assert.equal(decodeLine(bytes('0000')), null);
});

test('readSegment splits lines across chunk boundaries and reports corrupt offsets', async () => {
  const disk = new MemoryDisk();
  await disk.mkdir('/h/s');
  const records: HistoryRecord[] = [1, 2, 3].map((i) => ({ ts: i, data: { i, pad: 'x'.repeat(i * 7) } }));
  const all = new Uint8Array([...records.flatMap((r) => [...encodeRecord(r).line]), ...bytes('junk\n'), ...encodeRecord({ ts: 4, data: {} }).line.subarray(0, 10)]);
  const file = await disk.openAppend('/h/s/0.seg');
  for (let i = 0; i < all.length; i += 5) await file.append(all.subarray(i, i + 5)); // 5-byte chunks
  const corrupt: number[] = [];
  const got: HistoryRecord[] = [];
  for await (const r of readSegment(disk, '/h/s/0.seg', all.length, (offset) => corrupt.push(offset))) got.push(r);
  assert.deepEqual(got, records);
  const junkAt = all.length - 10 - 5;
  assert.deepEqual(corrupt, [junkAt, junkAt + 5], 'the junk line and the torn tail');
  assert.deepEqual(await disk.list('/h/s'), ['0.seg']);
});

test('segment file names carry the window start and nothing else is a segment', () => {
  assert.equal(parseSegmentFileName('1767225600000.seg'), 1767225600000);
  assert.equal(parseSegmentFileName('.probe'), null);
  assert.equal(parseSegmentFileName('1767225600000.seg.tmp'), null);
});
