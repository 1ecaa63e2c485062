// manifests/plc-remote-lab.json end to end on its simulators: the shipped manifest, the real
// plugins and adapters, Modbus TCP, HTTP and the chip emulation on loopback, observed through the API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { loadManifest } from '../../core/manifest/load.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import { NJ301_MAP, type Nj301Simulator } from '../../sim/nj301.ts';
import type { Max31865Sim } from '../../sim/max31865.ts';
import type { Esp32RelaySimulator } from '../../sim/esp32-relay.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runTs } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';

const CHROMIUM = process.env.FIELDGATE_CHROMIUM ?? '/usr/bin/chromium';
const chromiumMissing = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install Debian's chromium or set FIELDGATE_CHROMIUM`;

describe('plc-remote-lab on simulators', () => {
  let runtime: Runtime;
  let api: string;
  const { root, lines } = memoryLog('info');

  const get = async (path: string) => (await fetch(`${api}${path}`)).json() as Promise<Record<string, unknown>>;
  const state = () => get('/api/state');
  const health = () => get('/health') as Promise<{ heartbeats: Record<string, { stale: boolean; ageS: number | null }> }>;

  before(async () => {
    const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
    // One clock second is 60 process seconds; the sensor samples every 5 process seconds.
    const env = { API_PORT: '0', SIM_TIME_SCALE: '60', SENSOR_POLL_MS: '100' };
    const { manifest } = await loadManifest(`${repoRoot}/manifests/plc-remote-lab.json`, { plugins, adapters, env });
    runtime = await createRuntime({ manifest, plugins, adapters, logRoot: root, dataDir: null, sim: true });
    await runtime.start();
    api = runtime.routes.address!;
    assert.ok(api, 'the API announced its address');
  });

  after(async () => {
    await runtime.stop();
  });

  test('closed loop: setpoint 60 and power on settle the PV at 60 ± 1 °C; trend rows every 2 s', async () => {
    const r = await fetch(`${api}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setpoint: 60, power_on_requested: true }) });
    assert.equal(r.status, 200);
    await eventually('power_on_actual', 5000, async () => (await state()).power_on_actual === true);
    // Settled = every sample within 60 ± 1 °C for 3 clock seconds (180 process seconds, 1.5 plant
    // time constants), reached within 30 clock seconds (30 process minutes) of the command.
    const started = Date.now();
    const window: Array<{ t: number; pv: number }> = [];
    await eventually('PV settled at 60 ± 1 for 180 process seconds', 30_000, async () => {
      const pv = (await state()).rtd_temp as number;
      if (Math.abs(pv - 60) > 1) window.length = 0;
      else window.push({ t: Date.now(), pv });
      return window.length > 1 && window.at(-1)!.t - window[0].t >= 3000;
    });
    const settleS = ((window[0].t - started) / 1000) * 60;
    assert.ok(settleS < 1800, `settled after ${settleS.toFixed(0)} process seconds`);
    const s = await state();
    assert.equal(s.setpoint, 60);
    assert.ok((s.mv as number) > 0 && (s.mv as number) < 100, `MV from the PLC is in range: ${s.mv}`);
    assert.equal(s.plc_connected, true);

    const trend = await eventually('3 trend rows', 8000, async () => {
      const rows = (await (await fetch(`${api}/api/trend?limit=10`)).json()) as Array<{ ts: number; pv: number; sp: number; mv: number }>;
      return rows.length >= 3 ? rows : undefined;
    });
    const last = trend.slice(-3);
    for (let i = 1; i < last.length; i++) {
      const gap = last[i].ts - last[i - 1].ts;
      assert.ok(gap > 1.8 && gap < 2.3, `trend rows 2 s apart, got ${gap.toFixed(3)} s`);
    }
    assert.equal(last.at(-1)!.sp, 60);
    assert.ok(Math.abs(last.at(-1)!.pv - 60) <= 1.5);
  });

  test('the dashboard shows the settled loop: PV near 60, power on, links fresh', { skip: chromiumMissing, timeout: 60_000 }, async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(api);
      await page.waitForSelector('#title:text("PLC remote lab")');
      await page.waitForFunction(() => {
        const v = Number(document.querySelector('.tile[data-key="rtd_temp"] .value')?.textContent);
        return Math.abs(v - 60) <= 1.5;
      });
      assert.match((await page.locator('.tile[data-key="power_on_actual"] .value').textContent()) ?? '', /ON/);
      await page.waitForSelector('#health tr[data-item="modbus_last_ok_ts"].ok');
      await page.waitForSelector('#health tr[data-item="sensor_last_ts"].ok');
      await page.waitForSelector('#trend canvas');
      // The whole lab map: the PLC's feedback and tuning state as tiles, manual MV and a tune start in the form.
      for (const key of ['setpoint_out', 'tune_busy', 'tune_done', 'tuned_pb']) await page.waitForSelector(`.tile[data-key="${key}"]`);
      await page.waitForSelector('#cmd-mv_manual');
      await page.waitForSelector('#cmd-tune_cmd');
    } finally {
      await browser.close();
    }
  });

  test('PLC down: the API answers, only the bridge complains, the Modbus age goes stale, recovery is automatic', async () => {
    const plc = runtime.world.require<Nj301Simulator>('sim:plc');
    const before = lines.length;
    await plc.stop();
    await eventually('plc_connected false', 5000, async () => (await state()).plc_connected === false);
    const h = await eventually('modbus_last_ok_ts stale', 7000, async () => {
      const report = await health();
      return report.heartbeats.modbus_last_ok_ts?.stale ? report : undefined;
    });
    assert.equal(h.heartbeats.sensor_last_ts.stale, false, 'the sensor is unaffected');
    const complaints = lines.slice(before).filter((l) => l.level === 'warn' || l.level === 'error');
    assert.ok(complaints.length >= 1);
    assert.deepEqual([...new Set(complaints.map((l) => l.ns))], ['plugin:plc'], 'only the bridge logs the outage');
    assert.equal(runtime.supervisor.status('plc').status, 'running', 'the bridge never exits on PLC errors');

    await plc.start();
    await eventually('plc_connected again', 15_000, async () => (await state()).plc_connected === true);
    await eventually('modbus age fresh', 5000, async () => (await health()).heartbeats.modbus_last_ok_ts?.stale === false);
  });

  test('RTD open circuit: sensor_ok false with the fault named, sensor age stale; recovers', async () => {
    const rtd = runtime.world.require<Max31865Sim>('sim:rtd');
    rtd.injectFault('open');
    const s = await eventually('sensor_ok false', 5000, async () => {
      const st = await state();
      return st.sensor_ok === false ? st : undefined;
    });
    assert.match(String(s.sensor_fault), /open/i);
    await eventually('sensor_last_ts stale', 8000, async () => (await health()).heartbeats.sensor_last_ts?.stale === true);
    rtd.clearFault();
    await eventually('sensor_ok again', 5000, async () => (await state()).sensor_ok === true);
  });

  test('ESP32 offline: esp32_connected false, then recovery when it returns', async () => {
    const esp32 = runtime.world.require<Esp32RelaySimulator>('sim:esp32');
    await esp32.setOffline(true);
    await eventually('esp32_connected false', 6000, async () => (await state()).esp32_connected === false);
    await esp32.setOffline(false);
    await eventually('esp32_connected again', 35_000, async () => (await state()).esp32_connected === true);
    assert.equal((await state()).power_on_actual, true);
  });

  test('the lab loses power: PLC and ESP32 restart empty; PV, setpoint, PID, mode back on the PLC within 2 poll cycles, heater power back on', async () => {
    const plc = runtime.world.require<Nj301Simulator>('sim:plc');
    const esp32 = runtime.world.require<Esp32RelaySimulator>('sim:esp32');
    const post = (body: unknown) => fetch(`${api}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post({ pid_kp: 8, pid_ki: 90, pid_kd: 2, mode: 1 })).status, 200);
    const holds = () => plc.real(NJ301_MAP.setpoint) === 60 && plc.real(NJ301_MAP.pb) === 8 && plc.real(NJ301_MAP.ti) === 90 &&
      plc.real(NJ301_MAP.td) === 2 && plc.register(NJ301_MAP.mode) === 1 && plc.real(NJ301_MAP.rtdTemp) > 30;
    await eventually('the PLC holds the commands', 5000, holds);

    // Both lose power: the ESP32 comes back with its relay off (between two polls of the relay plugin),
    // the PLC with empty memory.
    const rebooted = esp32.reboot({ offMs: 300 });
    await plc.powerCycle({ memory: 'zero', offMs: 300 });
    const mark = plc.server.requestCount;
    await rebooted;
    assert.equal(esp32.relay, false, 'the ESP32 came back with its relay off');
    assert.equal(plc.real(NJ301_MAP.setpoint), 0, 'the PLC came back empty');
    await eventually('the PLC holds the commands and the PV again', 10_000, holds);
    // On the wire: poll cycles (reads of HR 0..16) the PLC answered before the last command register was written.
    const since = plc.requests.slice(-(plc.server.requestCount - mark));
    const missing = new Set([1, 2, 4, 8, 9, 11, 12, 13, 14, 15, 16]);
    let cycles = 0;
    for (const r of since) {
      if (r.fc === 3 && r.address === 0) cycles++;
      if (r.fc === 16 || r.fc === 6) for (let a = r.address; a < r.address + r.count; a++) missing.delete(a);
      if (missing.size === 0) break;
    }
    assert.equal(missing.size, 0);
    assert.ok(cycles <= 2, `re-asserted after ${cycles} poll cycles`);
    const s = await state();
    assert.equal(s.setpoint, 60, 'the operator setpoint is not replaced by what the PLC held');
    assert.equal(s.pid_kp, 8);
    await eventually('heater power re-applied at the ESP32', 10_000, () => esp32.relay);
    // Recognised by its uptime going back (or, if a poll fell into the 300 ms off, as a reconnect).
    assert.ok(lines.some((l) => /relay is OFF but ON was requested( \(the device restarted: uptime went back\))?; re-applying/.test(String(l.msg))), 'the reboot was recognised');
    await eventually('power_on_actual on', 5000, async () => (await state()).power_on_actual === true);
    assert.equal((await state()).power_on_requested, true);
    await eventually('setpoint_out from the PLC', 5000, async () => (await state()).setpoint_out === 60);
  });

  test('auto-tune from the API: tune_cmd is a pulse the PLC clears; busy, done and tuned values visible', async () => {
    const r = await fetch(`${api}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tune_cmd: 1 }) });
    assert.equal(r.status, 200);
    const s = await eventually('tune_done with tuned values', 10_000, async () => {
      const st = await state();
      return st.tune_done === true && st.tune_busy === false && st.tuned_pb === 8 ? st : undefined;
    });
    assert.equal(s.tuned_ti, 90);
    assert.equal(s.autotune_pb, 8);
    assert.equal(s.mode, 1, 'the PLC never changes the gateway-owned mode');
    await eventually('tune_cmd cleared by the PLC', 5000, async () => (await state()).tune_cmd === 0);
  });
});

describe('plc-remote-lab: bad Modbus map entries', () => {
  test('fieldgate validate rejects an unknown type, an address beyond 65535 and overlapping addresses, with paths', async () => {
    const lab = JSON.parse(readFileSync(`${repoRoot}/manifests/plc-remote-lab.json`, 'utf8'));
    const bridge = lab.plugins.findIndex((p: { use: string }) => p.use === 'modbus-bridge');
    const dir = mkdtempSync(join(tmpdir(), 'fg-lab-'));
    try {
      const n = lab.plugins[bridge].config.map.length;
      const sp = lab.plugins[bridge].config.map.findIndex((t: { key: string }) => t.key === 'setpoint');
      const schemaBad = structuredClone(lab);
      schemaBad.$schema = undefined;
      schemaBad.plugins[bridge].config.map.push(
        { key: 'x', table: 'holding', address: 70000, type: 'uint16' },
        { key: 'y', table: 'holding', address: 200, type: 'float64' },
      );
      writeFileSync(join(dir, 'schema-bad.json'), JSON.stringify(schemaBad));
      const r1 = await runTs('bin/fieldgate.ts', ['validate', join(dir, 'schema-bad.json')]);
      assert.equal(r1.code, 1);
      assert.match(r1.stderr, new RegExp(`plugins\\[${bridge}\\]\\.config\\.map\\[${n}\\]\\.address: must be <= 65535`));
      assert.match(r1.stderr, new RegExp(`plugins\\[${bridge}\\]\\.config\\.map\\[${n + 1}\\]\\.type: must be one of: bool, int16, uint16, int32, uint32, float32`));

      const overlap = structuredClone(lab);
      overlap.plugins[bridge].config.map.push({ key: 'sp_low_word', table: 'holding', address: 9, type: 'uint16' });
      writeFileSync(join(dir, 'overlap.json'), JSON.stringify(overlap));
      const r2 = await runTs('bin/fieldgate.ts', ['validate', join(dir, 'overlap.json')]);
      assert.equal(r2.code, 1);
      assert.match(r2.stderr, new RegExp(`plugins\\[${bridge}\\]\\.config\\.map\\[${n}\\]\\.address: holding 9 \\("sp_low_word"\\) overlaps map\\[${sp}\\] 8\\.\\.9 \\("setpoint"\\)`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
