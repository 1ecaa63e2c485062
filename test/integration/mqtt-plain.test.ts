// The mqtt plugin's plain topics against a real Mosquitto: values published on change (deadband),
// the online/offline status, `/set` writes through the same command path as POST /api/command
// (out of range refused with nothing written, a good one in the store and the audit log, an
// oversize payload refused), and store and forward across a broker outage under load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import httpApi from '../../plugins/http-api/plugin.ts';
import mqttPlugin from '../../plugins/mqtt/plugin.ts';
import { eventually } from '../helpers/eventually.ts';
import { testManifest } from '../helpers/manifest.ts';
import { mosquittoSkip, startMosquitto } from '../helpers/mosquitto.ts';

const COMMANDS = {
  setpoint: { type: 'number', minimum: 0, maximum: 120 },
  mode: { type: 'integer', enum: [0, 1, 2] },
};

async function gateway(url: string, dataDir: string, mqttConfig: Record<string, unknown> = {}): Promise<Runtime> {
  const { root } = memoryLog('warn');
  const manifest = testManifest([
    { id: 'api', use: 'http-api', config: { port: 0, commands: COMMANDS } },
    {
      id: 'mqtt',
      use: 'mqtt',
      config: {
        url,
        prefix: 'lab',
        publish: { keys: [{ key: 'rtd_temp', deadband: 0.1 }, { key: 'hb', maxIntervalMs: 200 }, 'setpoint', 'mode', 'counter', 'sensor:*'], qos: 1 },
        reconnect: { minMs: 100, maxMs: 400 },
        maxPayloadBytes: 256,
        ...mqttConfig,
      },
    },
  ], { name: 'lab' });
  const rt = await createRuntime({ manifest, plugins: [httpApi, mqttPlugin], adapters: [], logRoot: root, dataDir });
  await rt.start();
  return rt;
}

interface Received {
  topic: string;
  text: string;
  retain: boolean;
}

async function subscriber(url: string, topic: string, options: mqtt.IClientOptions = {}): Promise<{ client: MqttClient; got: Received[] }> {
  const got: Received[] = [];
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 20, ...options });
  client.on('message', (t, payload, packet) => got.push({ topic: t, text: payload.toString('utf8'), retain: packet.retain }));
  await client.subscribeAsync(topic, { qos: 1 });
  return { client, got };
}

