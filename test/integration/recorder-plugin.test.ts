// The recorder in a real runtime with fake time, on an in-memory S7 PLC: exact unit counts by edge
// polling and by PLC counter (with wrap), hours split at the boundary, a PLC outage marked as a gap
// without double counting, and a restart mid-hour that continues from the persisted state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog, type LogFields } from '../../core/log.ts';
import recorderPlugin from '../../plugins/recorder/plugin.ts';
import { testManifest } from '../helpers/manifest.ts';
import { FakeS7, fakeS7Adapter, Line, PINS } from './recorder-fake-plc.ts';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

const CONFIG = {
  sampleMs: 5000,
  pollMs: 50,
  machines: [
    { id: 'm1', name: 'Press 1', idealCycleS: 1, maxCyclesPerMinute: 60, runningKw: 5 },
    { id: 'm2', name: 'Press 2', idealCycleS: 1 },
  ],
  sensors: [
    { id: 'm1-cycle', machine: 'm1', type: 'cycle' },
    { id: 'm1-reject', machine: 'm1', type: 'reject' },
    { id: 'm1-power', machine: 'm1', type: 'power', unit: 'kW', scale: 0.1 },
    { id: 'm2-count', machine: 'm2', type: 'cycle' },
  ],
  mappings: [
    { sensor: 'm1-cycle', source: 'plc', address: PINS.cycle, mode: 'edge' },
    { sensor: 'm1-reject', source: 'plc', address: PINS.reject, mode: 'edge' },
    { sensor: 'm1-power', source: 'plc', address: PINS.power },
    { sensor: 'm2-count', source: 'plc', address: PINS.counter, mode: 'counter' },
  ],
};

interface Row {
  machine: string;
  hourStart: number;
  units: number;
  rejects: number;
  runningSeconds: number;
  gapSeconds: number;
  energyKWh: number;
  oee: number | null;
}

async function start(options: { clock: FakeClock; plc: FakeS7; dataDir?: string | null }): Promise<{ runtime: Runtime; lines: LogFields[] }> {
  const { root, lines } = memoryLog('info');
  const manifest = testManifest([{ id: 'recorder', use: 'recorder', adapters: { plc: 'plc' }, config: CONFIG }], {
    adapters: [{ id: 'plc', kind: 's7', driver: 'sim', options: {} }],
  });
  const runtime = await createRuntime({ manifest, plugins: [recorderPlugin], adapters: [fakeS7Adapter(options.plc)], logRoot: root, dataDir: options.dataDir ?? null, clock: options.clock, sim: true });
  await runtime.start();
  const s = runtime.supervisor.status('recorder');
  assert.equal(s.status, 'running', `recorder started: ${s.lastError}`);
  // The first poll sees the line idle: a level already high at start is a baseline, not a unit.
  await options.clock.advance(100);
  return { runtime, lines };
}

async function production(runtime: Runtime, query: Record<string, string> = {}): Promise<Row[]> {
  const route = runtime.routes.find('GET', '/api/recorder/production')!;
  return (await route.handler({ query }, { code: () => ({}) })) as Row[];
}

const row = (rows: Row[], machine: string, hourStart = T0) => rows.find((r) => r.machine === machine && r.hourStart === hourStart / 1000);

test('a known number of cycles is counted exactly, by edge polling and by a wrapping PLC counter', async () => {
  const clock = new FakeClock(T0);
  const plc = new FakeS7();
  const line = new Line(plc, clock, 65500); // the counter wraps after 36 cycles
  const { runtime, lines } = await start({ clock, plc });
  try {
    await line.run(120, { rejectEvery: 10 });
    await clock.advance(5000);
    const rows = await production(runtime);
    assert.equal(row(rows, 'm1')!.units, 120);
    assert.equal(row(rows, 'm1')!.rejects, 12);
    assert.equal(row(rows, 'm2')!.units, 120, 'counter mode across the wrap');
    assert.equal(runtime.store.get('machine_m1_units_hour'), 120);
    assert.equal(runtime.store.get('machine_m1_state'), 'running');
    // Energy: 7.5 kW for the 120 s of cycling (first sample at 5 s) then 0 kW
    const m1 = row(rows, 'm1')!;
    assert.ok(m1.energyKWh > 0.22 && m1.energyKWh < 0.26, `${m1.energyKWh} kWh`);
    // Raw signals went to history every 5 s.
    const samples = await runtime.history.query('signaldatas', { where: { sensor: 'm1-power' } });
    assert.equal(samples.length, 25);
    assert.deepEqual(samples[0].data, { machine: 'm1', sensor: 'm1-power', value: 7.5, unit: 'kW' });
    const said = lines.map((l) => String(l.msg));
    assert.ok(said.some((m) => /m1-cycle.*counting rising edges by polling.*every 50 ms.*sees every pulse up to 60 cycles\/min/.test(m)), said.join('\n'));
    assert.ok(said.some((m) => /m2-count.*counting from the PLC counter/.test(m)));
  } finally {
    await runtime.stop();
  }
});

