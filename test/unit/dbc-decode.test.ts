// The DBC parser and decoder against frames whose values were worked out by hand: Intel and
// Motorola byte order, signed values, unaligned bits, factor/offset, extended ids, multiplexed
// float32 signals, and the frames a bus really carries that must be counted and skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DbcParseError, parseDbc } from '../../adapters/can/dbc/parse.ts';
import { DbcDecoder, type DecodeResult, encodeMessage } from '../../adapters/can/dbc/decode.ts';

const DBC = `VERSION "test"

BU_: BOX GW

BO_ 291 Climate: 2 BOX
 SG_ Temp : 0|16@1- (0.01,0) [-40|125] "degC" GW

BO_ 292 Baro: 4 BOX
 SG_ Pressure : 7|16@0+ (0.1,0) [300|1100] "hPa" GW
 SG_ Nibbles : 19|12@0- (1,0) [0|0] "" GW

BO_ 293 Odd: 2 BOX
 SG_ Y : 4|12@1+ (0.5,-10) [-10|100] "%" GW

BO_ 2566868993 Lab_Temps: 4 LAB
 SG_ WaterTemp : 16|16@1- (0.01,0) [-10|100] "degC" GW

BO_ 294 Scd: 5 BOX
 SG_ Channel M : 0|8@1+ (1,0) [0|2] "" GW
 SG_ CO2 m0 : 8|32@1+ (1,0) [0|40000] "ppm" GW
 SG_ RH m2 : 8|32@1+ (1,0) [0|100] "%RH" GW

BO_ 295 Wide: 8 BOX
 SG_ D : 7|64@0+ (1,0) [0|0] "" GW

CM_ "comments are skipped";
SIG_VALTYPE_ 294 CO2 : 1;
SIG_VALTYPE_ 294 RH : 1;
SIG_VALTYPE_ 295 D : 2;
`;

const bytes = (...b: number[]) => Uint8Array.from(b);

function values(r: DecodeResult): Record<string, number> {
  assert.ok(r.ok, `expected a decoded frame, got ${JSON.stringify(r)}`);
  return r.values;
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
}

test('Intel signed 16-bit with factor: 0x092E = 23.50 and 0xFC18 = -10.00', () => {
  const d = new DbcDecoder(parseDbc(DBC));
  close(values(d.decode({ id: 291, ext: false, data: bytes(0x2e, 0x09) })).Temp, 23.5, 'positive');
  close(values(d.decode({ id: 291, ext: false, data: bytes(0x18, 0xfc) })).Temp, -10, 'negative');
});

test('Motorola: big-endian 16-bit from bit 7, and a signed 12-bit field starting mid-byte', () => {
  const d = new DbcDecoder(parseDbc(DBC));
  // Pressure: bytes 0-1 big-endian 0x278D = 10125 → 1012.5 hPa. Nibbles: MSB at bit 19 (byte 2 bit 3),
  // 12 bits = low nibble of byte 2 + byte 3 = 0xFFE → -2; the high nibble of byte 2 (0xA) is not part of it.
  const v = values(d.decode({ id: 292, ext: false, data: bytes(0x27, 0x8d, 0xaf, 0xfe) }));
  close(v.Pressure, 1012.5, 'Pressure');
  assert.equal(v.Nibbles, -2);
});

test('Intel field not on a byte boundary, with offset: bits 4..15 of 3A 12 = 0x123 → 0.5*291 - 10', () => {
  const d = new DbcDecoder(parseDbc(DBC));
  close(values(d.decode({ id: 293, ext: false, data: bytes(0x3a, 0x12) })).Y, 135.5, 'Y');
});

test('extended ids: bit 31 in BO_ marks a 29-bit id; the same number as a standard id is unknown', () => {
  const dbc = parseDbc(DBC);
  const lab = dbc.messages.find((m) => m.name === 'Lab_Temps')!;
  assert.equal(lab.ext, true);
  assert.equal(lab.id, 0x18ff5001);
  const d = new DbcDecoder(dbc);
  close(values(d.decode({ id: 0x18ff5001, ext: true, data: bytes(0, 0, 0x5e, 0x06) })).WaterTemp, 16.3, 'WaterTemp');
  assert.deepEqual(d.decode({ id: 0x123, ext: true, data: bytes(0, 0) }), { ok: false, reason: 'unknown-id' });
  assert.equal(d.counts.unknownId, 1);
});

