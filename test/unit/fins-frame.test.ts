// FINS frames byte for byte (vectors worked by hand from the header and body layout in REFERENCE.md),
// and end codes as a person reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AREA_CODES, decodeFrame, describeEndCode, encodeFrame, endCodeOf, memoryAreaBody, responseHeader, wordsToBytes } from '../../adapters/fins/frame.ts';
import { describeAddress } from '../../adapters/fins/types.ts';

const header = { icf: 0x80, rsv: 0, gct: 0x02, dna: 0, da1: 2, da2: 0, sna: 0, sa1: 1, sa2: 0, sid: 7 };

test('read D7000, 77 words: header, 01 01, area 0x82, address 0x1B58 BE, bit 0, count 0x004D', () => {
  const bytes = encodeFrame({ header, mrc: 1, src: 1, body: memoryAreaBody(AREA_CODES.DM.word, 7000, 0, 77) });
  assert.deepEqual([...bytes], [0x80, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x07, 0x01, 0x01, 0x82, 0x1b, 0x58, 0x00, 0x00, 0x4d]);
});

test('write W10 = [0x1234, 0xABCD]: 01 02, area 0xB1, count 2, data big-endian', () => {
  const body = memoryAreaBody(AREA_CODES.W.word, 10, 0, 2, wordsToBytes([0x1234, 0xabcd]));
  const bytes = encodeFrame({ header: { ...header, sid: 0xff }, mrc: 1, src: 2, body });
  assert.deepEqual([...bytes.subarray(9)], [0xff, 0x01, 0x02, 0xb1, 0x00, 0x0a, 0x00, 0x00, 0x02, 0x12, 0x34, 0xab, 0xcd]);
});

test('area codes: DM 0x82 / bit 0x02, CIO 0xB0, W 0xB1, H 0xB2, A 0xB3', () => {
  assert.deepEqual([AREA_CODES.DM.word, AREA_CODES.DM.bit, AREA_CODES.CIO.word, AREA_CODES.W.word, AREA_CODES.H.word, AREA_CODES.A.word], [0x82, 0x02, 0xb0, 0xb1, 0xb2, 0xb3]);
});

test('a response swaps source and destination, keeps the SID, and sets the response bit', () => {
  assert.deepEqual(responseHeader(header), { icf: 0xc0, rsv: 0, gct: 2, dna: 0, da1: 1, da2: 0, sna: 0, sa1: 2, sa2: 0, sid: 7 });
  const reply = Uint8Array.of(0xc0, 0, 2, 0, 1, 0, 0, 2, 0, 7, 0x01, 0x01, 0x00, 0x00, 0x12, 0x34);
  const frame = decodeFrame(reply)!;
  assert.equal(frame.header.sid, 7);
  assert.deepEqual([frame.mrc, frame.src, ...frame.body], [1, 1, 0, 0, 0x12, 0x34]);
  assert.equal(decodeFrame(reply.subarray(0, 11)), null);
});

test('end codes (bytes 12-13) mask the relay and CPU error flags and read as words', () => {
  assert.equal(endCodeOf(Uint8Array.of(0x11, 0x03)), 0x1103);
  assert.equal(endCodeOf(Uint8Array.of(0x00, 0x40)), 0x0000, 'non-fatal CPU error flag: the command still completed');
  assert.equal(endCodeOf(Uint8Array.of(0x84, 0x01)), 0x0401, 'relay error flag masked');
  assert.equal(describeEndCode(0x0000), 'normal completion');
  assert.match(describeEndCode(0x0401), /not supported/);
  assert.match(describeEndCode(0x1103), /address range error/);
  assert.match(describeEndCode(0x1104), /address range exceeded/);
  assert.match(describeEndCode(0x2002), /protected/);
  assert.match(describeEndCode(0x7777), /unknown end code \(main 0x77, sub 0x77\)/);
});

test('addresses read the Omron way in messages', () => {
  assert.equal(describeAddress('DM', 7000, 77), 'D7000..D7076');
  assert.equal(describeAddress('CIO', 100), 'CIO100');
  assert.equal(describeAddress('W', 3, 1, 4), 'W3.04');
});
