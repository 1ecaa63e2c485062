// MQTT benchmark (not a test): the mqtt plugin against a local Mosquitto — 1,000 keys changing at
// 10 Hz (QoS 0 and 1) with CPU and RSS, the fastest sustained publish rate at QoS 0 and QoS 1, and
// the replay rate of a 100,000-message store-and-forward backlog. The subscriber is Debian's
// mosquitto_sub in its own process. Run: node --import tsx bench/mqtt.ts
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from '../core/host/runtime.ts';
import { memoryLog } from '../core/log.ts';
import mqttPlugin from '../plugins/mqtt/plugin.ts';
import { testManifest } from '../test/helpers/manifest.ts';
import { freePort } from '../test/helpers/net.ts';
import { startMosquitto, type TestMosquitto } from '../test/helpers/mosquitto.ts';

const KEYS = 1000;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const root = mkdtempSync(join(tmpdir(), 'fieldgate-bench-mqtt-'));
let dirs = 0;

async function gateway(url: string, qos: 0 | 1, maxMessages = 100_000, dataDir = join(root, `d${dirs++}`)): Promise<Runtime> {
  const manifest = testManifest([{ id: 'mqtt', use: 'mqtt', config: { url, prefix: 'bench', publish: { keys: ['k*'], qos, retain: false }, queue: { maxMessages, drainBatch: 1000 }, reconnect: { minMs: 50, maxMs: 200 } } }], { name: 'bench' });
  const rt = await createRuntime({ manifest, plugins: [mqttPlugin], adapters: [], logRoot: memoryLog('warn').root, dataDir });
  await rt.start();
  return rt;
}

/** mosquitto_sub in its own process, counting messages on bench/#; resolves when `n` arrived. */
function subscriber(port: number): { ready: Promise<void>; count: () => number; until: (n: number, ms: number) => Promise<number>; stop: () => void } {
  const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', 'bench/#', '-q', '1', '-F', '%t'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let count = 0;
  child.stdout.on('data', (d: Buffer) => {
    for (const b of d) if (b === 10) count++;
  });
  return {
    ready: new Promise((r) => setTimeout(r, 300)),
    count: () => count,
    until: async (n, ms) => {
      const t0 = performance.now();
      while (count < n && performance.now() - t0 < ms) await new Promise((r) => setTimeout(r, 5));
      return performance.now() - t0;
    },
    stop: () => child.kill('SIGKILL'),
  };
}

async function connected(rt: Runtime): Promise<void> {
  while (!rt.health.report().checks['mqtt.mqtt']?.ok) await new Promise((r) => setTimeout(r, 20));
}

function batch(round: number): Record<string, number> {
  const values: Record<string, number> = {};
  // Every value differs from the last one sent (negative rounds are the warm-up).
  for (let k = 0; k < KEYS; k++) values[`k${k}`] = round * KEYS + (round < 0 ? -k : k);
  return values;
}

