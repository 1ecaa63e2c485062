// The lab's PLC link across the PLC's own life cycle, with the lab manifest's bridge config, against
// two Modbus servers: our NJ301 simulator and Debian's pymodbus (a peer we did not write). A PLC
// that restarts with its memory lost gets the PV and every command again within two poll cycles;
// its defaults never replace the operator's values; a PID command is one FC16 on the wire; a
// saved setpoint survives gateway and PLC restarting together; a PLC that stops acknowledging the
// sequence is reported in /health.
import { after, describe, test } from 'node:test';
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
import { type Memory, pymodbusSkip, startPymodbusPlc } from '../helpers/pymodbus.ts';
import { repoRoot } from '../helpers/spawn.ts';

/** A Modbus server playing the lab PLC, seen from the test. */
interface Peer {
  host: string;
  port: number;
  restart(memory: Memory): Promise<void>;
  /** Memory lost without dropping the connection (an online program change). */
  reset(memory: Memory): Promise<void>;
  get(address: number, count: number): Promise<number[]>;
  /** Requests served since the last restart: [fc, address, count]. */
  log(): Promise<Array<[number, number, number]>>;
  halt(): Promise<void>;
  run(): Promise<void>;
  stop(): Promise<void>;
}

async function simPeer(): Promise<Peer & { plc: Nj301Simulator }> {
  const plc = new Nj301Simulator({ clock: systemClock });
  await plc.start();
  let mark = 0;
  return {
    plc,
    host: plc.host,
    port: plc.port,
    async restart(memory) {
      await plc.powerCycle({ memory });
      mark = plc.server.requestCount;
    },
    reset: (memory) => (memory === 'defaults' ? plc.programDownload({ keepConnections: true }) : Promise.reject(new Error('the simulator resets to its defaults only'))),
    get: (address, count) => Promise.resolve(plc.bank.readRegisters('holding', address, count)),
    log: () => {
      const since = plc.server.requestCount - mark;
      return Promise.resolve(plc.requests.slice(-since).map((r): [number, number, number] => [r.fc, r.address, r.count]));
    },
    halt: () => Promise.resolve(plc.halt()),
    run: () => Promise.resolve(plc.run()),
    stop: () => plc.close(),
  };
}

const lab = JSON.parse(readFileSync(`${repoRoot}/manifests/plc-remote-lab.json`, 'utf8'));
const labBridge = lab.plugins.find((p: { use: string }) => p.use === 'modbus-bridge');

async function startGateway(peer: Peer, dataDir: string | null = null): Promise<Runtime> {
  const { root } = memoryLog('silent');
  const { manifest } = parseManifest(JSON.stringify({
    name: 'plc-restart',
    supervisor: { initialBackoffMs: 100, maxBackoffMs: 1000, jitter: 0 },
    adapters: [{ id: 'plc', kind: 'modbus', driver: 'real', options: { host: peer.host, port: peer.port, timeoutMs: 300 } }],
    plugins: [{
      ...labBridge,
      config: { ...labBridge.config, circuit: { failureThreshold: 3, openMs: 300 }, backoff: { initialMs: 50, maxMs: 200 } },
    }],
  }), 'plc-restart.json', { plugins: [bridgePlugin], adapters: [modbusAdapter], env: {} });
  const runtime = await createRuntime({ manifest, plugins: [bridgePlugin], adapters: [modbusAdapter], logRoot: root, dataDir, sim: false });
  await runtime.start();
  return runtime;
}

const words = (v: number) => {
  const d = new DataView(new ArrayBuffer(4));
  d.setFloat32(0, v);
  return [d.getUint16(0), d.getUint16(2)];
};

/** The operator's commands and the PV, as the registers the PLC must hold. */
const COMMANDS = { setpoint: 55, mode: 1, mv_manual: 30, pid_kp: 12, pid_ki: 80, pid_kd: 5 };
const PV = 22.01;
const PV_WORDS: Array<[number, number]> = words(PV).map((w, i): [number, number] => [NJ301_MAP.rtdTemp + i, w]);
/** The commands alone: after a restart the PV goes out with the next sample only, never its frozen copy. */
const COMMAND_WORDS: Array<[number, number]> = [
  [NJ301_MAP.mode, 1],
  ...words(30).map((w, i): [number, number] => [NJ301_MAP.mvManual + i, w]),
  ...words(55).map((w, i): [number, number] => [NJ301_MAP.setpoint + i, w]),
  ...[12, 80, 5].flatMap((v, k) => words(v).map((w, i): [number, number] => [NJ301_MAP.pb + 2 * k + i, w])),
];

const EXPECTED = [...PV_WORDS, ...COMMAND_WORDS];

async function holdsCommands(peer: Peer, withPv = true): Promise<boolean> {
  const hr = await peer.get(0, 17);
  return (withPv ? EXPECTED : COMMAND_WORDS).every(([a, w]) => hr[a] === w);
}

