// The recorder on its other sources and through a real PLC outage, each in a runtime built with
// `createRuntime` on the bundled simulators: a Modbus device (the NJ301 simulator on loopback, real
// Modbus client) with edge-counted coil and holding register and a counter register; a GPIO input
// (simulated line, edges by interrupt, fake time); and the S7 simulator taken off the network while
// its production line keeps running (counter mode recovers exactly, edge mode invents nothing,
// both mark the gap). Real sockets are awaited with `eventually`, never with blind sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog, type LogFields } from '../../core/log.ts';
import type { AdapterEntry } from '../../core/manifest/types.ts';
import recorderPlugin from '../../plugins/recorder/plugin.ts';
import modbusAdapter from '../../adapters/modbus/adapter.ts';
import gpioAdapter from '../../adapters/gpio/adapter.ts';
import s7Adapter from '../../adapters/s7/adapter.ts';
import type { Nj301Simulator } from '../../sim/nj301.ts';
import type { SimGpioLine } from '../../sim/gpio.ts';
import type { S7Server } from '../../sim/s7-server.ts';
import type { ProductionLine } from '../../sim/production-line.ts';
import { testManifest } from '../helpers/manifest.ts';
import { eventually } from '../helpers/eventually.ts';

interface Row {
  machine: string;
  hourStart: number;
  units: number;
  gapSeconds: number;
}

interface Started {
  runtime: Runtime;
  lines: LogFields[];
}

async function startRecorder(config: Record<string, unknown>, bindings: Record<string, string>, adapters: AdapterEntry[], clock?: FakeClock): Promise<Started> {
  const { root, lines } = memoryLog('info');
  const manifest = testManifest([{ id: 'recorder', use: 'recorder', adapters: bindings, config }], { adapters });
  const runtime = await createRuntime({
    manifest,
    plugins: [recorderPlugin],
    adapters: [modbusAdapter, gpioAdapter, s7Adapter],
    logRoot: root,
    dataDir: null,
    sim: true,
    ...(clock ? { clock } : {}),
  });
  try {
    await runtime.start();
    const s = runtime.supervisor.status('recorder');
    assert.equal(s.status, 'running', `recorder started: ${s.lastError}`);
  } catch (err) {
    await runtime.stop();
    throw err;
  }
  return { runtime, lines };
}

async function production(runtime: Runtime): Promise<Row[]> {
  const route = runtime.routes.find('GET', '/api/recorder/production')!;
  return (await route.handler({ query: {} }, { code: () => ({}) })) as Row[];
}

/** Units and gap seconds of a machine summed over its hour rows. */
async function totals(runtime: Runtime, machine: string): Promise<{ units: number; gapSeconds: number }> {
  const rows = (await production(runtime)).filter((r) => r.machine === machine);
  return { units: rows.reduce((n, r) => n + r.units, 0), gapSeconds: rows.reduce((n, r) => n + r.gapSeconds, 0) };
}

async function sensors(runtime: Runtime): Promise<Array<{ id: string; method: string }>> {
  const route = runtime.routes.find('GET', '/api/recorder/sensors')!;
  return (await route.handler({ query: {} }, { code: () => ({}) })) as Array<{ id: string; method: string }>;
}

/** Resolves after a sample tick that started at or after `afterMs` (epoch ms) has been stored. */
async function tickAfter(runtime: Runtime, afterMs: number, within = 5000): Promise<void> {
  await eventually(`a sample tick after ${new Date(afterMs).toISOString()}`, within, () => {
    const ts = runtime.store.get('recorder_last_sample_ts') as number | undefined;
    return ts !== undefined && ts * 1000 >= afterMs;
  });
}

