// The mqtt plugin's Sparkplug B edge node against a real Mosquitto, every payload decoded by Debian's
// python3-protobuf with the Tahu schema (not our decoder): NBIRTH/DBIRTH with bdSeq, names, aliases
// and datatypes, DDATA by alias with seq counting on, rebirth on an NCMD, DCMD writes through the
// command path (refused out of range, audited when good), bdSeq and seq across a broker restart
// and a gateway restart (clean NDEATH with the session's bdSeq).
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
import { type PyPayload, pyDecode, pyEncode, sparkplugPythonSkip } from '../helpers/sparkplug-python.ts';

const NODE = 'spBv1.0/plant/+/lab';

async function gateway(url: string, dataDir: string): Promise<Runtime> {
  const { root } = memoryLog('warn');
  const manifest = testManifest([
    { id: 'api', use: 'http-api', config: { port: 0, commands: { setpoint: { type: 'number', minimum: 0, maximum: 120 }, mode: { type: 'integer', enum: [0, 1, 2] } } } },
    {
      id: 'mqtt',
      use: 'mqtt',
      config: {
        url,
        prefix: 'lab',
        publish: { keys: ['rtd_temp', 'setpoint', 'mode', 'sensor_ok', 'extra_*'] },
        reconnect: { minMs: 100, maxMs: 400 },
        sparkplug: { enabled: true, groupId: 'plant', edgeNodeId: 'lab', devices: [{ id: 'plc', keys: ['setpoint', 'mode'] }, { id: 'sensor', keys: ['rtd_temp', 'sensor_ok', 'extra_*'] }] },
      },
    },
  ], { name: 'lab' });
  const rt = await createRuntime({ manifest, plugins: [httpApi, mqttPlugin], adapters: [], logRoot: root, dataDir });
  if (rt.store.get('rtd_temp') === undefined) {
    await rt.store.setMany({ rtd_temp: 21.25, sensor_ok: true, setpoint: 40, mode: 1 });
  }
  await rt.start();
  return rt;
}

interface Msg {
  topic: string;
  type: string;
  bytes: Uint8Array;
}

const metric = (p: PyPayload, name: string) => p.metrics?.find((m) => m.name === name);

