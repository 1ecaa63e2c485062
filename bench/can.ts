// Benchmark: a candump log replayed as fast as possible through DBC decode + live keys + can_messages
// history, in a real runtime (in-memory store and history). Prints frames/s, loss and RSS. The DBC is
// manifests/cea.dbc plus value tables on the SCD30 channels and an extended-multiplexed message.
// Usage: node --import tsx bench/can.ts [frames=200000]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock-fake.ts';
import { createRuntime } from '../core/host/runtime.ts';
import { memoryLog } from '../core/log.ts';
import { formatCandumpLine } from '../adapters/can/candump.ts';
import { VirtualCanBus } from '../adapters/can/virtual-bus.ts';
import canAdapter from '../adapters/can/adapter.ts';
import decoderPlugin from '../plugins/can-decoder/plugin.ts';
import { GreenhouseSim } from '../sim/greenhouse.ts';
import { DbcTrafficSim } from '../sim/dbc-traffic.ts';
import { parseDbc } from '../adapters/can/dbc/parse.ts';
import { testManifest } from '../test/helpers/manifest.ts';

const target = Number(process.argv[2] ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'fg-bench-can-'));
const log = join(dir, 'bench.log');
const dbcPath = join(dir, 'cea-rich.dbc');
writeFileSync(dbcPath, readFileSync(new URL('../manifests/cea.dbc', import.meta.url), 'utf8') + `
BO_ 2147484672 Paged: 8 GATEWAY
 SG_ Page M : 0|4@1+ (1,0) [0|15] "" GATEWAY
 SG_ Sub m1M : 4|4@1+ (1,0) [0|15] "" GATEWAY
 SG_ Mode m1 : 8|3@1+ (1,0) [0|7] "" GATEWAY
 SG_ A m2 : 16|16@1- (0.1,0) [-100|100] "" GATEWAY
 SG_ B m3 : 16|8@1+ (1,0) [0|200] "" GATEWAY
 SG_ C m5 : 8|16@0+ (0.01,0) [0|500] "" GATEWAY

VAL_ 257 Channel 0 "CO2" 1 "Temperature" 2 "RH" ;
VAL_ 273 Channel 0 "CO2" 1 "Temperature" 2 "RH" ;
VAL_ 289 Channel 0 "CO2" 1 "Temperature" 2 "RH" ;
VAL_ 2147484672 Mode 0 "Off" 1 "Low" 2 "High" ;
SG_MUL_VAL_ 2147484672 Sub Page 1-1;
SG_MUL_VAL_ 2147484672 Mode Page 1-1;
SG_MUL_VAL_ 2147484672 A Sub 2-2;
SG_MUL_VAL_ 2147484672 B Sub 3-4;
SG_MUL_VAL_ 2147484672 C Page 5-5;
`);

// A log from the greenhouse simulator (16 frames per round) plus 4 extended-multiplexed frames per round.
const clock = new FakeClock(Date.UTC(2026, 0, 1));
const bus = new VirtualCanBus('can0', clock);
const sim = new GreenhouseSim(bus, clock, { periodMs: 1000, timeScale: 60, seed: 1 });
const paged = new DbcTrafficSim(bus, clock, parseDbc(readFileSync(dbcPath, 'utf8'), dbcPath), { defaultCycleMs: 0, seed: 1 });
const lines: string[] = [];
bus.attach('rx').onFrame((f) => lines.push(formatCandumpLine(f)));
while (lines.length < target) {
  sim.emitRound();
  for (let i = 0; i < 4; i++) paged.send('Paged');
  await clock.advance(1000);
}
writeFileSync(log, lines.join('\n') + '\n');
const frames = lines.length;

const rooms = { b: 'FlowerBack', f: 'FlowerFront', v: 'Veg' } as const;
const sensors = Object.entries(rooms).flatMap(([k, m]) => [
  { name: `dry_bulb_${k}`, message: `${m}_Psychro`, signal: 'DryBulb', min: -10, max: 60 },
  { name: `wet_bulb_${k}`, message: `${m}_Psychro`, signal: 'WetBulb' },
  { name: `co2_${k}`, message: `${m}_SCD30`, signal: 'CO2', min: 0, max: 40000 },
  { name: `rh_${k}`, message: `${m}_SCD30`, signal: 'RH', min: 0, max: 100 },
  { name: `vpd_${k}`, message: `${m}_Env`, signal: 'VPD' },
  { name: `pressure_${k}`, message: `${m}_Env`, signal: 'Pressure' },
  { name: `secondary_temp_${k}`, message: `${m}_Env`, signal: 'SecondaryTemp' },
  { name: `secondary_rh_${k}`, message: `${m}_Env`, signal: 'SecondaryRH' },
]).concat([{ name: 'lab_temp', message: 'Lab_Temps', signal: 'LabTemp' }, { name: 'water_temp', message: 'Lab_Temps', signal: 'WaterTemp' }]);

const { root } = memoryLog('warn');
const manifest = testManifest(
  [{ id: 'decoder', use: 'can-decoder', adapters: { can: 'canbus' }, config: { dbc: dbcPath, sensors, history: { batchSize: 2000 } } }],
  { adapters: [{ id: 'canbus', kind: 'can', driver: 'real', options: { source: 'replay', interface: 'can0', replay: { path: log, speed: 'max', timestamps: 'log' }, sim: { periodMs: 1000, timeScale: 1, seed: 1 } } }] },
);
const rssBefore = process.memoryUsage().rss;
const runtime = await createRuntime({ manifest, plugins: [decoderPlugin], adapters: [canAdapter], logRoot: root, dataDir: null });
const t0 = performance.now();
await runtime.start();
const channel = runtime.adapterHandles.get('canbus')!.instance as { done: Promise<void> };
await channel.done;
const t1 = performance.now();
const rssPeak = process.memoryUsage().rss;
// The last partial batch goes with the next flush tick (1 s); then count what the history store holds.
await new Promise((r) => setTimeout(r, 1200));
const detail = runtime.health.report().checks['decoder.live']?.detail ?? '';
const rows = (await runtime.history.query('can_messages')).length;
await runtime.stop();
const t2 = performance.now();
rmSync(dir, { recursive: true, force: true });
const rt = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined' ? 'deno' : `node ${process.version}`;
console.log(`can bench (${rt}, ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 10)})`);
console.log(`  frames in log      ${frames}`);
console.log(`  decode+live+rows   ${(frames / ((t1 - t0) / 1000)).toFixed(0)} frames/s (${(t1 - t0).toFixed(0)} ms; then 1.2 s wait, count and stop ${(t2 - t1).toFixed(0)} ms)`);
console.log(`  rows appended      ${rows} (loss ${frames - rows})`);
console.log(`  RSS                ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssPeak / 2 ** 20).toFixed(0)} MiB at the end of the replay`);
console.log(`  ${detail}`);