async function tenHz(broker: TestMosquitto, qos: 0 | 1): Promise<void> {
  const sub = subscriber(broker.port);
  await sub.ready;
  const rt = await gateway(broker.url, qos);
  await connected(rt);
  // 2 s of warm-up (JIT, buffers, the store's pages), then 10 s measured.
  for (let round = 1; round <= 20; round++) {
    await rt.store.setMany(batch(-round), { durable: false });
    await new Promise((r) => setTimeout(r, 100));
  }
  await sub.until(20 * KEYS, 10_000);
  const base = sub.count();
  gc();
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const SECONDS = 10;
  for (let round = 1; round <= SECONDS * 10; round++) {
    await rt.store.setMany(batch(round), { durable: false });
    const next = t0 + round * 100;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  const sent = SECONDS * 10 * KEYS;
  const waited = await sub.until(base + sent, 20_000);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  gc();
  const rss1 = process.memoryUsage().rss;
  console.log(`1,000 keys x 10 Hz, QoS ${qos}, ${SECONDS} s: ${fmt(sub.count() - base)}/${fmt(sent)} received (${waited < 20_000 ? 'all' : 'MISSING'}), CPU ${((cpu.user + cpu.system) / 1000 / wall * 100).toFixed(0)} % of one core, RSS ${mb(rss0)} → ${mb(rss1)} MB (${(rss1 - rss0 >= 0 ? '+' : '')}${mb(rss1 - rss0)} MB)`);
  await rt.stop();
  sub.stop();
}

async function flat(broker: TestMosquitto, qos: 0 | 1): Promise<void> {
  const sub = subscriber(broker.port);
  await sub.ready;
  const rt = await gateway(broker.url, qos);
  await connected(rt);
  const base = sub.count();
  const ROUNDS = 100;
  const t0 = performance.now();
  for (let round = 1; round <= ROUNDS; round++) {
    await rt.store.setMany(batch(round), { durable: false });
    // Let the socket drain between bursts, as a real poller's event loop would.
    await new Promise((r) => setImmediate(r));
  }
  const offered = performance.now() - t0;
  const n = ROUNDS * KEYS;
  await sub.until(base + n, 60_000);
  const wall = performance.now() - t0;
  console.log(`as fast as possible, QoS ${qos}: ${fmt(n)} changes offered in ${fmt(offered)} ms, ${fmt(sub.count() - base)} received in ${fmt(wall)} ms → ${fmt((sub.count() - base) / (wall / 1000))} messages/s end to end`);
  await rt.stop();
  sub.stop();
}

async function replay(): Promise<void> {
  // Queued while no broker answers (a port nobody listens on), then the gateway is stopped.
  const dataDir = join(root, `d${dirs++}`);
  let rt = await gateway(`mqtt://127.0.0.1:${await freePort()}`, 1, 100_000, dataDir);
  const N = 100_000;
  gc();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  for (let round = 1; round <= N / KEYS; round++) await rt.store.setMany(batch(round), { durable: false });
  await rt.store.flush();
  const queuedMs = performance.now() - t0;
  const q = rt.store.query<{ c: number }>('SELECT COUNT(*) AS c FROM mqtt_outbox')[0].c;
  console.log(`backlog: ${fmt(q)} messages queued in the store in ${fmt(queuedMs)} ms (${fmt(q / (queuedMs / 1000))}/s, journaled); RSS ${mb(rss0)} → ${mb(process.memoryUsage().rss)} MB`);
  await rt.stop();
  // Broker and subscriber first, then the gateway restarts on the same data dir and replays.
  const broker = await startMosquitto();
  const sub = subscriber(broker.port);
  await sub.ready;
  const t1 = performance.now();
  rt = await gateway(broker.url, 1, 100_000, dataDir);
  const started = performance.now() - t1;
  while (rt.store.query<{ c: number }>('SELECT COUNT(*) AS c FROM mqtt_outbox')[0].c > 0 && performance.now() - t1 < 120_000) await new Promise((r) => setTimeout(r, 20));
  const drained = performance.now() - t1;
  await sub.until(N, 30_000);
  console.log(`replay after a restart: ${fmt(N)} queued messages sent and acknowledged (QoS 1) in ${fmt(drained)} ms including ${fmt(started)} ms of start-up (store replay) → ${fmt(N / (drained / 1000))} messages/s; subscriber got ${fmt(sub.count())}, RSS ${mb(process.memoryUsage().rss)} MB`);
  await rt.stop();
  sub.stop();
  await broker.stop();
}

const broker = await startMosquitto();
try {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  console.log(`mqtt bench on ${deno ? `Deno ${deno.version.deno}` : `Node ${process.versions.node}`}, mosquitto on 127.0.0.1`);
  await tenHz(broker, 0);
  await tenHz(broker, 1);
  await flat(broker, 0);
  await flat(broker, 1);
  await replay();
} finally {
  await broker.stop();
  rmSync(root, { recursive: true, force: true });
}
