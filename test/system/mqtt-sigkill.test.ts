// The mqtt plugin across a gateway SIGKILL, with a real gateway process and a real Mosquitto:
// commands acknowledged (200, durable) while the broker is down are queued in the store, survive
// the SIGKILL, and are published in order once the broker and the gateway are back; a second
// SIGKILL while connected makes the broker send the wills — Sparkplug NDEATH with the bdSeq of
// the last NBIRTH, and the plain/Home Assistant availability topic `offline`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { decodePayload } from '../../plugins/mqtt/sparkplug/payload.ts';
import { eventually } from '../helpers/eventually.ts';
import { mosquittoSkip, startMosquitto } from '../helpers/mosquitto.ts';
import { repoRoot, spawnTs } from '../helpers/spawn.ts';

const CLI = join(repoRoot, 'bin/fieldgate.ts');

const MANIFEST = {
  name: 'sk',
  log: { level: 'info' },
  adapters: [],
  plugins: [
    { id: 'api', use: 'http-api', config: { port: 0, commands: { counter: { type: 'integer', minimum: 0 } } } },
    {
      id: 'mqtt',
      use: 'mqtt',
      config: {
        url: '${MQTT_URL}',
        prefix: 'sk',
        publish: { keys: ['counter'], qos: 1 },
        reconnect: { minMs: 100, maxMs: 400 },
        sparkplug: { enabled: true, groupId: 'plant', edgeNodeId: 'sk' },
      },
    },
  ],
};

interface Gateway {
  child: ChildProcess;
  api: string;
  output: () => string;
}

async function startGateway(manifest: string, dataDir: string, url: string): Promise<Gateway> {
  const child = spawnTs(CLI, ['run', manifest, '--data-dir', dataDir], { env: { MQTT_URL: url } });
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const api = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`gateway not ready within 20 s:\n${out}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /"msg":"ready: 2\/2 plugins running; API at (http:\/\/[^"\s;]+)/.exec(out);
      if (m) {
        clearTimeout(deadline);
        resolve(m[1]);
      }
    });
    child.on('close', () => reject(new Error(`gateway exited before ready:\n${out}`)));
  });
  return { child, api, output: () => out };
}

async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  child.kill('SIGKILL');
  await exited;
}

test('mqtt across a gateway SIGKILL: acknowledged changes are published after the restart, in order; the wills fire', { skip: mosquittoSkip, timeout: 90_000 }, async () => {
  const broker = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-mqtt-sk-'));
  const manifest = join(dir, 'sk.json');
  writeFileSync(manifest, JSON.stringify(MANIFEST));
  const dataDir = join(dir, 'data');
  let gw: Gateway | null = null;
  let sub: MqttClient | null = null;
  try {
    const got: Array<{ topic: string; payload: Buffer }> = [];
    sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 20, clientId: 'test-sk' });
    sub.on('message', (topic, payload) => got.push({ topic, payload }));
    const topics = ['sk/#', 'spBv1.0/plant/+/sk'];
    await sub.subscribeAsync(topics, { qos: 1 });
    const texts = (topic: string) => got.filter((m) => m.topic === topic).map((m) => m.payload.toString('utf8'));
    const bdSeqOf = (type: string) => got.filter((m) => m.topic === `spBv1.0/plant/${type}/sk`).map((m) => decodePayload(m.payload).metrics.find((x) => x.name === 'bdSeq')?.value);

    gw = await startGateway(manifest, dataDir, broker.url);
    await eventually('online and NBIRTH', 10_000, () => texts('sk/status').includes('online') && bdSeqOf('NBIRTH').length === 1);

    // Broker down: 40 commands, each acknowledged once durable.
    await broker.kill();
    const api = gw.api;
    for (let i = 1; i <= 40; i++) {
      const r = await fetch(`${api}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ counter: i }) });
      const text = await r.text();
      assert.equal(r.status, 200, text);
      assert.equal((JSON.parse(text) as { durable: boolean }).durable, true);
    }
    await sigkill(gw.child);
    gw = null;

    // Broker back, the subscriber in place before the gateway returns.
    got.length = 0;
    await broker.restart();
    await eventually('subscriber reconnected', 10_000, () => sub!.connected);
    await sub.subscribeAsync(topics, { qos: 1 });
    gw = await startGateway(manifest, dataDir, broker.url);
    await eventually('counter 40 published after the restart', 15_000, () => texts('sk/counter').includes('40'));
    const seq = texts('sk/counter').map(Number);
    const seen = new Set<number>();
    const distinct = seq.filter((v) => !seen.has(v) && seen.add(v));
    assert.deepEqual(distinct.slice(0, 40), Array.from({ length: 40 }, (_, i) => i + 1), `every acknowledged change, in order (got ${seq.join(',')})`);
    assert.match(gw.output(), /store and forward: \d+ message\(s\) waiting from before the restart/);

    // SIGKILL while connected: the broker sends both wills.
    await eventually('NBIRTH of the second run', 10_000, () => bdSeqOf('NBIRTH').length >= 1);
    const lastBirth = bdSeqOf('NBIRTH').at(-1);
    await sigkill(gw.child);
    gw = null;
    await eventually('NDEATH will', 10_000, () => bdSeqOf('NDEATH').length >= 1);
    assert.equal(bdSeqOf('NDEATH').at(-1), lastBirth, 'NDEATH carries the bdSeq of the last NBIRTH');
    await eventually('availability offline (will)', 10_000, () => texts('sk/status').at(-1) === 'offline');
  } finally {
    if (gw) await sigkill(gw.child);
    await sub?.endAsync();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