test('mqtt plain topics: change-only publishing, status, /set writes through the command path', { skip: mosquittoSkip, timeout: 30_000 }, async () => {
  const broker = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-mqtt-'));
  let rt: Runtime | null = null;
  let sub: MqttClient | null = null;
  try {
    rt = await gateway(broker.url, dir);
    const r = rt;
    const s = await subscriber(broker.url, 'lab/#');
    sub = s.client;
    const values = (topic: string) => s.got.filter((m) => m.topic === topic).map((m) => m.text);
    await eventually('status online', 5000, () => values('lab/status').includes('online'));
    await eventually('health ok', 5000, () => r.health.report().checks['mqtt.mqtt']?.ok);

    // Published on change, within the deadband not at all; keys not chosen never.
    await r.store.set('rtd_temp', 20);
    await r.store.set('rtd_temp', 20.05);
    await r.store.set('rtd_temp', 20.5);
    await r.store.set('not_published', 1);
    await r.store.set('sensor:co2_b', 612);
    await eventually('rtd_temp 20.5 published', 5000, () => values('lab/rtd_temp').includes('20.5'));
    assert.deepEqual(values('lab/rtd_temp'), ['20', '20.5']);
    await eventually('sensor:co2_b published', 5000, () => values('lab/sensor:co2_b').includes('612'));
    assert.equal(values('lab/not_published').length, 0);
    // An unchanged value is sent again after its maximum interval.
    await r.store.set('hb', 7);
    await eventually('hb re-sent unchanged', 5000, () => values('lab/hb').length >= 3);
    assert.deepEqual(new Set(values('lab/hb')), new Set(['7']));

    const audit = () => r.store.query<{ key: string; key_id: string; route: string; new_value: string; client: string }>('SELECT key, key_id, route, new_value, client FROM http_api_audit ORDER BY id');
    const reply = async (topic: string, n: number) => {
      await eventually(`reply ${n} on ${topic}`, 5000, () => values(topic).length >= n);
      return JSON.parse(values(topic)[n - 1]) as { status: number; ok?: boolean; durable?: boolean; message?: string; fields?: Record<string, string> };
    };

    // Out of range: refused, nothing written, no audit row; the reply names the field.
    await s.client.publishAsync('lab/setpoint/set', '500', { qos: 1 });
    const bad = await reply('lab/setpoint/set/reply', 1);
    assert.equal(bad.status, 400);
    assert.match(bad.fields!.setpoint, /<= 120/);
    assert.equal(r.store.get('setpoint'), undefined);
    assert.equal(audit().length, 0);

    // In range: in the store (durable), audited with the MQTT client id, published back.
    await s.client.publishAsync('lab/setpoint/set', '42.5', { qos: 1 });
    const good = await reply('lab/setpoint/set/reply', 2);
    assert.deepEqual({ status: good.status, ok: good.ok, durable: good.durable }, { status: 200, ok: true, durable: true });
    assert.equal(r.store.get('setpoint'), 42.5);
    assert.deepEqual(audit().map((a) => [a.key, a.key_id, a.route, a.new_value]), [['setpoint', 'fieldgate-lab-mqtt', 'MQTT lab/setpoint/set', '42.5']]);
    assert.match(audit()[0].client, /^mqtt mqtt:\/\/127\.0\.0\.1:/);
    await eventually('setpoint published back', 5000, () => values('lab/setpoint').includes('42.5'));

    // All or nothing over `lab/command`: one bad field, nothing written.
    await s.client.publishAsync('lab/command', JSON.stringify({ setpoint: 50, mode: 7 }), { qos: 1 });
    const mixed = await reply('lab/command/reply', 1);
    assert.equal(mixed.status, 400);
    assert.deepEqual(Object.keys(mixed.fields!), ['mode']);
    assert.equal(r.store.get('setpoint'), 42.5);
    await s.client.publishAsync('lab/command', JSON.stringify({ setpoint: 50, mode: 1 }), { qos: 1 });
    assert.equal((await reply('lab/command/reply', 2)).status, 200);
    assert.deepEqual([r.store.get('setpoint'), r.store.get('mode')], [50, 1]);

    // Not JSON for a number key: the text is the value, refused by the schema.
    await s.client.publishAsync('lab/setpoint/set', 'hot', { qos: 1 });
    assert.equal((await reply('lab/setpoint/set/reply', 3)).status, 400);

    // Above the size limit: never parsed, nothing written.
    await s.client.publishAsync('lab/setpoint/set', ' '.repeat(300) + '1', { qos: 1 });
    const big = await reply('lab/setpoint/set/reply', 4);
    assert.equal(big.status, 413);
    assert.equal(r.store.get('setpoint'), 50);
    assert.equal(audit().length, 3, 'two rows of the lab/command write, one of the first /set');

    // Far above the limit: cut off on the socket before the MQTT parser buffers it; the session comes back.
    const closedBefore = (await r.metrics.text()).match(/fieldgate_mqtt_connected\{plugin="mqtt"\} (\d)/)?.[1];
    assert.equal(closedBefore, '1');
    await s.client.publishAsync('lab/setpoint/set', Buffer.alloc(200_000, 0x31), { qos: 1 });
    await eventually('the oversize packet reported', 5000, () => /packet of \d+ bytes, above the limit/.test(r.health.report().checks['mqtt.mqtt']?.detail ?? ''));
    await eventually('connected again', 5000, () => r.health.report().checks['mqtt.mqtt']?.ok);
    assert.equal(r.store.get('setpoint'), 50);

    // The dashboard's MQTT panel (a contributed route tagged "dashboard").
    const dash = (await (await fetch(`${r.routes.address}/api/dashboard`)).json()) as { panels: Array<{ title: string; source: string }> };
    assert.deepEqual(dash.panels.find((p) => p.source === '/api/mqtt/mqtt'), { title: 'MQTT (mqtt)', source: '/api/mqtt/mqtt' });
    // The heartbeat key may have been queued during the reconnect above: wait for the outbox to empty.
    const panel = await eventually('panel: connected, outbox empty', 5000, async () => {
      const p = (await (await fetch(`${r.routes.address}/api/mqtt/mqtt`)).json()) as Record<string, unknown>;
      return p.connected === true && p.queued === 0 ? p : undefined;
    });
    assert.deepEqual([panel.client_id, panel.dropped], ['fieldgate-lab-mqtt', 0]);

    const text = await r.metrics.text();
    assert.match(text, /fieldgate_mqtt_connected\{plugin="mqtt"\} 1/);
    assert.match(text, /fieldgate_mqtt_commands_total\{plugin="mqtt",status="400"\} 3/);

    // A clean stop says offline (retained).
    await r.stop();
    rt = null;
    await eventually('status offline', 5000, () => values('lab/status').at(-1) === 'offline');
  } finally {
    await rt?.stop();
    await sub?.endAsync();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mqtt 5: a /set with a response topic is answered there, with its correlation data', { skip: mosquittoSkip, timeout: 30_000 }, async () => {
  const broker = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-mqtt-'));
  let rt: Runtime | null = null;
  let client: MqttClient | null = null;
  try {
    rt = await gateway(broker.url, dir, { protocolVersion: 5 });
    const r = rt;
    await eventually('health ok', 5000, () => r.health.report().checks['mqtt.mqtt']?.ok);
    client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const answers: Array<{ text: string; correlation?: string }> = [];
    client.on('message', (_t, payload, packet) => answers.push({ text: payload.toString('utf8'), correlation: packet.properties?.correlationData?.toString('utf8') }));
    await client.subscribeAsync('app/answers', { qos: 1 });
    await client.publishAsync('lab/mode/set', '2', { qos: 1, properties: { responseTopic: 'app/answers', correlationData: Buffer.from('req-17') } });
    await eventually('answer on the response topic', 5000, () => answers.length === 1);
    assert.equal(answers[0].correlation, 'req-17');
    assert.equal((JSON.parse(answers[0].text) as { status: number }).status, 200);
    assert.equal(r.store.get('mode'), 2);
  } finally {
    await rt?.stop();
    await client?.endAsync();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mqtt store and forward: a 30 s broker outage under load loses nothing and keeps the order', { skip: mosquittoSkip, timeout: 120_000 }, async () => {
  const broker = await startMosquitto({ persistent: true });
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-mqtt-'));
  let rt: Runtime | null = null;
  let sub: MqttClient | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    rt = await gateway(broker.url, dir);
    const r = rt;
    // A persistent subscriber session (clean: false): the broker keeps its messages across its own restart.
    const s = await subscriber(broker.url, 'lab/counter', { clientId: 'test-sub-sf', clean: false });
    sub = s.client;
    await eventually('health ok', 5000, () => r.health.report().checks['mqtt.mqtt']?.ok);

    // Load: a change every 5 ms for the whole run.
    let n = 0;
    timer = setInterval(() => void r.store.set('counter', n++, { durable: false }), 5);
    await eventually('live values arrive', 5000, () => s.got.length > 50);
    await broker.kill('SIGTERM');
    await eventually('health reports the outage', 5000, () => r.health.report().checks['mqtt.mqtt']?.ok === false);
    const atKill = n;
    const killedAt = Date.now();
    await eventually('changes queued in the store', 10_000, () => (r.store.query<{ c: number }>('SELECT COUNT(*) AS c FROM mqtt_outbox')[0]?.c ?? 0) > 300);
    // The broker stays down for 30 s of real time (the outage), changes still arriving every 5 ms.
    await eventually('a 30 s outage', 35_000, () => Date.now() - killedAt >= 30_000);
    assert.match(r.health.report().checks['mqtt.mqtt'].detail!, /changes are queued in the store/);
    await broker.restart();
    await eventually('health ok again', 10_000, () => r.health.report().checks['mqtt.mqtt']?.ok);
    await eventually('more live values after the drain', 30_000, () => n > atKill + 400 && r.store.query<{ c: number }>('SELECT COUNT(*) AS c FROM mqtt_outbox')[0]?.c === 0);
    clearInterval(timer);
    timer = undefined;
    const last = n - 1;
    await eventually(`the last value ${last} received`, 10_000, () => s.got.some((m) => m.text === String(last)));
    // Every value, first deliveries in order. QoS 1 is at least once: the few messages in flight when
    // the broker went down are sent again after the reconnect, so a value may arrive a second time.
    const seq = s.got.map((m) => Number(m.text));
    const seen = new Set<number>();
    const distinct = seq.filter((v) => !seen.has(v) && seen.add(v));
    const first = distinct[0];
    assert.deepEqual(distinct, Array.from({ length: last - first + 1 }, (_, i) => first + i), 'every change in order, none lost');
    assert.ok(seq.length - distinct.length < 100, `re-sent after the reconnect: ${seq.length - distinct.length} (the in-flight window only)`);
    assert.ok(first <= 1, `the subscriber saw the run from its start (first ${first})`);
    assert.equal(Number((await r.metrics.text()).match(/fieldgate_mqtt_dropped_total\{plugin="mqtt"\} (\d+)/)?.[1] ?? 0), 0);
  } finally {
    if (timer) clearInterval(timer);
    await rt?.stop();
    await sub?.endAsync();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
