// A CAN bus simulated from a DBC alone (sim/dbc-traffic.ts) decoded by the can-decoder plugin on
// fake time: every message at its GenMsgCycleTime, values inside [min|max], every multiplexer page
// and enum label; a message that stops for 3 cycle times is reported missing in health and the log.
// And a python-can style log replayed: remote frames and dropped lines in health and metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import canAdapter from '../../adapters/can/adapter.ts';
import decoderPlugin from '../../plugins/can-decoder/plugin.ts';
import type { CanSignalMessage } from '../../plugins/can-decoder/pipeline.ts';
import type { DbcTrafficSim } from '../../sim/dbc-traffic.ts';
import { testManifest } from '../helpers/manifest.ts';
import { eventually } from '../helpers/eventually.ts';

const DBC = `VERSION "user bus"

NS_ :
\tCM_
\tBA_DEF_
\tVAL_
\tSG_MUL_VAL_

BS_:

BU_: ECU GW

BO_ 256 Fast: 8 ECU
 SG_ Speed : 0|16@1+ (0.01,0) [0|250] "km/h" GW
 SG_ Gear : 16|3@1+ (1,0) [0|7] "" GW
 SG_ Torque : 31|16@0- (0.1,-100) [-500|500] "Nm" GW

BO_ 2147484416 Paged: 8 ECU
 SG_ Page M : 0|4@1+ (1,0) [0|15] "" GW
 SG_ Sub m1M : 4|4@1+ (1,0) [0|15] "" GW
 SG_ A m2 : 8|16@1- (0.1,0) [-100|100] "" GW
 SG_ B m3 : 8|8@1+ (1,0) [0|200] "" GW
 SG_ C m5 : 8|8@1+ (1,0) [10|20] "" GW

BO_ 512 Slow: 2 ECU
 SG_ Level : 0|16@1+ (1,0) [0|0] "" GW

BA_DEF_ BO_ "GenMsgCycleTime" INT 0 10000;
BA_DEF_DEF_ "GenMsgCycleTime" 0;
BA_ "GenMsgCycleTime" BO_ 256 100;
BA_ "GenMsgCycleTime" BO_ 2147484416 250;
VAL_ 256 Gear 0 "P" 1 "R" 2 "N" 3 "D";
SG_MUL_VAL_ 2147484416 Sub Page 1-1;
SG_MUL_VAL_ 2147484416 A Sub 2-2;
SG_MUL_VAL_ 2147484416 B Sub 3-4;
SG_MUL_VAL_ 2147484416 C Page 5-5;
`;

let logLines: Array<Record<string, unknown>> = [];

async function start(dir: string, canOptions: Record<string, unknown>, clock: FakeClock): Promise<Runtime> {
  const dbc = join(dir, 'user.dbc');
  writeFileSync(dbc, DBC);
  const { root, lines } = memoryLog('info');
  const manifest = testManifest(
    [{ id: 'decoder', use: 'can-decoder', adapters: { can: 'canbus' }, config: { dbc, sensors: [{ name: 'speed', message: 'Fast', signal: 'Speed' }], history: { enabled: false } } }],
    { adapters: [{ id: 'canbus', kind: 'can', driver: 'sim', options: { source: 'socketcan', interface: 'can0', replay: { path: '', speed: 'max', timestamps: 'log' }, sim: { periodMs: 1000, timeScale: 1, seed: 7, dbc, defaultCycleMs: 1000 }, ...canOptions } }] },
  );
  const runtime = await createRuntime({ manifest, plugins: [decoderPlugin], adapters: [canAdapter], logRoot: root, dataDir: null, sim: true, clock });
  logLines = lines as Array<Record<string, unknown>>;
  await runtime.start();
  return runtime;
}