test('simple multiplexing with float32 signals: only the signals of the active channel are decoded', () => {
  const d = new DbcDecoder(parseDbc(DBC));
  assert.deepEqual(values(d.decode({ id: 294, ext: false, data: bytes(0, 0x00, 0xc0, 0xcf, 0x43) })), { Channel: 0, CO2: 415.5 });
  assert.deepEqual(values(d.decode({ id: 294, ext: false, data: bytes(2, 0x00, 0x00, 0xaa, 0x41) })), { Channel: 2, RH: 21.25 });
  // Channel 1 has no signal in this DBC: only the multiplexor comes out.
  assert.deepEqual(values(d.decode({ id: 294, ext: false, data: bytes(1, 0, 0, 0, 0) })), { Channel: 1 });
});

test('a Motorola float64 over the whole frame', () => {
  const d = new DbcDecoder(parseDbc(DBC));
  assert.equal(values(d.decode({ id: 295, ext: false, data: bytes(0x3f, 0xf8, 0, 0, 0, 0, 0, 0) })).D, 1.5);
});

test('values outside the DBC min/max are reported; [0|0] means unspecified', () => {
  const d = new DbcDecoder(parseDbc(DBC));
  const r = d.decode({ id: 291, ext: false, data: bytes(0x10, 0x27) }); // 100.00 °C: inside [-40, 125]
  assert.ok(r.ok && r.outOfRange === null);
  const hot = d.decode({ id: 291, ext: false, data: bytes(0xff, 0x7f) }); // 327.67 °C
  assert.ok(hot.ok);
  assert.deepEqual(hot.outOfRange, ['Temp']);
});

test('wrong DLC, unknown ids, error and remote frames are counted and skipped, never thrown', () => {
  const d = new DbcDecoder(parseDbc(DBC));
  assert.deepEqual(d.decode({ id: 291, ext: false, data: bytes(1) }).ok, false);
  assert.deepEqual(d.decode({ id: 291, ext: false, data: bytes(1, 2, 3) }).ok, false);
  assert.deepEqual(d.decode({ id: 0x7ff, ext: false, data: bytes(1, 2) }).ok, false);
  assert.deepEqual(d.decode({ id: 4, ext: false, err: true, data: new Uint8Array(8) }).ok, false);
  assert.deepEqual(d.decode({ id: 291, ext: false, rtr: true, data: new Uint8Array(0) }).ok, false);
  assert.deepEqual(d.counts, { decoded: 0, unknownId: 1, wrongDlc: 2, errorFrames: 1, remote: 1 });
});

test('parse errors name the file, the line and what is expected', () => {
  assert.throws(() => parseDbc('BO_ 1 A: 2 N\n SG_ X : 8|16@1+ (1,0) [0|0] "" N\n', 'a.dbc'), (e: unknown) =>
    e instanceof DbcParseError && /^a\.dbc:2: A\.X: bits 8\|16@1 do not fit the message's 2 bytes/.test(e.message));
  assert.throws(() => parseDbc('BO_ 1 A: 2 N\n SG_ X : 0|16@1+ (1,0) [0|0 "" N\n', 'b.dbc'), /b\.dbc:2: malformed signal line/);
  assert.throws(() => parseDbc('BO_ 4096 A: 2 N\n', 'c.dbc'), /c\.dbc:1: message id 4096 is out of range/);
  assert.throws(() => parseDbc('BO_ 1 A: 8 N\n SG_ X : 0|16@1+ (1,0) [0|0] "" N\nSIG_VALTYPE_ 1 X : 1;\n'), /must be 32 bits long/);
});

test('the bundled greenhouse DBC: every message encodes and decodes back to the same values', () => {
  const dbc = parseDbc(readFileSync(new URL('../../manifests/cea.dbc', import.meta.url), 'utf8'), 'cea.dbc');
  assert.equal(dbc.messages.length, 10);
  const d = new DbcDecoder(dbc);
  const back = dbc.messages.find((m) => m.name === 'FlowerBack_Env')!;
  const data = encodeMessage(back, { Pressure: 1013.2, SecondaryTemp: -4.25, SecondaryRH: 61.5, VPD: 1.234 });
  // Motorola: big-endian words, so the pressure 10132 = 0x2794 leads the frame.
  assert.deepEqual([...data.slice(0, 4)], [0x27, 0x94, 0xfe, 0x57]);
  const v = values(d.decode({ id: back.id, ext: false, data }));
  close(v.Pressure, 1013.2, 'Pressure');
  close(v.SecondaryTemp, -4.25, 'SecondaryTemp');
  close(v.SecondaryRH, 61.5, 'SecondaryRH');
  close(v.VPD, 1.234, 'VPD');
  const scd = dbc.messages.find((m) => m.name === 'Veg_SCD30')!;
  const co2 = values(d.decode({ id: scd.id, ext: false, data: encodeMessage(scd, { Channel: 0, CO2: 812.5 }) }));
  assert.deepEqual(co2, { Channel: 0, CO2: 812.5 });
});
