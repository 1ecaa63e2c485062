// Home Assistant MQTT discovery from the shipped manifests against a real Mosquitto: Neasmart zones
// as climate entities (state from the zone events, setpoint and preset writes through the zone
// route, out of range refused), the lab's PV/SP/relay/mode as sensor/number/switch/select, CAN
// sensors with device classes and units; every config valid JSON with its component's required
// fields and the gateway's availability topic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { loadManifest } from '../../core/manifest/load.ts';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { eventually } from '../helpers/eventually.ts';
import { mosquittoSkip, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/net.ts';
import { repoRoot } from '../helpers/spawn.ts';

type Config = Record<string, unknown> & { device: { identifiers: string[] }; availability_topic: string; unique_id: string };

const REQUIRED: Record<string, string[]> = {
  climate: ['temperature_command_topic', 'current_temperature_topic', 'temperature_state_topic'],
  number: ['command_topic', 'state_topic', 'min', 'max'],
  switch: ['command_topic', 'state_topic'],
  select: ['command_topic', 'state_topic', 'options'],
  sensor: ['state_topic'],
  binary_sensor: ['state_topic'],
};

async function run(manifestFile: string, env: Record<string, string>, broker: TestMosquitto): Promise<{ rt: Runtime; dir: string }> {
  const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
  const { manifest } = await loadManifest(`${repoRoot}/manifests/${manifestFile}`, { plugins, adapters, env: { API_PORT: '0', MQTT_URL: broker.url, MQTT_SPARKPLUG: 'false', ...env } });
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-ha-'));
  const rt = await createRuntime({ manifest, plugins, adapters, logRoot: memoryLog('warn').root, dataDir: dir, sim: true });
  await rt.start();
  return { rt, dir };
}

async function listen(url: string, topics: string[]): Promise<{ client: MqttClient; got: Map<string, string[]> }> {
  const got = new Map<string, string[]>();
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 50 });
  client.on('message', (t, p) => got.set(t, [...(got.get(t) ?? []), p.toString('utf8')]));
  await client.subscribeAsync(topics, { qos: 1 });
  return { client, got };
}

function configs(got: Map<string, string[]>, node: string): Map<string, { component: string; config: Config }> {
  const out = new Map<string, { component: string; config: Config }>();
  for (const [topic, payloads] of got) {
    const m = new RegExp(`^homeassistant/([a-z_]+)/${node}/([A-Za-z0-9_-]+)/config$`).exec(topic);
    if (!m) continue;
    const config = JSON.parse(payloads.at(-1)!) as Config;
    out.set(m[2], { component: m[1], config });
  }
  return out;
}

function assertValid(all: Map<string, { component: string; config: Config }>, statusTopic: string): void {
  const ids = new Set<string>();
  for (const [object, { component, config }] of all) {
    for (const field of REQUIRED[component] ?? []) assert.ok(config[field] !== undefined, `${component} ${object}: ${field} missing`);
    assert.equal(config.availability_topic, statusTopic, `${object}: availability topic`);
    assert.ok(config.device.identifiers.length > 0);
    assert.ok(!ids.has(config.unique_id), `unique_id ${config.unique_id} is unique`);
    ids.add(config.unique_id);
  }
}

