// The dashboard in Debian's chromium when the gateway stops answering: the whole page greys out under
// a banner (no green tile keeps lying); enum values read as their labels; and the page fits a phone (390 px) and a laptop (1366 px)
// without horizontal overflow. Screenshots go to .tmp/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRuntime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import valueAdapter from '../../adapters/value/adapter.ts';
import valuePoller from '../../plugins/value-poller/plugin.ts';
import httpApi from '../../plugins/http-api/plugin.ts';
import { testManifest } from '../helpers/manifest.ts';
import { repoRoot } from '../helpers/spawn.ts';

const KEY = 'offline-test-key';
const CHROMIUM = process.env.FIELDGATE_CHROMIUM ?? '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set FIELDGATE_CHROMIUM` : false;

test('dashboard: no overflow at 390 and 1366 px; an alarm raised, acknowledged with the key and cleared; a stopped gateway greys the page out under a banner', { skip, timeout: 90_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const { root } = memoryLog('silent');
  const manifest = testManifest(
    [
      { id: 'temp', use: 'value-poller', adapters: { source: 'rtd' }, config: { key: 'pv', intervalMs: 250, maxAgeS: 5, unit: '°C', trend: true, trendKeepS: 3600 } },
      { id: 'api', use: 'http-api', config: { port: 0, apiKey: KEY, alarms: { evalMs: 200, limits: { setpoint: { max: 100 } } }, commands: { setpoint: { type: 'number', minimum: 0, maximum: 120 }, mode: { type: 'integer', enum: [0, 1, 2], 'x-enumLabels': ['manual', 'auto', 'tune'] } }, dashboard: { title: 'Offline check', keys: ['pv', 'setpoint', 'mode'] } } },
    ],
    { adapters: [{ id: 'rtd', kind: 'value', driver: 'sim', options: { path: 'unused', scale: 1, offset: 0, sim: { base: 45, amplitude: 5, periodS: 60, noise: 0.3, failEvery: 0 } } }] },
  );
  const runtime = await createRuntime({ manifest, plugins: [valuePoller, httpApi], adapters: [valueAdapter], logRoot: root, dataDir: null, sim: true });
  await runtime.start();
  await runtime.store.set('mode', 1);
  await runtime.store.set('setpoint', 110); // above its alarm limit
  const base = runtime.routes.address!;
  const shots = join(repoRoot, '.tmp', 'screenshots');
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let stopped = false;
  try {
    const pages = [];
    for (const [width, height] of [[1366, 900], [390, 844]]) {
      const page = await browser.newPage({ viewport: { width, height } });
      await page.goto(base);
      await page.waitForSelector('.tile');
      await page.waitForFunction(() => document.querySelector('#overall')?.textContent === 'ok' || document.querySelector('#overall')?.textContent === 'degraded');
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      assert.ok(scrollWidth <= innerWidth, `no horizontal overflow at ${width} px (scrollWidth ${scrollWidth} > ${innerWidth})`);
      assert.equal(await page.isVisible('#offline-banner'), false, 'no banner while the gateway answers');
      // An enum with labels reads as words on its tile and is a choice in the form, not a number box.
      await page.waitForSelector('.tile[data-key="mode"] .value:text("auto")');
      assert.deepEqual(await page.$$eval('#cmd-mode option', (os) => os.map((o) => o.textContent)), ['—', 'manual (0)', 'auto (1)', 'tune (2)']);
      // The alarm is listed with its time; acknowledging it needs the key.
      // (the 390 px page opens after the 1366 px one acknowledged it: the row, without its button)
      await page.waitForSelector(`#alarms tr[data-alarm="limit:setpoint"]${width === 1366 ? ' button' : ''}`);
      await page.waitForSelector('.tile.bad[data-key="setpoint"]'); // the tile of a value outside its limit turns red
      if (width === 1366) {
        await page.click('#alarms tr[data-alarm="limit:setpoint"] button');
        await page.waitForSelector('#alarms-result:text("needs the API key")');
        await page.fill('#api-key', KEY);
        await page.click('#key-form button[type=submit]');
        await page.click('#alarms tr[data-alarm="limit:setpoint"] button');
        await page.waitForSelector('#alarms tr[data-alarm="limit:setpoint"] td:text("acknowledged")');
      }
      await page.screenshot({ path: join(shots, `dashboard-${width}.png`), fullPage: true });
      pages.push(page);
    }

    // Cleared once the value is back within its limit.
    await runtime.store.set('setpoint', 50);
    await pages[0].waitForSelector('#alarms tr[data-alarm="limit:setpoint"] td:text("cleared")');

    await runtime.stop();
    stopped = true;
    for (const page of pages) {
      await page.waitForSelector('#offline-banner', { state: 'visible', timeout: 20_000 });
      assert.match(await page.textContent('#offline-banner') ?? '', /not answering since .*last ones received/);
      assert.equal(await page.evaluate(() => document.body.classList.contains('offline')), true, 'the page is greyed out');
      const filter = await page.evaluate(() => getComputedStyle(document.querySelector('main')!).filter);
      assert.match(filter, /grayscale/);
    }
    await pages[1].screenshot({ path: join(shots, 'dashboard-390-offline.png'), fullPage: true });
  } finally {
    await browser.close();
    if (!stopped) await runtime.stop();
  }
});