test('a user DBC simulated alone: every message at its cycle time, values in range, every page and label', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-dbc-sim-'));
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 12));
  const runtime = await start(dir, {}, clock);
  try {
    const got: CanSignalMessage[] = [];
    runtime.bus.subscribe<CanSignalMessage>('can/signal', (m) => {
      got.push(m);
    });
    await clock.advance(2000);
    const count = (name: string) => got.filter((m) => m.message === name).length;
    assert.equal(count('Fast'), 20, '100 ms cycle');
    assert.equal(count('Paged'), 8, '250 ms cycle');
    assert.equal(count('Slow'), 2, 'no cycle time: the 1000 ms default');
    for (const m of got.filter((x) => x.message === 'Fast')) {
      assert.ok(m.values.Speed >= 0 && m.values.Speed <= 250, `Speed ${m.values.Speed}`);
      assert.ok(m.values.Torque >= -500 && m.values.Torque <= 500, `Torque ${m.values.Torque}`);
    }
    assert.ok(got.some((m) => m.labels?.Gear === 'P'));
    await clock.advance(10_000);
    assert.deepEqual([...new Set(got.filter((m) => m.message === 'Fast').map((m) => m.labels!.Gear))].sort(), ['D', 'N', 'P', 'R'], 'every label');
    const paged = got.filter((m) => m.message === 'Paged').map((m) => Object.keys(m.values).sort().join(','));
    for (const set of ['A,Page,Sub', 'B,Page,Sub', 'C,Page']) assert.ok(paged.includes(set), `page ${set} seen (${[...new Set(paged)].join(' | ')})`);
    for (const m of got.filter((x) => x.message === 'Paged' && 'C' in x.values)) assert.ok(m.values.C >= 10 && m.values.C <= 20);
    assert.ok(Number(runtime.store.get('sensor:speed')) >= 0);
    assert.match(await runtime.metrics.text(), /can_frames_total\{plugin="decoder",outcome="decoded"\} \d{2,}/);

    // Fast stops: after 3 cycle times (and the next sweep) health says it is missing.
    const sim = runtime.world.require<DbcTrafficSim>('sim:canbus');
    sim.silence('Fast');
    await clock.advance(1500);
    let check = runtime.health.report().checks['decoder.live'];
    assert.equal(check.ok, false);
    assert.match(check.detail!, /missing \(no frame for 3 cycle times\): Fast;/);
    assert.ok(logLines.some((l) => /message Fast \(0x100\) missing: none for \d+ ms, 3 of its 100 ms cycle/.test(JSON.stringify(l))), 'logged');
    sim.silence('Fast', false);
    await clock.advance(1100);
    check = runtime.health.report().checks['decoder.live'];
    assert.equal(check.ok, true, check.detail);
  } finally {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("python-can's log replayed: direction flags read, remote frames and dropped lines in health and metrics", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-dbc-sim-'));
  const log = join(dir, 'python-can.log');
  writeFileSync(log, [
    '(1734001123.001000) can0 100#1027030000000000 R',
    '(1734001123.002000) can0 100#2027030000000000 T',
    '(1734001123.003000) can0 100#R R',
    '(1734001123.004000) can0 20000080#',
    'this line is not a frame',
    `(1734001123.005000) can0 100#${'00'.repeat(400)} R`,
    '(1734001123.006000) can0 200#0500 R',
  ].join('\n') + '\n');
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 12));
  const runtime = await start(dir, { source: 'replay', replay: { path: log, speed: 'max', timestamps: 'log' } }, clock);
  try {
    await eventually('the log decoded', 5000, async () => {
      await clock.advance(200);
      return /frames 5, decoded 3, unknown id 0, wrong DLC 0, error frames 1, remote frames 1, dropped lines 2,/.test(runtime.health.report().checks['decoder.live']?.detail ?? '');
    });
    await clock.advance(200);
    const text = await runtime.metrics.text();
    assert.match(text, /can_frames_total\{plugin="decoder",outcome="remote"\} 1/);
    assert.match(text, /can_frames_total\{plugin="decoder",outcome="droppedLines"\} 2/);
    assert.match(text, /can_frames_total\{plugin="decoder",outcome="decoded"\} 3/);
  } finally {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
