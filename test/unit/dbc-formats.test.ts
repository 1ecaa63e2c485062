// DBC files as the editors users have write them: CANdb++'s NS_ block and independent-signal
// pseudo message, Windows-1252 text, attributes with defaults, value tables, extended multiplexing;
// and the files that must be refused with the line: syntax errors, empty and binary files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDbc } from '../../adapters/can/dbc/parse.ts';
import { DbcDecoder, encodeMessage } from '../../adapters/can/dbc/decode.ts';
import { loadDbc } from '../../adapters/can/dbc/load.ts';
import { validateDecoderConfig } from '../../plugins/can-decoder/plugin.ts';

// The header and trailer CANdb++ writes (abridged), around one message.
const CANDB = `VERSION ""


NS_ : 
\tNS_DESC_
\tCM_
\tBA_DEF_
\tBA_
\tVAL_
\tCAT_DEF_
\tCAT_
\tFILTER
\tBA_DEF_DEF_
\tEV_DATA_
\tENVVAR_DATA_
\tSGTYPE_
\tSGTYPE_VAL_
\tBA_DEF_SGTYPE_
\tBA_SGTYPE_
\tSIG_TYPE_REF_
\tVAL_TABLE_
\tSIG_GROUP_
\tSIG_VALTYPE_
\tSIGTYPE_VALTYPE_
\tBO_TX_BU_
\tBA_DEF_REL_
\tBA_REL_
\tBA_DEF_DEF_REL_
\tBU_SG_REL_
\tBU_EV_REL_
\tBU_BO_REL_
\tSG_MUL_VAL_

BS_:

BU_: Box Gateway
VAL_TABLE_ HeaterState 3 "Fault" 2 "Cooling" 1 "Heating" 0 "Off" ;


BO_ 256 Climate: 8 Box
 SG_ Mode : 0|2@1+ (1,0) [0|3] "" Gateway
 SG_ Temp : 8|16@1- (0.1,0) [-40|125] "\xB0C" Gateway

BO_ 2147484160 Ext: 8 Box
 SG_ Page M : 0|4@1+ (1,0) [0|15] "" Gateway
 SG_ Sub m1M : 4|4@1+ (1,0) [0|15] "" Gateway
 SG_ A m2 : 8|8@1+ (1,0) [0|255] "" Gateway
 SG_ B m3 : 8|8@1+ (1,0) [0|255] "" Gateway

BO_ 3221225472 VECTOR__INDEPENDENT_SIG_MSG: 0 Vector__XXX
 SG_ Orphan : 0|8@1+ (1,0) [0|0] "" Vector__XXX

BO_TX_BU_ 256 : Box,Gateway;

EV_ Env1: 0 [0|0] "" 0 1 DUMMY_NODE_VECTOR0 Vector__XXX;

CM_ BO_ 256 "Climate frame
from the box";
BA_DEF_ BO_  "GenMsgCycleTime" INT 0 65535;
BA_DEF_ BO_  "GenMsgSendType" ENUM  "Cyclic","NotUsed","IfActive";
BA_DEF_  "BusType" STRING ;
BA_DEF_DEF_  "GenMsgCycleTime" 1000;
BA_DEF_DEF_  "GenMsgSendType" "Cyclic";
BA_DEF_DEF_  "BusType" "CAN";
BA_ "BusType" "CAN";
BA_ "GenMsgCycleTime" BO_ 256 100;
BA_ "GenMsgSendType" BO_ 256 2;
VAL_ 256 Mode 3 "Fault" 2 "Cooling" 1 "Heating" 0 "Off" ;
SG_MUL_VAL_ 2147484160 Sub Page 1-1;
SG_MUL_VAL_ 2147484160 A Sub 2-2;
SG_MUL_VAL_ 2147484160 B Sub 3-3;

`;

function tempFile(name: string, content: string | Uint8Array): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fg-dbc-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a CANdb++ file: NS_ block, VECTOR__INDEPENDENT_SIG_MSG ignored, Windows-1252 units, attributes and defaults', async () => {
  const f = tempFile('candb.dbc', Uint8Array.from(CANDB, (c) => c.charCodeAt(0)));
  try {
    const { dbc } = await loadDbc(f.path);
    assert.deepEqual(dbc.messages.map((m) => m.name), ['Climate', 'Ext']);
    const climate = dbc.messages[0];
    assert.equal(climate.signals[1].unit, '°C');
    assert.equal(climate.cycleTimeMs, 100);
    assert.equal(climate.attributes.GenMsgSendType, 'IfActive', 'ENUM index → name');
    assert.equal(dbc.messages[1].cycleTimeMs, 1000, 'BA_DEF_DEF_ default');
    assert.equal(climate.comment, 'Climate frame\nfrom the box');
    assert.equal(dbc.valueTables.get('HeaterState')!.get(1), 'Heating');
    const d = new DbcDecoder(dbc);
    const r = d.decode({ id: 256, ext: false, data: Uint8Array.from([2, 0xeb, 0x00, 0, 0, 0, 0, 0]) });
    assert.ok(r.ok);
    assert.deepEqual(r.values, { Mode: 2, Temp: 23.5 });
    assert.deepEqual(r.labels, { Mode: 'Cooling' }, 'the label, the number kept in values');
  } finally {
    f.done();
  }
});