test('Modbus: cycles by edges on a coil and a holding register, and a counter register, are counted exactly', { timeout: 15_000 }, async () => {
  const sampleMs = 100;
  const config = {
    sampleMs,
    pollMs: 10,
    debounceMs: 0,
    machines: [
      { id: 'mc', name: 'Coil press', idealCycleS: 1 },
      { id: 'mh', name: 'Register press', idealCycleS: 1 },
      { id: 'mn', name: 'Counting press', idealCycleS: 1 },
    ],
    sensors: [
      { id: 'mc-cycle', machine: 'mc', type: 'cycle' },
      { id: 'mh-cycle', machine: 'mh', type: 'cycle' },
      { id: 'mn-count', machine: 'mn', type: 'cycle' },
    ],
    mappings: [
      { sensor: 'mc-cycle', source: 'modbus', address: 'coil:10', mode: 'edge' },
      { sensor: 'mh-cycle', source: 'modbus', address: 'hr:201', mode: 'edge' },
      { sensor: 'mn-count', source: 'modbus', address: 'HR:200', mode: 'counter' },
    ],
  };
  const adapters: AdapterEntry[] = [{
    id: 'mb', kind: 'modbus', driver: 'sim',
    options: { transport: 'tcp', timeoutMs: 500, sim: { port: 0, unit: 1, timeScale: 1, taskMs: 40, plant: 'lab' } },
  } as AdapterEntry];
  const { runtime, lines } = await startRecorder(config, { modbus: 'mb' }, adapters);
  try {
    const plc = runtime.world.require<Nj301Simulator>('sim:mb');
    const said = lines.map((l) => String(l.msg));
    assert.ok(said.some((m) => /mc-cycle.*counting rising edges by polling modbus .*coil:10 every 10 ms/.test(m)), said.join('\n'));
    assert.ok(said.some((m) => /mn-count.*counting from the PLC counter at modbus .*HR:200 \(wraps at 65536\)/.test(m)), said.join('\n'));
    assert.deepEqual((await sensors(runtime)).map((s) => s.method), ['edge-poll', 'edge-poll', 'counter']);

    // Reads of a pin recorded by the simulator (polls and sample ticks alike).
    const readsOf = (fc: number, address: number) => plc.requests.filter((r) => r.fc === fc && r.address <= address && address < r.address + r.count).length;
    // A level is held until the pin has been read three more times: at 10 ms polls and 100 ms ticks,
    // at least two of those are polls, so every pulse and every gap outlasts the poll.
    const hold = async (what: string, fc: number, address: number) => {
      const seen = readsOf(fc, address);
      await eventually(`${what} read by the recorder`, 3000, () => readsOf(fc, address) >= seen + 3);
    };
    // The inputs start low and have been polled (the baseline), the counter has its baseline.
    await hold('coil 10 low', 1, 10);
    await hold('hr 201 low', 3, 201);
    await tickAfter(runtime, Date.now());

    const N = 7;
    for (let i = 0; i < N; i++) {
      plc.bank.coil[10] = 1;
      plc.setRegister(201, 1);
      await hold(`pulse ${i + 1} high`, 1, 10);
      await hold(`pulse ${i + 1} high`, 3, 201);
      plc.bank.coil[10] = 0;
      plc.setRegister(201, 0);
      await hold(`pulse ${i + 1} low`, 1, 10);
      await hold(`pulse ${i + 1} low`, 3, 201);
    }
    // The counter steps by 3 + 1 + 5 + 2 + 12 = 23, one sample tick after each step (and two steps between ticks).
    const steps = [3, 1, 5, 2, 12];
    let counter = plc.register(200);
    for (const [i, step] of steps.entries()) {
      counter += step;
      plc.setRegister(200, counter);
      if (i !== 2) await tickAfter(runtime, Date.now());
    }
    const made = steps.reduce((a, b) => a + b, 0);

    await eventually('the recorded units equal the pulses and counter steps', 5000, async () =>
      (await totals(runtime, 'mc')).units === N && (await totals(runtime, 'mh')).units === N && (await totals(runtime, 'mn')).units === made,
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}; recorded mc ${(await totals(runtime, 'mc')).units}, mh ${(await totals(runtime, 'mh')).units} (want ${N}), mn ${(await totals(runtime, 'mn')).units} (want ${made})`);
    });
    // And nothing more arrives later (no double counting on later ticks).
    await tickAfter(runtime, Date.now() + 2 * sampleMs);
    assert.equal((await totals(runtime, 'mc')).units, N);
    assert.equal((await totals(runtime, 'mh')).units, N);
    assert.equal((await totals(runtime, 'mn')).units, made);
    assert.equal((await totals(runtime, 'mn')).gapSeconds, 0, 'no gap while the device answered');
  } finally {
    await runtime.stop();
  }
});

test('GPIO: pulses on a simulated input line are counted by interrupt, with debounce, not by polling', async () => {
  const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
  const clock = new FakeClock(T0);
  const config = {
    sampleMs: 1000,
    pollMs: 50,
    debounceMs: 20,
    machines: [{ id: 'g1', name: 'Bench press', idealCycleS: 1, maxCyclesPerMinute: 6000 }],
    sensors: [{ id: 'g1-cycle', machine: 'g1', type: 'cycle' }],
    mappings: [{ sensor: 'g1-cycle', source: 'gpio1', address: 'line' }],
  };
  const adapters: AdapterEntry[] = [{ id: 'cycle-in', kind: 'gpio', driver: 'sim', options: { chip: 'sim-chip', line: 4, direction: 'in' } } as AdapterEntry];
  const { runtime, lines } = await startRecorder(config, { gpio1: 'cycle-in' }, adapters, clock);
  try {
    const line = runtime.world.require<SimGpioLine>('sim:cycle-in');
    const said = lines.map((l) => String(l.msg));
    assert.ok(said.some((m) => /g1-cycle.*counting rising edges by interrupt on gpio1 .*\(debounce 20 ms\)/.test(m)), said.join('\n'));
    // No poll-rate check (and no warning) applies to interrupts, even at 6000 cycles/min.
    assert.ok(!said.some((m) => /TOO SLOW|by polling/.test(m)), said.join('\n'));
    assert.deepEqual(await sensors(runtime), [{ id: 'g1-cycle', machine: 'g1', type: 'cycle', unit: '', scale: 1, source: 'gpio1', device: line.description, address: 'line', method: 'edge-interrupt' }]);

    const N = 25;
    for (let i = 0; i < N; i++) {
      line.drive(1);
      if (i % 5 === 0) {
        // Contact bounce within the debounce time: one unit.
        await clock.advance(2);
        line.drive(0);
        await clock.advance(3);
        line.drive(1);
      }
      await clock.advance(10); // pulses of 10 ms: shorter than the 50 ms poll, seen by the interrupt
      line.drive(0);
      await clock.advance(30);
    }
    await clock.advance(1000);
    const g1 = await totals(runtime, 'g1');
    assert.equal(g1.units, N);
    assert.equal(g1.gapSeconds, 0);
    assert.equal(runtime.store.get('machine_g1_units_hour'), N);
    assert.equal(runtime.store.get('machine_g1_state'), 'running');
  } finally {
    await runtime.stop();
  }
});

test('S7 simulator off the network while the line produces: counter mode exact, edge mode invents nothing, gap marked', { timeout: 15_000 }, async () => {
  const sampleMs = 100;
  const config = {
    sampleMs,
    pollMs: 10,
    machines: [
      { id: 'mc', name: 'Counted press', idealCycleS: 0.15 },
      { id: 'me', name: 'Edge press', idealCycleS: 0.3, maxCyclesPerMinute: 200 },
    ],
    sensors: [
      { id: 'mc-count', machine: 'mc', type: 'cycle' },
      { id: 'me-cycle', machine: 'me', type: 'cycle' },
    ],
    mappings: [
      { sensor: 'mc-count', source: 'plc', address: 'DB1,DINT4', mode: 'counter', counterWrap: 2147483648 },
      { sensor: 'me-cycle', source: 'plc', address: 'I0.1', mode: 'edge', pulseMs: 100 },
    ],
  };
  const adapters: AdapterEntry[] = [{
    id: 'plc', kind: 's7', driver: 'sim',
    options: {
      port: 102, rack: 0, slot: 1, timeoutMs: 500,
      reconnect: { initialMs: 20, maxMs: 100 },
      breaker: { failureThreshold: 100_000, openMs: 0 },
      sim: {
        port: 0, dbs: { 1: 256 }, line: 'line', timeScale: 1, seed: 1,
        machines: [
          { name: 'a', cycleMs: 150, counter: 'DB1,DINT4', cycleInput: 'I0.0', pulseMs: 50, runKw: 5 },
          { name: 'b', cycleMs: 300, counter: 'DB1,DINT12', cycleInput: 'I0.1', pulseMs: 100, runKw: 5 },
        ],
      },
    },
  } as AdapterEntry];
  const { runtime, lines } = await startRecorder(config, { plc: 'plc' }, adapters);
  try {
    const server = runtime.world.require<S7Server>('sim:plc');
    const line = runtime.world.require<ProductionLine>('line:line');
    const a = line.machine('a');
    const b = line.machine('b');
    const said = () => lines.map((l) => String(l.msg));
    assert.ok(said().some((m) => /me-cycle.*counting rising edges by polling plc .*I0\.1 every 10 ms.*sees every pulse up to 200 cycles\/min/.test(m)), said().join('\n'));

    // A still line first: the counter's baseline and the input's low level are read, earlier units stored.
    a.stop();
    b.stop();
    await tickAfter(runtime, Date.now() + 150); // after the last pulse (100 ms) ended
    const before = { mc: (await totals(runtime, 'mc')).units, me: (await totals(runtime, 'me')).units };
    const start = { a: a.cycles, b: b.cycles };
    a.run();
    b.run();
    await eventually('production before the outage', 5000, () => b.cycles - start.b >= 3);

    // The PLC goes off the network; the line keeps producing.
    await server.stop();
    const down = { a: a.cycles, b: b.cycles };
    await eventually('the recorder sees the outage', 3000, () => runtime.store.get('machine_mc_state') === 'offline' && runtime.store.get('machine_me_state') === 'offline');
    assert.equal(runtime.health.report().checks['recorder:recorder']?.ok, false, 'the named health check fails during the outage');
    await eventually('production during the outage', 5000, () => b.cycles - down.b >= 4 && a.cycles - down.a >= 8);
    const up = { a: a.cycles, b: b.cycles };
    await server.start();
    await eventually('the recorder reads the PLC again', 5000, () => said().some((m) => /plc .*reading again/.test(m)));
    // How long counting was blind is said in the log and in /health once the link is back.
    assert.ok(said().some((m) => /plc .*reading again after \d+\.\d s blind \(pulses in that window are not counted/.test(m)), said().join('\n'));
    await eventually('the blind time in /health', 3000, () => /plc: last outage left counting blind for \d+\.\d s, until \d{4}-/.test(runtime.health.report().checks['recorder:recorder']?.detail ?? ''));
    const back = { a: a.cycles, b: b.cycles };
    await eventually('production after the outage', 5000, () => b.cycles - back.b >= 3);
    a.stop();
    b.stop();
    const made = { a: a.cycles - start.a, b: b.cycles - start.b };

    // Counter mode: the units made in the outage are counted once, at reconnection: exactly the true cycles.
    await eventually('counter-mode units equal the true cycles', 5000, async () => (await totals(runtime, 'mc')).units - before.mc === made.a)
      .catch(async (err) => {
        throw new Error(`${(err as Error).message}; made ${made.a}, recorded ${(await totals(runtime, 'mc')).units - before.mc}`);
      });
    await tickAfter(runtime, Date.now() + 150); // the last pulse ended and was stored; later ticks add nothing
    const mc = await totals(runtime, 'mc');
    assert.equal(mc.units - before.mc, made.a, 'counter mode: no cycle lost, none counted twice');
    assert.ok(mc.gapSeconds > 0, `counter mode: the outage is marked as a gap (${mc.gapSeconds} s)`);

    // Edge mode: pulses in the outage are unknowable and not invented; the others are all counted.
    const me = await totals(runtime, 'me');
    const edgeUnits = me.units - before.me;
    const inOutage = up.b - down.b; // completed after the port closed and before it reopened: unreadable
    const seen = (down.b - start.b) + (made.b - (back.b - start.b)); // completed while the PLC answered
    assert.ok(edgeUnits <= made.b - inOutage, `edge mode invents nothing: ${edgeUnits} units for ${made.b} cycles, ${inOutage} of them in the outage`);
    assert.ok(edgeUnits >= seen - 2, `edge mode counts the cycles seen: ${edgeUnits} units, ${seen} cycles while the PLC answered`);
    assert.ok(edgeUnits < made.b, `some cycles were unknowable: ${edgeUnits} < ${made.b}`);
    assert.ok(me.gapSeconds > 0, `edge mode: the outage is marked as a gap (${me.gapSeconds} s)`);
    assert.ok(lines.some((l) => l.level === 'warn' && /plc .*recorded as a gap/.test(String(l.msg))), 'one warning names the outage');
    assert.equal(lines.filter((l) => l.level === 'warn' && /recorded as a gap/.test(String(l.msg))).length, 1, 'one warning per outage');
  } finally {
    await runtime.stop();
  }
});
