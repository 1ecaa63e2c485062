// manifests/neasmart-gateway.json end to end on the base-station simulator: the shipped manifest,
// the modbus-server on a loopback TCP port, the simulated Neasmart base polling it as the Modbus
// master, and the REST routes read through the http-api. mbpoll (Debian) is the independent client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { loadManifest } from '../../core/manifest/load.ts';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { decodeDpt9, encodeDpt9 } from '../../plugins/neasmart/dpt9001.ts';
import type { NeasmartBaseSimulator } from '../../sim/neasmart-base.ts';
import { repoRoot, runTs } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';

const API_KEY = 'neasmart-test-key';


function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const mbpoll = await run('mbpoll', ['-V']);
// execFile reports a missing binary as code 'ENOENT', which run() turns into -1.
const mbpollMissing = mbpoll.code === -1 ? 'mbpoll is not installed (Debian: apt-get install -y mbpoll); skipping the independent-client test' : false;

describe('neasmart-gateway on the base-station simulator', () => {
  let runtime: Runtime;
  let api: string;
  let modbusPort: number;
  let base: NeasmartBaseSimulator;
  let dataDir: string;
  const { root } = memoryLog('info');

  interface Http {
    status: number;
    stale: string | null;
    body: Record<string, unknown>;
  }
  const request = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Http> => {
    const r = await fetch(`${api}${path}`, {
      method,
      headers: body === undefined ? { 'x-api-key': API_KEY } : { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, stale: r.headers.get('x-rehau-registers-stale'), body: (await r.json()) as Record<string, unknown> };
  };
  const get = (path: string) => request('GET', path);
  const post = (path: string, body: unknown) => request('POST', path, body);

  before(async () => {
    const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
    // One clock second is 600 process seconds: a zone's 30-minute time constant takes 3 s.
    const env = {
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      API_KEY,
      MODBUS_TCP_HOST: '127.0.0.1',
      MODBUS_TCP_PORT: '0', // an ephemeral port; the simulated base hears which one the gateway bound
      SIM_TIME_SCALE: '600',
      BASE_SIM_POLL_MS: '100',
    };
    const { manifest } = await loadManifest(`${repoRoot}/manifests/neasmart-gateway.json`, { plugins, adapters, env });
    dataDir = mkdtempSync(join(tmpdir(), 'neasmart-gateway-'));
    runtime = await createRuntime({ manifest, plugins, adapters, logRoot: root, dataDir, sim: true });
    await runtime.start();
    api = runtime.routes.address!;
    assert.ok(api, 'the API announced its address');
    base = runtime.world.require<NeasmartBaseSimulator>('sim:base');
    modbusPort = runtime.services.require<{ tcpAddress: { port: number } }>('modbus-server:modbus').tcpAddress.port;
    assert.ok(modbusPort > 0, 'the modbus-server bound an ephemeral port');
    await base.waitCycles(2);
  });

  after(async () => {
    await runtime?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('the manifest validates with the CLI', async () => {
    const r = await runTs(join(repoRoot, 'bin/fieldgate.ts'), ['validate', 'manifests/neasmart-gateway.json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('no zone starts at a 0 °C setpoint: the base fills in its room units\' setpoints from the manifest', async () => {
    const setpoints = await Promise.all([1, 2, 3, 4].map(async (z) => (await get(`/zones/1/${z}`)).body.setpoint));
    assert.deepEqual(setpoints, [21, 20, 18, 22]);
  });

  test('a setpoint POSTed to /zones/1/3 is read by the base over Modbus and the zone warms toward it', async () => {
    const start = await get('/zones/1/3');
    assert.equal(start.status, 200);
    assert.equal(start.stale, 'false', 'the base polls, so the registers are fresh');
    const t0 = start.body.temperature as number;
    assert.equal(typeof t0, 'number');

    const target = Math.round(t0) + 8;
    const w = await post('/zones/1/3', { state: 1, setpoint: target });
    assert.equal(w.status, 202, JSON.stringify(w.body));
    assert.equal(w.stale, 'false');
    assert.deepEqual(w.body.written, { state: 1, setpoint: target });

    await eventually('the base read the new setpoint over Modbus', 5000, () => base.model.zone(1, 3).setpoint === target && base.model.zone(1, 3).state === 1);
    const warm = await eventually('zone 1/3 within 1 °C of its setpoint', 20_000, async () => {
      const z = (await get('/zones/1/3')).body;
      return Math.abs((z.temperature as number) - target) < 1 ? z : undefined;
    });
    assert.equal(warm.setpoint, target);
    assert.equal(warm.state, 1);
    assert.equal(warm.state_name, 'normal');
    assert.ok((warm.relative_humidity as number) >= 30 && (warm.relative_humidity as number) <= 70);

    const listed = (await get('/api/v1/zones')).body as { zones: Array<Record<string, unknown>>; total: number };
    assert.equal(listed.total, 4);
    const bedroom = listed.zones.find((z) => z.baseId === 1 && z.zoneId === 3)!;
    assert.equal(bedroom.zoneLabel, 'Bedroom');
    assert.equal(bedroom.setpoint, target);
  });

  test('temperatures the base writes decode right: a negative outside temperature, an invalid marker as null', async () => {
    base.model.setOutside(-7.3);
    const outside = await eventually('outside -7.3 °C in REST', 5000, async () => {
      const r = await get('/outsidetemperature');
      return r.body.outside_temperature === -7.3 ? r : undefined;
    });
    assert.equal(outside.stale, 'false');
    assert.ok((outside.body.filtered_outside_temperature as number) > -7.3, 'the filtered value lags the step');
    assert.ok(base.broadcasts > 0, 'some outside temperatures went out as broadcasts to unit 0');

    base.failSensor(1, 2, 0x8116);
    await eventually('zone 1/2 temperature null (0x8116)', 5000, async () => (await get('/zones/1/2')).body.temperature === null);
    base.failSensor(1, 2, 0x7fff);
    await base.waitCycles(2);
    assert.equal((await get('/zones/1/2')).body.temperature, null);
    base.repairSensor(1, 2);
    await eventually('zone 1/2 temperature back', 5000, async () => typeof (await get('/zones/1/2')).body.temperature === 'number');

    const group = (await get('/mixedgroups/1')).body;
    assert.equal(typeof group.flow_temperature, 'number');
    assert.equal(typeof group.pump_running, 'boolean');
  });

  test('REST bodies out of range are 400 naming the field, and nothing is written', async () => {
    assert.equal((await post('/zones/1/4', { state: 3, setpoint: 19.5 })).status, 202);
    assert.equal((await post('/mode', { mode: 1 })).status, 202);
    const before = (await get('/zones/1/4')).body;
    const bad: Array<[string, unknown, string]> = [
      ['/zones/1/4', { setpoint: 35.5 }, 'body.setpoint'],
      ['/zones/1/4', { setpoint: 4 }, 'body.setpoint'],
      ['/zones/1/4', { state: 7, setpoint: 21 }, 'body.state'],
      ['/zones/1/4', { state: 2, setpoint: 'warm' }, 'body.setpoint'],
      ['/zones/6/4', { state: 2 }, 'params.base'],
      ['/zones/1/13', { state: 2 }, 'params.zone'],
      ['/mode', { mode: 0 }, 'body.mode'],
    ];
    for (const [path, body, field] of bad) {
      const r = await post(path, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.ok(field in (r.body.fields as object), `${path} ${JSON.stringify(body)} names ${field}: ${JSON.stringify(r.body)}`);
      assert.equal(r.stale, 'false', 'the 400 carries the stale header too');
    }
    const noKey = await fetch(`${api}/zones/1/4`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ state: 2 }) });
    assert.equal(noKey.status, 401, 'writes need the API key');
    await base.waitCycles(2);
    const afterAll = (await get('/zones/1/4')).body;
    assert.equal(afterAll.state, before.state);
    assert.equal(afterAll.setpoint, before.setpoint);
    assert.equal(afterAll.setpoint, 19.5);
    assert.deepEqual((await get('/mode')).body, { mode: 1, mode_name: 'auto' });
  });

  test('mbpoll reads and writes the gateway\'s registers and sees what REST shows', { skip: mbpollMissing }, async () => {
    const mb = (args: string[]) => run('mbpoll', ['-m', 'tcp', '-p', String(modbusPort), '-a', '240', '-0', '-1', '-o', '2', ...args]);
    const registers = (out: string) => new Map([...out.matchAll(/\[(\d+)\]:\s+(0x[0-9A-Fa-f]+|-?\d+)/g)].map((m) => [Number(m[1]), Number(m[2]) & 0xffff]));

    // Read: the setpoint REST wrote to zone 1/3 and the state, raw, decoded here.
    await post('/zones/1/3', { state: 2, setpoint: 23.5 });
    const read = await mb(['-t', '4:hex', '-r', '300', '-c', '2', '127.0.0.1']);
    assert.equal(read.code, 0, read.stdout + read.stderr);
    const regs = registers(read.stdout);
    assert.equal(regs.get(300), 2);
    assert.equal(decodeDpt9(regs.get(301)!), 23.5);

    // Write: state and setpoint of zone 1/4 and the global mode, as another master would.
    const write = await mb(['-t', '4', '-r', '400', '127.0.0.1', '5', String(encodeDpt9(26.5))]);
    assert.equal(write.code, 0, write.stdout + write.stderr);
    const z = (await get('/zones/1/4')).body;
    assert.equal(z.state, 5);
    assert.equal(z.state_name, 'party');
    assert.equal(z.setpoint, 26.5);
    assert.equal((await mb(['-t', '4', '-r', '1', '127.0.0.1', '3'])).code, 0);
    assert.deepEqual((await get('/mode')).body, { mode: 3, mode_name: 'cooling' });

    // A negative temperature the base wrote, read by mbpoll as a signed word, decodes to what REST shows.
    base.model.setOutside(-3.2);
    await eventually('outside -3.2 in REST', 5000, async () => (await get('/outsidetemperature')).body.outside_temperature === -3.2);
    const outside = registers((await mb(['-t', '4:hex', '-r', '7', '127.0.0.1'])).stdout);
    assert.equal(decodeDpt9(outside.get(7)!), -3.2);
  });

  test('decoded zone changes are published on the bus (and so reach the WebSocket feed)', async () => {
    const seen: Array<{ key: string; value: { temperature: number | null } }> = [];
    const off = runtime.bus.subscribe<{ key: string; value: { temperature: number | null } }>('neasmart/neasmart/zones/1/1', (e) => void seen.push(e));
    try {
      await base.waitCycles(2);
      assert.ok(seen.length > 0, 'the base\'s temperature writes to zone 1/1 were published');
      assert.equal(seen.at(-1)!.key, 'zone_1_1');
      // The base writes one decimal (DPT 9.001 keeps it exactly below 20.48 °C, to 0.02 above).
      const t = seen.at(-1)!.value.temperature!;
      assert.ok(typeof t === 'number' && t > 0 && t < 40, `decoded temperature ${t}`);
    } finally {
      off();
    }
  });

  test('the gateway health at /api/v1/health follows the base station\'s polling', async () => {
    const h = await get('/api/v1/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    assert.equal((h.body.registers as { stale: boolean }).stale, false);
    const core = (await (await fetch(`${api}/health`)).json()) as { checks: Record<string, { ok: boolean }> };
    assert.equal(core.checks['neasmart:neasmart']?.ok, true);
  });
});
