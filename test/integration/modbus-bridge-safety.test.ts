// Safety of the Modbus bridge's writes, on the wire of the NJ301 simulator with the lab manifest's
// map: a superseded value is never sent, a refused or overwritten value is not rewritten every
// poll (and a stopped PLC program is still reported), a stored PV is never sent as fresh, a mode
// switch goes after the values it takes, and a value set back while another is in flight is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { systemClock } from '../../core/clock.ts';
import { memoryLog } from '../../core/log.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import modbusAdapter from '../../adapters/modbus/adapter.ts';
import bridgePlugin from '../../plugins/modbus-bridge/plugin.ts';
import { NJ301_MAP, Nj301Simulator } from '../../sim/nj301.ts';
import { eventually } from '../helpers/eventually.ts';
import { repoRoot } from '../helpers/spawn.ts';

const lab = JSON.parse(readFileSync(`${repoRoot}/manifests/plc-remote-lab.json`, 'utf8'));
const labBridge = lab.plugins.find((p: { use: string }) => p.use === 'modbus-bridge');

interface Gateway {
  runtime: Runtime;
  lines: Array<Record<string, unknown>>;
}

async function startGateway(plc: Nj301Simulator, dataDir: string | null = null): Promise<Gateway> {
  const { root, lines } = memoryLog('info');
  const { manifest } = parseManifest(JSON.stringify({
    name: 'bridge-safety',
    log: { level: 'info' },
    supervisor: { initialBackoffMs: 100, maxBackoffMs: 1000, jitter: 0 },
    adapters: [{ id: 'plc', kind: 'modbus', driver: 'real', options: { host: plc.host, port: plc.port, timeoutMs: 1000 } }],
    plugins: [{
      ...labBridge,
      config: { ...labBridge.config, circuit: { failureThreshold: 3, openMs: 300 }, backoff: { initialMs: 50, maxMs: 200 } },
    }],
  }), 'bridge-safety.json', { plugins: [bridgePlugin], adapters: [modbusAdapter], env: {} });
  const runtime = await createRuntime({ manifest, plugins: [bridgePlugin], adapters: [modbusAdapter], logRoot: root, dataDir, sim: false });
  await runtime.start();
  await eventually('plc_connected', 5000, () => runtime.store.get('plc_connected') === true);
  return { runtime, lines };
}

async function withLab(fn: (plc: Nj301Simulator) => Promise<void>): Promise<void> {
  const plc = new Nj301Simulator({ clock: systemClock });
  await plc.start();
  try {
    await fn(plc);
  } finally {
    await plc.close();
  }
}

const words = (v: number) => {
  const d = new DataView(new ArrayBuffer(4));
  d.setFloat32(0, v);
  return [d.getUint16(0), d.getUint16(2)];
};

/** Write requests (FC16/FC6) since `from` that touch HR a..b. */
function writesTo(plc: Nj301Simulator, a: number, b: number, from = 0) {
  return plc.requests.slice(from).filter((r) => (r.fc === 16 || r.fc === 6) && r.address <= b && r.address + r.count > a);
}

/** Waits until the PLC has served `n` more requests (poll cycles go by), never a blind sleep. */
async function requestsGoBy(plc: Nj301Simulator, n: number, ms = 5000): Promise<void> {
  const start = plc.server.requestCount;
  await eventually(`${n} more requests`, ms, () => plc.server.requestCount >= start + n);
}

async function reasserts(gw: Gateway): Promise<number> {
  return Number(/modbus_reasserts_total\{plugin="plc"\} (\d+)/.exec(await gw.runtime.metrics.text())?.[1] ?? 0);
}

test('a value superseded while an earlier request is on the wire is never sent (M1)', async () => {
  await withLab(async (plc) => {
    const gw = await startGateway(plc);
    try {
      const { store } = gw.runtime;
      plc.slow(200);
      const from = plc.requests.length;
      // Two requests (HR 8..9 and HR 11..12: tune_cmd at HR 10 is shared, so the gap is not filled).
      await store.setMany({ setpoint: 60, pid_kp: 7 }, { durable: false });
      await eventually('the setpoint request on the wire', 3000, () => writesTo(plc, 8, 9, from).length > 0);
      await store.set('pid_kp', 9, { durable: false });
      await eventually('HR 11..12 = 9', 5000, () => plc.real(NJ301_MAP.pb) === 9);
      plc.slow(0);
      await requestsGoBy(plc, 10);
      const kp = writesTo(plc, 11, 12, from).map((r) => r.values?.join());
      assert.ok(!kp.includes(words(7).join()), `the superseded pid_kp 7 was written: ${JSON.stringify(kp)}`);
      assert.equal(plc.real(NJ301_MAP.pb), 9);
      assert.equal(plc.real(NJ301_MAP.setpoint), 60);
    } finally {
      await gw.runtime.stop();
    }
  });
});