test('the poll-rate warning names the fix when pulses are shorter than the poll', async () => {
  const clock = new FakeClock(T0);
  const plc = new FakeS7();
  const { root, lines } = memoryLog('info');
  const config = { ...CONFIG, pollMs: 400, machines: [{ ...CONFIG.machines[0], maxCyclesPerMinute: 120 }, CONFIG.machines[1]] };
  const manifest = testManifest([{ id: 'recorder', use: 'recorder', adapters: { plc: 'plc' }, config }], { adapters: [{ id: 'plc', kind: 's7', driver: 'sim', options: {} }] });
  const runtime = await createRuntime({ manifest, plugins: [recorderPlugin], adapters: [fakeS7Adapter(plc)], logRoot: root, dataDir: null, clock, sim: true });
  await runtime.start();
  try {
    const warn = lines.filter((l) => l.level === 'warn').map((l) => String(l.msg));
    assert.ok(warn.some((m) => /m1-cycle.*TOO SLOW for 120 cycles\/min.*map a PLC counter/.test(m)), warn.join('\n'));
  } finally {
    await runtime.stop();
  }
});

test('hours are split at the boundary: units by the time of their edge, running seconds by time', async () => {
  const clock = new FakeClock(T0 + 3600_000 - 60_000); // 08:59:00
  const plc = new FakeS7();
  const line = new Line(plc, clock);
  const { runtime } = await start({ clock, plc });
  try {
    await line.run(100); // 60 cycles before 09:00, 40 after
    await clock.advance(5000);
    const rows = await production(runtime);
    const h8 = row(rows, 'm1', T0)!;
    const h9 = row(rows, 'm1', T0 + 3600_000)!;
    assert.equal(h8.units, 60);
    assert.equal(h9.units, 40);
    assert.equal(row(rows, 'm2', T0)!.units + row(rows, 'm2', T0 + 3600_000)!.units, 100);
    assert.equal(h8.runningSeconds, 60);
    assert.equal((h8 as unknown as { closed: boolean }).closed, true);
    assert.equal((h9 as unknown as { closed: boolean }).closed, false);
  } finally {
    await runtime.stop();
  }
});

test('PLC dropped and restored: no doubled units, counter mode recovers the outage, the gap is marked', async () => {
  const clock = new FakeClock(T0);
  const plc = new FakeS7();
  const line = new Line(plc, clock, 100);
  const { runtime, lines } = await start({ clock, plc });
  try {
    await line.run(30);
    plc.online = false;
    await line.run(20); // made while the link is down: unknowable by edges, counted by the PLC
    assert.equal(runtime.store.get('machine_m1_state'), 'offline');
    plc.online = true;
    await clock.advance(500); // the link returns between two cycles: a pulse high at reconnection would be unknowable
    await line.run(30);
    await clock.advance(5000);
    const rows = await production(runtime);
    const m1 = row(rows, 'm1')!;
    assert.equal(m1.units, 60, 'edge mode: the 20 cycles in the outage are not invented, none doubled');
    assert.equal(row(rows, 'm2')!.units, 80, 'counter mode: the delta since the last value read covers the outage exactly once');
    assert.ok(m1.gapSeconds >= 20 && m1.gapSeconds <= 30, `gap ${m1.gapSeconds} s marked`);
    assert.ok(lines.some((l) => l.level === 'warn' && /recorded as a gap/.test(String(l.msg))));
    assert.ok(lines.some((l) => /reading again/.test(String(l.msg))));
  } finally {
    await runtime.stop();
  }
});

test('restart mid-hour with a data dir: counts continue from the persisted hour and counter', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-recorder-'));
  const plc = new FakeS7();
  try {
    const clock1 = new FakeClock(T0);
    const line1 = new Line(plc, clock1, 65530);
    const first = await start({ clock: clock1, plc, dataDir });
    await line1.run(30);
    await clock1.advance(5000);
    await first.runtime.stop();
    // Gateway down for 60 s while the line makes 10 more units; then it starts again.
    const clock2 = new FakeClock(clock1.now());
    const line2 = new Line(plc, clock2, line1.counter);
    await line2.run(10);
    const second = await start({ clock: clock2, plc, dataDir });
    try {
      await line2.run(20);
      await clock2.advance(5000);
      const rows = await production(second.runtime);
      assert.equal(row(rows, 'm1')!.units, 50, 'edge mode continues the hour; the 10 units while down are unknowable');
      assert.equal(row(rows, 'm2')!.units, 60, 'counter mode: persisted counter → the 10 units while down counted once');
      assert.ok(row(rows, 'm1')!.gapSeconds >= 10, 'the downtime is a gap');
      assert.ok(second.lines.some((l) => /resuming after/.test(String(l.msg))));
    } finally {
      await second.runtime.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
