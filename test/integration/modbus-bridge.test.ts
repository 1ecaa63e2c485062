// The modbus-bridge in a real runtime against the NJ301 simulator over loopback TCP: values in the
// store, change-only writes landing in the PLC's registers, exceptions named, and an outage (PLC
// off the network) seen as plc_connected=false, a stale heartbeat and an open circuit, then
// automatic recovery — with only the bridge logging about it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import modbusAdapter from '../../adapters/modbus/adapter.ts';
import bridgePlugin from '../../plugins/modbus-bridge/plugin.ts';
import { NJ301_MAP, type Nj301Simulator } from '../../sim/nj301.ts';

const LAB_MAP = [
  { key: 'rtd_temp', table: 'holding', address: 1, type: 'float32', direction: 'write' },
  { key: 'mode', table: 'holding', address: 4, type: 'uint16', direction: 'read-write' },
  { key: 'setpoint', table: 'holding', address: 8, type: 'float32', direction: 'read-write' },
  { key: 'pid_kp', table: 'holding', address: 11, type: 'float32', direction: 'read-write' },
  { key: 'plc_heartbeat', table: 'holding', address: 101, type: 'uint16' },
  { key: 'mv', table: 'holding', address: 102, type: 'float32' },
];

interface Lab {
  runtime: Runtime;
  plc: Nj301Simulator;
  lines: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startLab(config: Record<string, unknown> = {}): Promise<Lab> {
  const { root, lines } = memoryLog('info');
  const { manifest } = parseManifest(JSON.stringify({
    name: 'modbus-test',
    log: { level: 'info' },
    supervisor: { initialBackoffMs: 100, maxBackoffMs: 1000, jitter: 0 },
    adapters: [{ id: 'plc', kind: 'modbus', driver: 'sim', options: { timeoutMs: 300, sim: { port: 0 } } }],
    plugins: [{
      id: 'bridge',
      use: 'modbus-bridge',
      adapters: { link: 'plc' },
      config: { pollMs: 50, staleAfterS: 1, circuit: { failureThreshold: 3, openMs: 300 }, backoff: { initialMs: 50, maxMs: 200 }, map: LAB_MAP, ...config },
    }],
  }), 'test.json', { plugins: [bridgePlugin], adapters: [modbusAdapter], env: {} });
  const runtime = await createRuntime({ manifest, plugins: [bridgePlugin], adapters: [modbusAdapter], logRoot: root, dataDir: null, sim: true });
  await runtime.start();
  const plc = runtime.world.get<Nj301Simulator>('sim:plc', () => {
    throw new Error('the modbus adapter did not register its simulator as sim:plc');
  });
  return { runtime, plc, lines, stop: () => runtime.stop() };
}

/** Polls `check` until it returns a truthy value, failing after `ms`. */
async function until<T>(what: string, check: () => T | undefined | false, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('PLC values appear in the store with connection status and heartbeat', async () => {
  const lab = await startLab();
  try {
    const { store } = lab.runtime;
    await until('plc_connected', () => store.get('plc_connected') === true);
    assert.equal(store.get('setpoint'), 25);
    assert.equal(store.get('mode'), 1);
    assert.equal(store.get('pid_kp'), 10);
    const beat = store.get<number>('plc_heartbeat')!;
    await until('the PLC heartbeat to advance', () => store.get<number>('plc_heartbeat')! > beat);
    const lastOk = store.get<number>('modbus_last_ok_ts')!;
    assert.ok(Math.abs(lastOk - Date.now() / 1000) < 2, `modbus_last_ok_ts ${lastOk}`);
    const report = lab.runtime.health.report();
    assert.equal(report.heartbeats.modbus_last_ok_ts.stale, false);
    assert.equal(report.checks['modbus:bridge'].ok, true, report.checks['modbus:bridge'].detail);
    // 3 read requests per cycle: HR 4..16 (mode, setpoint, pid_kp) and HR 101..103 are far apart.
    const metrics = await lab.runtime.metrics.text();
    assert.match(metrics, /modbus_requests_total\{plugin="bridge",op="read"\} \d+/);
    assert.match(metrics, /modbus_circuit_state\{plugin="bridge"\} 0/);
  } finally {
    await lab.stop();
  }
});

test('a state change is written to the PLC register once; values read are never echoed back', async () => {
  const lab = await startLab();
  try {
    const { store } = lab.runtime;
    const { plc } = lab;
    await until('plc_connected', () => store.get('plc_connected') === true);
    await store.set('setpoint', 60);
    await store.set('rtd_temp', 42.5);
    await until('HR8-9 = 60', () => plc.real(NJ301_MAP.setpoint) === 60);
    await until('HR1-2 = 42.5', () => plc.real(NJ301_MAP.rtdTemp) === 42.5);
    // The PLC's PID now works on the PV we wrote: with PV < SP in auto, MV rises and comes back.
    await until('mv > 0 in the store', () => (store.get<number>('mv') ?? 0) > 0);
    const writesTo = (address: number) => plc.requests.filter((r) => (r.fc === 16 || r.fc === 6) && r.address === address).length;
    assert.equal(writesTo(NJ301_MAP.setpoint), 1);

    // A change made on the PLC side (HMI) shows up in the store and is not written back.
    plc.setReal(NJ301_MAP.setpoint, 55);
    await until('setpoint 55 in the store', () => store.get('setpoint') === 55);
    const polls = plc.requests.length;
    await until('a few more poll cycles', () => plc.requests.length > polls + 10);
    assert.equal(writesTo(NJ301_MAP.setpoint), 1, 'the value read from the PLC was written back');

    // Same value again: nothing to send. rtd_temp is write-only: never read.
    await store.set('rtd_temp', 42.5);
    await store.set('mode', 0);
    await until('HR4 = 0', () => plc.register(NJ301_MAP.mode) === 0);
    assert.equal(writesTo(NJ301_MAP.rtdTemp), 1);
    assert.equal(plc.requests.filter((r) => r.fc === 3 && r.address <= 1 && r.address + r.count > 1).length, 0);
  } finally {
    await lab.stop();
  }
});

test('a value that does not fit the register is refused with the key named, nothing is sent', async () => {
  const lab = await startLab();
  try {
    const { store } = lab.runtime;
    await until('plc_connected', () => store.get('plc_connected') === true);
    await store.set('mode', 70000);
    await until('the encode warning', () => lab.lines.find((l) => String(l.msg).includes('not writing "mode" to HR 4: 70000 gives raw 70000, out of range for uint16 (0..65535)')));
    assert.equal(lab.plc.requests.filter((r) => r.fc === 6 && r.address === 4).length, 0);
  } finally {
    await lab.stop();
  }
});

test('an exception response is reported with its meaning, once, without taking the link down', async () => {
  const lab = await startLab({ map: [...LAB_MAP, { key: 'missing', table: 'holding', address: 2000, type: 'uint16' }] });
  try {
    const { store, health } = lab.runtime;
    await until('plc_connected', () => store.get('plc_connected') === true);
    const line = await until('the exception warning', () => lab.lines.find((l) => String(l.msg).includes('exception 2 (illegal data address)')));
    assert.equal(line.ns, 'plugin:bridge');
    assert.match(String(line.msg), /reading HR 2000 from unit 1 refused with exception 2 \(illegal data address\); not updated: missing/);
    const polls = lab.plc.requests.length;
    await until('more polls', () => lab.plc.requests.length > polls + 10);
    assert.equal(lab.lines.filter((l) => String(l.msg).includes('exception 2')).length, 1, 'logged once, not per poll');
    const check = health.report().checks['modbus:bridge'];
    assert.equal(check.ok, false);
    assert.match(check.detail ?? '', /reading HR 2000: exception 2/);
    assert.equal(store.get('plc_connected'), true);
    assert.equal(store.get('missing'), undefined);
  } finally {
    await lab.stop();
  }
});

test('a device refusing a read across a hole in its map (exception 2) is read without gaps from then on', async () => {
  const lab = await startLab({ map: [
    { key: 'mode', table: 'holding', address: 4, type: 'uint16' },
    { key: 'setpoint', table: 'holding', address: 8, type: 'float32' },
    { key: 'plc_heartbeat', table: 'holding', address: 30, type: 'uint16' },
  ] });
  try {
    const { store, health } = lab.runtime;
    // HR 20 is a hole of this "device": any read covering it is refused.
    lab.plc.fault({ kind: 'exception', code: 2, address: 20 });
    lab.plc.setRegister(30, 777);
    await until('values read despite the hole', () => store.get('setpoint') === 25 && store.get('plc_heartbeat') === 777 && store.get('mode') === 1);
    const line = lab.lines.find((l) => /HR 4\.\.30 refused across unmapped addresses \(exception 2\); reading its 3 entries in 3 requests without gaps/.test(String(l.msg)));
    assert.ok(line, JSON.stringify(lab.lines.map((l) => l.msg)));
    const polls = lab.plc.requests.length;
    await until('more polls', () => lab.plc.requests.length > polls + 6);
    const recent = lab.plc.requests.slice(polls).filter((r) => r.fc === 3);
    assert.ok(recent.every((r) => !r.exception), 'no refused reads after the split');
    assert.deepEqual([...new Set(recent.map((r) => `${r.address}+${r.count}`))].sort(), ['30+1', '4+1', '8+2']);
    await until('health ok', () => health.report().checks['modbus:bridge'].ok);
  } finally {
    await lab.stop();
  }
});

test('PLC off the network: disconnected, stale heartbeat, open circuit, only the bridge logs; automatic recovery', async () => {
  const lab = await startLab();
  try {
    const { store, health, metrics } = lab.runtime;
    const { plc } = lab;
    await until('plc_connected', () => store.get('plc_connected') === true);
    const before = lab.lines.length;
    const stoppedAt = Date.now();
    await plc.stop();

    await until('plc_connected false', () => store.get('plc_connected') === false);
    await until('modbus_last_ok_ts stale in health', () => health.report().heartbeats.modbus_last_ok_ts.stale, 3000);
    assert.ok(Date.now() - stoppedAt < 1000 + 1500, 'stale within staleAfterS (+ one poll and a timeout)');
    await until('circuit open', () => /circuit open/.test(health.report().checks['modbus:bridge'].detail ?? ''));
    assert.match(await metrics.text(), /modbus_circuit_state\{plugin="bridge"\} [12]/);
    assert.match(await metrics.text(), /modbus_errors_total\{plugin="bridge",kind="(connection|timeout)"\} \d+/);
    // Cached values stay in the store while the PLC is away.
    assert.equal(store.get('setpoint'), 25);

    // Let the circuit half-open and fail a few times: still one warning per outage, from the bridge only.
    await new Promise((r) => setTimeout(r, 1000));
    const outage = lab.lines.slice(before).filter((l) => l.level === 'warn' || l.level === 'error');
    assert.ok(outage.length >= 1 && outage.length <= 2, JSON.stringify(outage));
    assert.ok(outage.every((l) => l.ns === 'plugin:bridge'), JSON.stringify(outage));
    assert.match(String(outage[0].msg), new RegExp(`^modbus tcp ${plc.address}: .* plc_connected=false, retrying with backoff`));
    assert.equal(lab.runtime.supervisor.status('bridge').status, 'running');

    await plc.start();
    await until('plc_connected true again', () => store.get('plc_connected') === true, 3000);
    await until('heartbeat fresh', () => !health.report().heartbeats.modbus_last_ok_ts.stale);
    await until('check ok', () => health.report().checks['modbus:bridge'].ok);
    assert.ok(lab.lines.some((l) => l.ns === 'plugin:bridge' && /answering again after/.test(String(l.msg))));
    // Writes made while it was away go out on recovery.
    await store.set('setpoint', 48);
    await until('HR8-9 = 48', () => plc.real(NJ301_MAP.setpoint) === 48);
  } finally {
    await lab.stop();
  }
});

test('bad map entries are refused by validation and, without the loader, at start, with the path named', async () => {
  const map = [
    { key: 'a', table: 'holding', address: 8, type: 'float32' },
    { key: 'b', table: 'holding', address: 9 },
  ];
  const adapters = [{ id: 'plc', kind: 'modbus', driver: 'sim' as const, options: { sim: { port: 0 } } }];
  assert.throws(() => parseManifest(JSON.stringify({
    name: 'bad',
    adapters,
    plugins: [{ id: 'bridge', use: 'modbus-bridge', adapters: { link: 'plc' }, config: { map } }],
  }), 'bad.json', { plugins: [bridgePlugin], adapters: [modbusAdapter], env: {} }), (err: Error) => {
    assert.match(err.message, /plugins\[0\]\.config\.map\[1\]\.address: holding 9 \("b"\) overlaps map\[0\] 8\.\.9 \("a"\)/);
    return true;
  });

  // A runtime built without the manifest loader (embedding, tests) still refuses it at start.
  const { root } = memoryLog('silent');
  const { manifest: valid } = parseManifest(JSON.stringify({
    name: 'ok',
    adapters,
    plugins: [{ id: 'bridge', use: 'modbus-bridge', adapters: { link: 'plc' }, config: { map: [map[0]] } }],
  }), 'ok.json', { plugins: [bridgePlugin], adapters: [modbusAdapter], env: {} });
  const bridgeConfig = valid.plugins[0].config as { map: unknown[] };
  bridgeConfig.map.push({ ...bridgeConfig.map[0] as object, key: 'b', address: 9, type: 'uint16' });
  const runtime = await createRuntime({ manifest: valid, plugins: [bridgePlugin], adapters: [modbusAdapter], logRoot: root, dataDir: null, sim: true });
  try {
    await runtime.start();
    const status = runtime.supervisor.status('bridge');
    assert.notEqual(status.status, 'running');
    assert.match(status.lastError ?? '', /config\.map\[1\]\.address: holding 9 \("b"\) overlaps map\[0\] 8\.\.9 \("a"\)/);
  } finally {
    await runtime.stop();
  }
});

test('the schema refuses what it can express: address range, unknown type, a write to an input register', () => {
  assert.throws(() => parseManifest(JSON.stringify({
    name: 'bad',
    adapters: [{ id: 'plc', kind: 'modbus', options: { host: '10.0.0.5' } }],
    plugins: [{ id: 'bridge', use: 'modbus-bridge', adapters: { link: 'plc' }, config: { map: [
      { key: 'a', table: 'holding', address: 70000 },
      { key: 'b', table: 'holding', address: 1, type: 'float64' },
      { key: 'c', table: 'input', address: 1, direction: 'write' },
    ] } }],
  }), 'bad.json', { plugins: [bridgePlugin], adapters: [modbusAdapter], env: {} }), (err: Error) => {
    assert.match(err.message, /plugins\[0\]\.config\.map\[0\]\.address: must be <= 65535/);
    assert.match(err.message, /plugins\[0\]\.config\.map\[1\]\.type: must be one of: bool, int16, uint16, int32, uint32, float32/);
    assert.match(err.message, /plugins\[0\]\.config\.map\[2\]\.direction: must be read/);
    return true;
  });
});