test('mqtt Sparkplug B: births, data, rebirth, DCMD writes, bdSeq/seq across restarts (decoded by python3-protobuf)', { skip: mosquittoSkip || sparkplugPythonSkip, timeout: 60_000 }, async () => {
  const broker = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-spb-'));
  let rt: Runtime | null = null;
  let host: MqttClient | null = null;
  try {
    // The host application subscribes first, as Sparkplug expects.
    const got: Msg[] = [];
    host = await mqtt.connectAsync(broker.url, { reconnectPeriod: 20, clientId: 'test-host' });
    // The host's own NCMD/DCMD come back through the wildcard: only what the edge node sent counts.
    host.on('message', (topic, payload) => /CMD$/.test(topic.split('/')[2]) || got.push({ topic, type: topic.split('/')[2], bytes: new Uint8Array(payload) }));
    await host.subscribeAsync(`${NODE}/#`, { qos: 1 });
    await host.subscribeAsync(`${NODE}`, { qos: 1 });
    const since = (i: number) => got.slice(i);
    const decoded = (msgs: Msg[]) => pyDecode(msgs.map((m) => m.bytes)).map((p, i) => ({ ...msgs[i], p }));

    rt = await gateway(broker.url, dir);
    await eventually('NBIRTH and both DBIRTHs', 5000, () => got.filter((m) => m.type === 'DBIRTH').length === 2);
    let all = decoded(got);
    assert.deepEqual(all.map((m) => m.topic), ['spBv1.0/plant/NBIRTH/lab', 'spBv1.0/plant/DBIRTH/lab/plc', 'spBv1.0/plant/DBIRTH/lab/sensor']);
    const nbirth = all[0].p;
    assert.equal(nbirth.seq, '0');
    assert.equal(metric(nbirth, 'bdSeq')?.long_value ?? '0', '0');
    assert.equal(metric(nbirth, 'bdSeq')?.datatype, 4, 'bdSeq is Int64');
    assert.deepEqual([metric(nbirth, 'Node Control/Rebirth')?.datatype, metric(nbirth, 'Node Control/Rebirth')?.boolean_value ?? false], [11, false]);
    assert.deepEqual(all.slice(1).map((m) => m.p.seq), ['1', '2']);
    const plc = all[1].p;
    assert.deepEqual(plc.metrics!.map((m) => [m.name, m.datatype]).sort(), [['mode', 4], ['setpoint', 10]], 'integer schema → Int64, number → Double');
    assert.equal(metric(plc, 'setpoint')?.double_value, 40);
    const sensor = all[2].p;
    assert.equal(metric(sensor, 'rtd_temp')?.double_value, 21.25);
    assert.equal(metric(sensor, 'sensor_ok')?.boolean_value, true);
    const rtdAlias = metric(sensor, 'rtd_temp')!.alias!;
    assert.ok(Number(rtdAlias) > 0, 'aliases announced in DBIRTH');

    // DDATA by alias, seq counting on.
    let mark = got.length;
    await rt.store.set('rtd_temp', 22.5);
    await eventually('DDATA sensor', 5000, () => since(mark).some((m) => m.type === 'DDATA'));
    const [ddata] = decoded(since(mark).filter((m) => m.type === 'DDATA'));
    assert.equal(ddata.topic, 'spBv1.0/plant/DDATA/lab/sensor');
    assert.equal(ddata.p.seq, '3');
    assert.deepEqual([ddata.p.metrics![0].name, ddata.p.metrics![0].alias, ddata.p.metrics![0].double_value], [undefined, rtdAlias, 22.5]);

    // New metrics on a device: one DBIRTH for the whole write, announcing them with the others.
    mark = got.length;
    await rt.store.setMany({ extra_a: 1, extra_b: 'on' });
    await eventually('DBIRTH sensor again', 5000, () => since(mark).some((m) => m.type === 'DBIRTH'));
    await rt.store.set('rtd_temp', 22.75);
    await eventually('DDATA after it', 5000, () => since(mark).some((m) => m.type === 'DDATA'));
    all = decoded(since(mark));
    assert.deepEqual(all.map((m) => [m.topic, m.p.seq]), [['spBv1.0/plant/DBIRTH/lab/sensor', '4'], ['spBv1.0/plant/DDATA/lab/sensor', '5']]);
    assert.deepEqual(all[0].p.metrics!.map((m) => [m.name, m.datatype]).sort(), [['extra_a', 10], ['extra_b', 12], ['rtd_temp', 10], ['sensor_ok', 11]]);
    assert.equal(metric(all[0].p, 'rtd_temp')!.alias, rtdAlias, 'aliases are stable');

    // The keys of one write go out as one DDATA.
    mark = got.length;
    await rt.store.setMany({ rtd_temp: 23, sensor_ok: false, extra_a: 2 });
    await eventually('one DDATA for the write', 5000, () => since(mark).some((m) => m.type === 'DDATA'));
    const [batch] = decoded(since(mark));
    assert.equal(batch.p.seq, '6');
    assert.deepEqual(batch.p.metrics!.map((m) => [m.alias, m.double_value ?? m.boolean_value ?? false]), [[rtdAlias, 23], [metric(all[0].p, 'sensor_ok')!.alias, false], [metric(all[0].p, 'extra_a')!.alias, 2]]);

    // Rebirth on request: NBIRTH again (same bdSeq, seq 0) and both DBIRTHs.
    mark = got.length;
    await host.publishAsync('spBv1.0/plant/NCMD/lab', pyEncode({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', datatype: 11, boolean_value: true }] }));
    await eventually('rebirth', 5000, () => since(mark).filter((m) => m.type === 'DBIRTH').length === 2);
    all = decoded(since(mark));
    assert.deepEqual(all.map((m) => [m.type, m.p.seq]), [['NBIRTH', '0'], ['DBIRTH', '1'], ['DBIRTH', '2']]);
    assert.equal(metric(all[0].p, 'bdSeq')?.long_value ?? '0', '0');

    // DCMD through the command path: out of range refused and nothing written; a good one audited.
    const audit = () => rt!.store.query<{ key: string; route: string; key_id: string }>('SELECT key, route, key_id FROM http_api_audit ORDER BY id');
    await host.publishAsync('spBv1.0/plant/DCMD/lab/plc', pyEncode({ timestamp: Date.now(), metrics: [{ name: 'setpoint', datatype: 10, double_value: 500 }] }));
    await eventually('refusal counted', 5000, async () => /fieldgate_mqtt_commands_total\{plugin="mqtt",status="400"\} 1/.test(await rt!.metrics.text()));
    assert.equal(rt.store.get('setpoint'), 40);
    assert.equal(audit().length, 0);
    mark = got.length;
    await host.publishAsync('spBv1.0/plant/DCMD/lab/plc', pyEncode({ timestamp: Date.now(), metrics: [{ alias: metric(plc, 'setpoint')!.alias, datatype: 10, double_value: 55.5 }] }));
    await eventually('setpoint written', 5000, () => rt!.store.get('setpoint') === 55.5);
    assert.deepEqual(audit().map((a) => [a.key, a.route, a.key_id]), [['setpoint', 'Sparkplug DCMD plc', 'fieldgate-lab-mqtt-spb']]);
    await eventually('DDATA plc with the new setpoint', 5000, () => since(mark).some((m) => m.topic === 'spBv1.0/plant/DDATA/lab/plc'));
    assert.equal(decoded(since(mark).filter((m) => m.type === 'DDATA'))[0].p.metrics![0].double_value, 55.5);

    // Broker restart: a new session, a new NBIRTH with a higher bdSeq, seq from 0.
    await broker.kill();
    mark = got.length;
    await broker.restart();
    await eventually('NBIRTH after the broker restart', 10_000, () => since(mark).filter((m) => m.type === 'DBIRTH').length === 2);
    all = decoded(since(mark));
    assert.equal(all[0].type, 'NBIRTH');
    assert.equal(all[0].p.seq, '0');
    const bdSeq2 = Number(metric(all[0].p, 'bdSeq')?.long_value ?? 0);
    assert.ok(bdSeq2 >= 1, `bdSeq counts CONNECTs (${bdSeq2})`);

    // Gateway restart: a clean stop sends NDEATH with the session's bdSeq; the next run's NBIRTH has the next one.
    mark = got.length;
    await rt.stop();
    rt = null;
    await eventually('NDEATH on a clean stop', 5000, () => since(mark).some((m) => m.type === 'NDEATH'));
    const [death] = decoded(since(mark).filter((m) => m.type === 'NDEATH'));
    assert.equal(Number(metric(death.p, 'bdSeq')?.long_value ?? 0), bdSeq2);
    assert.equal(death.p.seq, undefined, 'NDEATH carries no seq');
    mark = got.length;
    rt = await gateway(broker.url, dir);
    await eventually('NBIRTH after the gateway restart', 10_000, () => since(mark).some((m) => m.type === 'NBIRTH'));
    const [reborn] = decoded(since(mark).filter((m) => m.type === 'NBIRTH'));
    assert.equal(Number(metric(reborn.p, 'bdSeq')?.long_value ?? 0), (bdSeq2 + 1) % 256);
    assert.equal(reborn.p.seq, '0');
  } finally {
    await rt?.stop();
    await host?.endAsync();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