test('Home Assistant discovery: Neasmart zones as climate entities, writable through the zone route', { skip: mosquittoSkip, timeout: 60_000 }, async () => {
  const broker = await startMosquitto();
  let rt: Runtime | null = null;
  let dir = '';
  let sub: MqttClient | null = null;
  try {
    const s = await listen(broker.url, ['homeassistant/#', 'fieldgate/neasmart-gateway/#']);
    sub = s.client;
    ({ rt, dir } = await run('neasmart-gateway.json', { MODBUS_TCP_HOST: '127.0.0.1', MODBUS_TCP_PORT: String(await freePort()), SIM_TIME_SCALE: '600', BASE_SIM_POLL_MS: '100' }, broker));
    const r = rt;
    await eventually('4 climate configs', 10_000, () => configs(s.got, 'neasmart-gateway').size >= 4);
    const all = configs(s.got, 'neasmart-gateway');
    assertValid(all, 'fieldgate/neasmart-gateway/status');
    assert.deepEqual([...all.values()].map((c) => c.component), ['climate', 'climate', 'climate', 'climate']);
    const living = all.get('neasmart_zone_1_1')!.config;
    assert.equal(living.name, 'Living room');
    assert.deepEqual([living.min_temp, living.max_temp], [5, 35]);
    assert.ok((living.preset_modes as string[]).includes('reduced'));
    assert.equal(s.got.get('fieldgate/neasmart-gateway/status')?.at(-1), 'online');

    // The zone's state on the topic the entity reads, with the fields its templates name.
    const stateTopic = living.current_temperature_topic as string;
    const zone = await eventually('zone 1/1 state', 10_000, () => {
      const last = s.got.get(stateTopic)?.at(-1);
      return last ? (JSON.parse(last) as { value: { temperature: number; setpoint: number; state_name: string } }).value : undefined;
    });
    assert.equal(typeof zone.temperature, 'number');
    assert.equal(stateTopic, living.temperature_state_topic);
    const events = s.got.get(stateTopic)!.length;
    const ts = s.got.get(stateTopic)!.map((p) => (JSON.parse(p) as { ts: number }).ts);
    assert.equal(new Set(ts).size, events, 'each zone event mirrored once');

    const api = r.routes.address!;
    const reply = async (topic: string, n: number) => {
      await eventually(`reply ${n} on ${topic}`, 5000, () => (s.got.get(`${topic}/reply`)?.length ?? 0) >= n);
      return JSON.parse(s.got.get(`${topic}/reply`)![n - 1]) as { status: number; fields?: Record<string, string> };
    };
    // Out of range: refused by the zone route, nothing written.
    const setTopic = living.temperature_command_topic as string;
    const before = (await (await fetch(`${api}/zones/1/1`)).json()) as { setpoint: number };
    await s.client.publishAsync(setTopic, '80', { qos: 1 });
    const bad = await reply(setTopic, 1);
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.fields), /from 5 to 35/);
    assert.equal(((await (await fetch(`${api}/zones/1/1`)).json()) as { setpoint: number }).setpoint, before.setpoint);
    // In range: written to the zone's registers (the REST view shows it), audited.
    await s.client.publishAsync(setTopic, '23.5', { qos: 1 });
    assert.equal((await reply(setTopic, 2)).status, 202);
    await eventually('setpoint 23.5 in the zone', 5000, async () => ((await (await fetch(`${api}/zones/1/1`)).json()) as { setpoint: number }).setpoint === 23.5);
    await s.client.publishAsync(living.preset_mode_command_topic as string, 'reduced', { qos: 1 });
    assert.equal((await reply(living.preset_mode_command_topic as string, 1)).status, 202);
    await eventually('state reduced (2)', 5000, async () => ((await (await fetch(`${api}/zones/1/1`)).json()) as { state: number }).state === 2);
    const audit = r.store.query<{ route: string; key: string; key_id: string }>('SELECT route, key, key_id FROM http_api_audit ORDER BY id');
    assert.deepEqual(audit.map((a) => [a.route, a.key, a.key_id]), [
      [`MQTT ${setTopic}`, '/zones/1/1', 'fieldgate-neasmart-gateway-mqtt'],
      [`MQTT ${living.preset_mode_command_topic as string}`, '/zones/1/1', 'fieldgate-neasmart-gateway-mqtt'],
    ]);
  } finally {
    await rt?.stop();
    await sub?.endAsync();
    await broker.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

test('Home Assistant discovery: lab PV/SP/relay/mode and CAN sensors with device classes and units', { skip: mosquittoSkip, timeout: 60_000 }, async () => {
  const broker = await startMosquitto();
  const runs: Array<{ rt: Runtime; dir: string }> = [];
  let sub: MqttClient | null = null;
  try {
    const s = await listen(broker.url, ['homeassistant/#']);
    sub = s.client;
    runs.push(await run('plc-remote-lab.json', { SIM_TIME_SCALE: '60', SENSOR_POLL_MS: '100' }, broker));
    await eventually('lab configs', 10_000, () => configs(s.got, 'plc-remote-lab').has('setpoint') && configs(s.got, 'plc-remote-lab').has('rtd_temp'));
    const lab = configs(s.got, 'plc-remote-lab');
    assertValid(lab, 'fieldgate/plc-remote-lab/status');
    const pick = (id: string) => lab.get(id)!;
    assert.deepEqual([pick('rtd_temp').component, pick('rtd_temp').config.device_class, pick('rtd_temp').config.unit_of_measurement], ['sensor', 'temperature', '°C']);
    assert.deepEqual([pick('setpoint').component, pick('setpoint').config.min, pick('setpoint').config.max, pick('setpoint').config.unit_of_measurement], ['number', 0, 120, '°C']);
    assert.equal(pick('setpoint').config.command_topic, 'fieldgate/plc-remote-lab/setpoint/set');
    assert.deepEqual([pick('power_on_requested').component, pick('power_on_requested').config.payload_on], ['switch', 'true']);
    assert.deepEqual([pick('mode').component, pick('mode').config.options], ['select', ['0', '1', '2']]);
    assert.equal(lab.get('sensor_ok')?.component, 'binary_sensor');
    assert.equal(pick('rtd_temp').config.value_template, '{{ value_json }}', 'JSON values (strings, null) rendered for Home Assistant');

    runs.push(await run('cea-can-pipeline.json', { CAN_DBC: `${repoRoot}/manifests/cea.dbc` }, broker));
    await eventually('CAN sensor configs', 10_000, () => configs(s.got, 'cea-can-pipeline').size >= 26);
    const can = configs(s.got, 'cea-can-pipeline');
    assertValid(can, 'fieldgate/cea-can-pipeline/status');
    const cls = (id: string) => [can.get(id)?.component, can.get(id)?.config.device_class, can.get(id)?.config.unit_of_measurement];
    assert.deepEqual(cls('sensor_co2_b'), ['sensor', 'carbon_dioxide', 'ppm']);
    assert.deepEqual(cls('sensor_rh_f'), ['sensor', 'humidity', '%']);
    assert.deepEqual(cls('sensor_dry_bulb_v'), ['sensor', 'temperature', '°C']);
    assert.deepEqual(cls('sensor_pressure_b'), ['sensor', 'atmospheric_pressure', 'hPa']);
    assert.ok(![...can.keys()].some((k) => k.endsWith('_ts')), 'the :ts keys are excluded');
  } finally {
    for (const r of runs) {
      await r.rt.stop();
      rmSync(r.dir, { recursive: true, force: true });
    }
    await sub?.endAsync();
    await broker.stop();
  }
});
