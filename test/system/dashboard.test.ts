// The dashboard in a real browser (Debian's chromium driven by playwright-core) against a running
// runtime on simulators: a live value changes on screen, a setpoint sent from the form reaches the API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import valueAdapter from '../../adapters/value/adapter.ts';
import valuePoller from '../../plugins/value-poller/plugin.ts';
import httpApi from '../../plugins/http-api/plugin.ts';
import { testManifest } from '../helpers/manifest.ts';

const CHROMIUM = process.env.FIELDGATE_CHROMIUM ?? '/usr/bin/chromium';
const KEY = 'browser-test-key';
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set FIELDGATE_CHROMIUM`
  : false;

test('dashboard: live value, trend, health and a setpoint sent from the form', { skip, timeout: 60_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const { root } = memoryLog('silent');
  const manifest = testManifest(
    [
      { id: 'temp', use: 'value-poller', adapters: { source: 'rtd' }, config: { key: 'pv', intervalMs: 250, maxAgeS: 5, unit: '°C', trend: true, trendKeepS: 3600 } },
      {
        id: 'api',
        use: 'http-api',
        config: {
          port: 0,
          apiKey: KEY,
          commands: { setpoint: { type: 'number', minimum: 0, maximum: 120, description: 'Target temperature °C' }, power_on_requested: { type: 'boolean' } },
          dashboard: { title: 'Remote lab', keys: ['pv', 'setpoint', 'power_on_requested', 'pv_ok'] },
        },
      },
    ],
    { adapters: [{ id: 'rtd', kind: 'value', driver: 'sim', options: { path: 'unused', scale: 1, offset: 0, sim: { base: 45, amplitude: 5, periodS: 60, noise: 0.3, failEvery: 0 } } }] },
  );
  const runtime = await createRuntime({ manifest, plugins: [valuePoller, httpApi], adapters: [valueAdapter], logRoot: root, dataDir: null, sim: true });
  await runtime.start();
  // An hour of SP/MV history so the chart has all three series.
  const now = Date.now() / 1000;
  for (let t = now - 3600; t < now - 5; t += 30) {
    await runtime.store.logTrend({ ts: t, pv: 40 + 5 * Math.sin(t / 300), sp: 45, mv: 50 + 30 * Math.cos(t / 300) }, { durable: false });
  }
  await runtime.store.set('setpoint', 45);
  const base = runtime.routes.address!;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(base);
    await page.waitForSelector('#title:text("Remote lab")');

    const pv = page.locator('.tile[data-key="pv"] .value');
    await pv.waitFor();
    await page.waitForFunction(() => /\d/.test(document.querySelector('.tile[data-key="pv"] .value')?.textContent ?? ''));
    const first = await pv.textContent();
    await page.waitForFunction((v) => document.querySelector('.tile[data-key="pv"] .value')?.textContent !== v, first);

    await page.waitForSelector('#health tr[data-item="pv_ts"].ok');
    await page.waitForSelector('#health tr[data-item="plugin:temp"].ok');
    await page.waitForSelector('#trend canvas');

    // Without the key the command is refused and nothing changes.
    await page.fill('#cmd-setpoint', '61.5');
    await page.click('#command-form button[type=submit]');
    await page.waitForSelector('#command-result.bad');
    assert.equal(runtime.store.get('setpoint'), 45);

    await page.fill('#api-key', KEY);
    await page.click('#key-form button[type=submit]');
    await page.fill('#cmd-setpoint', '61.5');
    await page.selectOption('#cmd-power_on_requested', 'true');
    await page.click('#command-form button[type=submit]');
    await page.waitForSelector('#command-result.ok');
    const state = (await (await fetch(`${base}/api/state?keys=setpoint,power_on_requested`)).json()) as Record<string, unknown>;
    assert.deepEqual(state, { setpoint: 61.5, power_on_requested: true });
    await page.waitForFunction(() => document.querySelector('.tile[data-key="setpoint"] .value')?.textContent === '61.50');
    await page.waitForSelector('#audit tbody tr');

    const shot = process.env.FIELDGATE_SCREENSHOT ?? join(tmpdir(), `fieldgate-dashboard-${isDeno ? 'deno' : 'node'}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await runtime.stop();
  }
});