async function reasserts(gw: Runtime): Promise<number> {
  return Number(/modbus_reasserts_total\{plugin="plc"\} (\d+)/.exec(await gw.metrics.text())?.[1] ?? 0);
}

/** Read cycles (FC3 from HR 0, the first block) the PLC served before every gateway register was written again. */
function cyclesBeforeReasserted(log: Array<[number, number, number]>): number {
  const missing = new Set(COMMAND_WORDS.map(([a]) => a));
  let reads = 0;
  for (const [fc, address, count] of log) {
    if (fc === 3 && address === 0) reads++;
    if (fc === 16 || fc === 6) for (let a = address; a < address + count; a++) missing.delete(a);
    if (missing.size === 0) return reads;
  }
  throw new Error(`not every gateway register was written after the restart; missing HR ${[...missing].join(', ')}`);
}

function restartSuite(name: string, skip: string | false, makePeer: () => Promise<Peer>): void {
  describe(`PLC restarts against ${name}`, { skip }, () => {
    test('power cycle with memory lost (zero, then the PLC defaults): commands re-asserted within 2 poll cycles, the PV only with the next sample; the store keeps the operator values', async () => {
      const peer = await makePeer();
      const gw = await startGateway(peer);
      try {
        const { store } = gw;
        await eventually('plc_connected', 5000, () => store.get('plc_connected') === true);
        await store.set('rtd_temp', PV, { durable: false });
        await store.setMany(COMMANDS, { durable: true });
        await eventually('the PLC holds the commands', 5000, () => holdsCommands(peer));

        for (const memory of ['zero', 'defaults'] as const) {
          await peer.restart(memory);
          await eventually(`the PLC holds the commands again after a restart (${memory})`, 8000, () => holdsCommands(peer, false));
          const cycles = cyclesBeforeReasserted(await peer.log());
          assert.ok(cycles <= 2, `re-asserted after ${cycles} poll cycles of the reconnect (memory ${memory})`);
          // The PV is a measurement: its frozen copy is not re-sent, nor the sequence moved without a sample.
          const pvWrites = (await peer.log()).filter(([fc, a, n]) => (fc === 16 || fc === 6) && a <= NJ301_MAP.rtdTemp + 1 && a + n > 0);
          assert.deepEqual(pvWrites, [], `no PV or sequence write without a sample (memory ${memory})`);
          await store.set('rtd_temp', PV + 0.5, { durable: false });
          await eventually('the next sample reaches the PLC', 3000, async () => (await peer.get(1, 2)).join() === words(PV + 0.5).join() && (await peer.get(0, 1))[0] > 0);
          await store.set('rtd_temp', PV, { durable: false });
          await eventually('and the one after', 3000, () => holdsCommands(peer));
          // The PLC's copy never replaces the operator's value, and its feedback flows in.
          assert.equal(store.get('setpoint'), 55);
          assert.equal(store.get('pid_kp'), 12);
          assert.equal(store.get('rtd_temp'), PV);
          await eventually('setpoint_out feedback from the PLC', 3000, () => store.get('setpoint_out') === 55);
        }
      } finally {
        await gw.stop();
        await peer.stop();
      }
    });

    test('memory reset without a reconnect (online program change): the read-back sees it and re-asserts', async () => {
      const peer = await makePeer();
      const gw = await startGateway(peer);
      try {
        const { store } = gw;
        await eventually('plc_connected', 5000, () => store.get('plc_connected') === true);
        await store.set('rtd_temp', PV, { durable: false });
        await store.setMany(COMMANDS, { durable: true });
        await eventually('the PLC holds the commands', 5000, () => holdsCommands(peer));
        const before = await reasserts(gw);
        const setpointWrites = async () => (await peer.log()).filter(([fc, a, n]) => (fc === 16 || fc === 6) && a <= 8 && a + n > 8).length;
        const written = await setpointWrites();
        // Not read back here: a poll may land between the reset and a read and re-assert first.
        await peer.reset('defaults');
        await eventually('the commands again', 3000, () => holdsCommands(peer, false));
        assert.ok((await setpointWrites()) > written, 'the setpoint was written again after the reset');
        const after = await reasserts(gw);
        assert.ok(after > before, `re-asserted (${before} → ${after})`);
        assert.equal(store.get('plc_connected'), true, 'no reconnect was needed');
      } finally {
        await gw.stop();
        await peer.stop();
      }
    });

    test('a three-value PID command arrives in one FC16 (HR 11..16)', async () => {
      const peer = await makePeer();
      const gw = await startGateway(peer);
      try {
        const { store } = gw;
        await eventually('plc_connected', 5000, () => store.get('plc_connected') === true);
        const before = (await peer.log()).length;
        await store.setMany({ pid_kp: 7.5, pid_ki: 120, pid_kd: 15 }, { durable: true });
        await eventually('HR 11..16 hold the new PID', 5000, async () => {
          const hr = await peer.get(11, 6);
          return [7.5, 120, 15].flatMap(words).every((w, i) => hr[i] === w);
        });
        const writes = (await peer.log()).slice(before).filter(([fc, a, n]) => (fc === 16 || fc === 6) && a < 17 && a + n > 11);
        assert.deepEqual(writes, [[16, 11, 6]], 'one FC16 carrying all three values');
      } finally {
        await gw.stop();
        await peer.stop();
      }
    });

    test('an acknowledged setpoint survives a restart of gateway and PLC together', async () => {
      const peer = await makePeer();
      const dir = mkdtempSync(join(tmpdir(), 'fg-plc-restart-'));
      let gw = await startGateway(peer, dir);
      try {
        await eventually('plc_connected', 5000, () => gw.store.get('plc_connected') === true);
        const written = await gw.store.setMany({ setpoint: 55 }, { durable: true });
        assert.equal(written.durable, true, 'acknowledged after fsync');
        await eventually('HR 8..9 = 55', 5000, async () => (await peer.get(8, 2)).join() === words(55).join());

        await gw.stop();
        await peer.restart('defaults');
        assert.deepEqual(await peer.get(8, 2), words(25), 'the restarted PLC holds its default');
        gw = await startGateway(peer, dir);
        await eventually('HR 8..9 = 55 again', 5000, async () => (await peer.get(8, 2)).join() === words(55).join());
        await eventually('setpoint_out 55', 3000, () => gw.store.get('setpoint_out') === 55);
        assert.equal(gw.store.get('setpoint'), 55);
      } finally {
        await gw.stop();
        await peer.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('each PV sample advances the sequence; a PLC whose program stops acknowledging it is reported in /health, and recovers', async () => {
      const peer = await makePeer();
      const gw = await startGateway(peer);
      // The sensor: a sample every 100 ms, mostly within the PV's deadband (no PV write, still a new sequence).
      let n = 0;
      const sensor = setInterval(() => void gw.store.set('rtd_temp', 22 + (n++ % 2) * 0.001, { durable: false }), 100);
      try {
        const check = () => gw.health.report().checks['modbus:plc'];
        const seq = async () => (await peer.get(0, 1))[0];
        await eventually('the sequence on the PLC', 5000, async () => (await seq()) > 0);
        const first = await seq();
        await eventually('the sequence advancing with each sample', 5000, async () => (await seq()) >= first + 5);
        await eventually('handshake ok', 5000, () => check().ok && /handshake ok \(sequence \d+, ack \d+\)/.test(check().detail ?? ''));
        await peer.halt();
        const bad = await eventually('not acknowledging in health', 8000, () => (check().ok ? undefined : check()));
        assert.match(bad.detail ?? '', /PLC has not acknowledged the gateway sequence for \d+\.\d s \(HR 0 = \d+, ack HR 100 = \d+\)/);
        assert.equal(gw.store.get('plc_connected'), true, 'Modbus still answers: connected, but not acknowledging');
        await peer.run();
        await eventually('handshake ok again', 5000, () => check().ok);

        // The sensor stops: the sequence stops too, so the PLC can tell its PV is no longer fresh.
        clearInterval(sensor);
        // A sample set just before the clear may still be on its way to the PLC: let it land first.
        const settling = (await peer.log()).length;
        await eventually('a few polls after the last sample', 5000, async () => (await peer.log()).length > settling + 3);
        const last = await seq();
        const polls = (await peer.log()).length;
        await eventually('more polls', 5000, async () => (await peer.log()).length > polls + 10);
        assert.equal(await seq(), last, 'no keep-alive advances the sequence without a PV sample');
      } finally {
        clearInterval(sensor);
        await gw.stop();
        await peer.stop();
      }
    });
  });
}

restartSuite('the NJ301 simulator', false, simPeer);
restartSuite(`pymodbus (test/peers/pymodbus_plc.py)`, pymodbusSkip, async () => await startPymodbusPlc({ memory: 'defaults' }));

describe('NJ301 simulator life cycle seen by the bridge', () => {
  const peers: Array<{ stop(): Promise<void> }> = [];
  after(async () => {
    for (const p of peers) await p.stop();
  });

  test('a hung PLC (TCP open, no answer) is seen as disconnected; slow answers are not', async () => {
    const peer = await simPeer();
    peers.push(peer);
    const gw = await startGateway(peer);
    try {
      await eventually('plc_connected', 5000, () => gw.store.get('plc_connected') === true);
      peer.plc.slow(150);
      const beat = peer.plc.register(NJ301_MAP.heartbeat);
      await eventually('heartbeat read while slow', 3000, () => (gw.store.get<number>('plc_heartbeat') ?? 0) > beat);
      assert.equal(gw.store.get('plc_connected'), true);
      peer.plc.slow(0);
      peer.plc.hang();
      await eventually('plc_connected false while hung', 5000, () => gw.store.get('plc_connected') === false);
      peer.plc.resume();
      await eventually('plc_connected again', 5000, () => gw.store.get('plc_connected') === true);
    } finally {
      await gw.stop();
    }
  });
});