test('a value the PLC refuses is not rewritten every poll, is named once in the log, and is sent again once it changes (M2)', async () => {
  await withLab(async (plc) => {
    const gw = await startGateway(plc);
    try {
      const { store } = gw.runtime;
      plc.fault({ kind: 'exception', code: 3, fc: 16, address: NJ301_MAP.setpoint });
      const from = plc.requests.length;
      await store.set('setpoint', 60, { durable: false });
      await eventually('the refused write', 3000, () => writesTo(plc, 8, 9, from).length > 0);
      await requestsGoBy(plc, 40); // 20 poll cycles of 100 ms
      assert.equal(writesTo(plc, 8, 9, from).length, 1, 'written once, not once per poll');
      const named = gw.lines.filter((l) => /the PLC refused "setpoint" = 60/.test(String(l.msg)));
      assert.equal(named.length, 1, 'one warning naming the key');
      plc.clearFaults();
      await store.set('setpoint', 61, { durable: false });
      await eventually('HR 8..9 = 61', 3000, () => plc.real(NJ301_MAP.setpoint) === 61);
    } finally {
      await gw.runtime.stop();
    }
  });
});

test('a value the PLC program keeps overwriting is re-asserted with a growing interval, and a stopped program is still reported in /health (M2)', async () => {
  await withLab(async (plc) => {
    const gw = await startGateway(plc);
    // The PLC program's own logic: its setpoint wins on every scan.
    const program = setInterval(() => plc.setReal(NJ301_MAP.setpoint, 25), 5);
    try {
      const { store, health } = gw.runtime;
      await store.set('rtd_temp', 21, { durable: false });
      await eventually('handshake ok', 3000, () => health.report().checks['modbus:plc'].ok);
      const from = plc.requests.length;
      await store.set('setpoint', 60, { durable: false });
      plc.halt();
      await store.set('rtd_temp', 21.5, { durable: false }); // a sample the halted program never acknowledges
      const bad = await eventually('not acknowledging in /health', 8000, () => {
        const c = health.report().checks['modbus:plc'];
        return /PLC has not acknowledged the gateway sequence/.test(c.detail ?? '') ? c : undefined;
      });
      assert.equal(bad.ok, false);
      // 3 s of the ack timeout at 10 Hz polls: about 30 cycles; writing every poll would be about 30 writes.
      const n = writesTo(plc, 8, 9, from).length;
      assert.ok(n >= 2 && n <= 6, `${n} writes of the setpoint in ~30 poll cycles`);
    } finally {
      clearInterval(program);
      await gw.runtime.stop();
    }
  });
});

test('at start the stored PV is not sent and the sequence does not move; the next sample is (M3)', async () => {
  await withLab(async (plc) => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-bridge-safety-'));
    let gw = await startGateway(plc, dir);
    try {
      await gw.runtime.store.setMany({ rtd_temp: 22, setpoint: 55 }, { durable: true });
      await eventually('HR 1..2 = 22, HR 8..9 = 55', 3000, () => plc.real(NJ301_MAP.rtdTemp) === 22 && plc.real(NJ301_MAP.setpoint) === 55);
      await gw.runtime.stop();
      await plc.powerCycle({ memory: 'zero' });
      const from = plc.requests.length;
      gw = await startGateway(plc, dir);
      await eventually('the saved setpoint re-asserted', 3000, () => plc.real(NJ301_MAP.setpoint) === 55);
      await requestsGoBy(plc, 20);
      assert.deepEqual(writesTo(plc, 0, 2, from), [], 'neither the hours-old PV nor a sequence went out');
      assert.equal(plc.register(NJ301_MAP.gwTxSeq), 0);
      await gw.runtime.store.set('rtd_temp', 23, { durable: false });
      await eventually('the fresh sample with a new sequence', 3000, () => plc.real(NJ301_MAP.rtdTemp) === 23 && plc.register(NJ301_MAP.gwTxSeq) > 0);
    } finally {
      await gw.runtime.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('a command switching mode and its manual MV: the mode register is written last (M4)', async () => {
  await withLab(async (plc) => {
    const gw = await startGateway(plc);
    try {
      const from = plc.requests.length;
      await gw.runtime.store.setMany({ mode: 0, mv_manual: 20 }, { durable: false });
      await eventually('HR 4 = 0, HR 6..7 = 20', 3000, () => plc.register(NJ301_MAP.mode) === 0 && plc.real(NJ301_MAP.mvManual) === 20);
      const writes = writesTo(plc, 4, 7, from).map((r) => [r.address, r.count]);
      assert.deepEqual(writes, [[6, 2], [4, 1]], 'mv_manual first, then the mode');
    } finally {
      await gw.runtime.stop();
    }
  });
});

test('a value set back while another is in flight is sent, not taken for held (M5)', async () => {
  await withLab(async (plc) => {
    const gw = await startGateway(plc);
    try {
      const { store } = gw.runtime;
      await store.set('setpoint', 60, { durable: false });
      await eventually('HR 8..9 = 60', 3000, () => plc.real(NJ301_MAP.setpoint) === 60);
      await requestsGoBy(plc, 4); // read back: confirmed
      const before = await reasserts(gw);
      plc.slow(200);
      const from = plc.requests.length;
      await store.set('setpoint', 70, { durable: false });
      await eventually('70 on the wire', 3000, () => writesTo(plc, 8, 9, from).length > 0);
      await store.set('setpoint', 60, { durable: false });
      await eventually('HR 8..9 = 60 again', 5000, () => writesTo(plc, 8, 9, from).some((r) => r.values?.join() === words(60).join()));
      plc.slow(0);
      await requestsGoBy(plc, 10);
      assert.equal(plc.real(NJ301_MAP.setpoint), 60);
      assert.equal(await reasserts(gw), before, 'sent as a command, not repaired by a re-assert');
    } finally {
      await gw.runtime.stop();
    }
  });
});