test('extended multiplexing: a signal is decoded only when its whole switch chain selects it', () => {
  const dbc = parseDbc(CANDB.replace(/\xB0/g, ''));
  const ext = dbc.messages[1];
  const d = new DbcDecoder(dbc);
  const dec = (b0: number, b1: number) => {
    const r = d.decode({ id: 0x200, ext: true, data: Uint8Array.from([b0, b1, 0, 0, 0, 0, 0, 0]) });
    assert.ok(r.ok);
    return r.values;
  };
  assert.deepEqual(dec(0x21, 7), { Page: 1, Sub: 2, A: 7 });
  assert.deepEqual(dec(0x31, 9), { Page: 1, Sub: 3, B: 9 });
  assert.deepEqual(dec(0x32, 9), { Page: 2 }, 'Sub is present only on page 1, and so are A and B');
  assert.deepEqual(Array.from(encodeMessage(ext, { Page: 1, Sub: 3, A: 5, B: 6 })).slice(0, 2), [0x31, 6], 'encode writes only the selected signals');
});

test('real syntax errors name the file and line; empty and binary files are errors', async () => {
  assert.throws(() => parseDbc('VERSION ""\n\nBO_ 1 A: 8 N\n SG_ X : 0|8@1+ (1,0) [0|0] "" N\n\nCM_ BO_ 1 "never closed;\n', 'a.dbc'), /^DbcParseError: a\.dbc:6: string not terminated/);
  assert.throws(() => parseDbc('BO_ 1 A: 8 N\n SG_ X : 0|8@1+ (1,0) [0|0] "" N\nVAL_ 1 X 0 "Off" 1 "On"\nBA_DEF_ BO_ "GenMsgCycleTime" INT 0 1000;\n', 'b.dbc'), /b\.dbc:4: VAL_ statement of line 3: expected ";"/);
  assert.throws(() => parseDbc('BO_ 1 A: 8 N\n SG_ X : 0|8@2+ (1,0) [0|0] "" N\n', 'c.dbc'), /c\.dbc:2: .*byte order must be @0 \(Motorola\) or @1 \(Intel\)/);
  assert.throws(() => parseDbc('BO_ 1 A: 8 N\nFOO_BAR 1 2;\n', 'd.dbc'), /d\.dbc:2: unknown statement "FOO_BAR"/);
  assert.throws(() => parseDbc('BO_ 1 A: 8 N\nSG_MUL_VAL_ 1 X Y 1-1;\n', 'e.dbc'), /e\.dbc:2: SG_MUL_VAL_ names A\.X, which is not defined/);
  assert.throws(() => parseDbc('VERSION ""\nBO_ 1 A: 8 N\n SG_ P M : 0|4@1+ (1,0) [0|0] "" N\n SG_ Q m1M : 4|4@1+ (1,0) [0|0] "" N\n SG_ X m2 : 8|8@1+ (1,0) [0|0] "" N\n', 'h.dbc'),
    /h\.dbc:2: message A: signal X \(m2\) could belong to P or Q; extended multiplexing needs an SG_MUL_VAL_ line/);
  assert.throws(() => parseDbc('\n  \n', 'f.dbc'), /f\.dbc:1: the file is empty/);
  assert.throws(() => parseDbc('VERSION "x"\nNS_ :\nBS_:\nBU_: A\n', 'g.dbc'), /g\.dbc:1: no messages \(BO_\) defined/);
  const bin = tempFile('bin.dbc', Uint8Array.from([0x42, 0x4f, 0x5f, 0x20, 0x00, 0x01, 0xff, 0x10]));
  try {
    await assert.rejects(loadDbc(bin.path), /bin\.dbc:1: not a DBC text file: binary byte 0x00 at offset 4/);
  } finally {
    bin.done();
  }
});

test('fieldgate validate reports a DBC that does not parse, and sensors naming nothing in it', () => {
  const bad = tempFile('bad.dbc', 'BO_ 1 A: 8 N\n SG_ X : 0|8@1+ (1,0) [0|0 "" N\n');
  const good = tempFile('good.dbc', CANDB.replace(/\xB0/g, ''));
  try {
    const base = { sensors: [], ttlS: 10, sweepMs: 1000, liveFlushMs: 100, publish: true, history: { enabled: true, series: 'can_messages', batchSize: 1, flushMs: 1 } };
    assert.match(validateDecoderConfig({ ...base, dbc: bad.path }).join('\n'), /^dbc: .*bad\.dbc:2: malformed signal line/);
    assert.deepEqual(validateDecoderConfig({ ...base, dbc: good.path }), []);
    const issues = validateDecoderConfig({ ...base, dbc: good.path, sensors: [{ name: 't', message: 'Climate', signal: 'Nope', gain: 1, offset: 0 }] });
    assert.match(issues.join('\n'), /message Climate has no signal "Nope"/);
  } finally {
    bad.done();
    good.done();
  }
});
