// Each shipped manifest's dashboard in Debian's chromium, on its simulators: values move on the tiles,
// the history chart draws from /api/history, a value outside its display limits raises an alarm that
// is acknowledged with the key and clears when the plant recovers, and a stopped gateway greys the
// page out under the banner. Screenshots at 1366 and 390 px (no horizontal overflow) go to
// $FIELDGATE_SCREENSHOTS or .tmp/screenshots/. One browser for all six.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { loadManifest } from '../../core/manifest/load.ts';
import { createRuntime, type Runtime } from '../../core/host/runtime.ts';
import { memoryLog } from '../../core/log.ts';
import type { AnyAdapterDefinition, AnyPluginDefinition } from '../../core/plugin.ts';
import type { GreenhouseSim } from '../../sim/greenhouse.ts';
import type { ProductionLine } from '../../sim/production-line.ts';
import type { Cj2mSimulator } from '../../sim/cj2m.ts';
import type { NeasmartBaseSimulator } from '../../sim/neasmart-base.ts';
import { repoRoot } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';
import { chromiumMissing, horizontalOverflow, launchChromium } from '../helpers/browser.ts';

const KEY = 'dashboard-systems-key';
const SHOTS = process.env.FIELDGATE_SCREENSHOTS ?? join(repoRoot, '.tmp', 'screenshots');
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

interface System {
  name: string;
  env: Record<string, string>;
  /** A tile whose value changes on its own (or after `raise`, for a line that stands still). */
  moving: string;
  /** Checks of this system's own controls, after the common ones. */
  extra?: (ctx: Ctx) => Promise<void>;
  /** Commands that set the plant in motion before the checks. */
  prepare?: (ctx: Omit<Ctx, 'page'>) => Promise<void>;
  /** The key whose display limits the test crosses, and how the plant gets there and back. */
  alarmKey: string;
  raise: (ctx: Ctx) => Promise<void>;
  clear: (ctx: Ctx) => Promise<void>;
}

interface Ctx {
  runtime: Runtime;
  api: string;
  page: Page;
}

const command = async (ctx: Omit<Ctx, 'page'>, body: Record<string, unknown>, path = '/api/command') => {
  const r = await fetch(`${ctx.api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify(body) });
  assert.ok(r.ok, `${path} ${JSON.stringify(body)}: HTTP ${r.status} ${await r.text()}`);
};

const SYSTEMS: System[] = [
  {
    name: 'example',
    env: { POLL_MS: '200' },
    moving: 'soc_temp',
    alarmKey: 'setpoint', // the operator sets an alarm threshold above the safe range
    extra: async ({ api }) => {
      // The OpenAPI text names the command as the operator knows it.
      const doc = await (await fetch(`${api}/openapi.json`)).json() as { paths: Record<string, { post: { requestBody: { content: { 'application/json': { schema: { properties: Record<string, { description?: string }> } } } } } }> };
      const setpoint = doc.paths['/api/command'].post.requestBody.content['application/json'].schema.properties.setpoint;
      assert.match(setpoint.description ?? '', /^Alarm threshold \(°C\)/);
    },
    raise: (ctx) => command(ctx, { setpoint: 88 }),
    clear: (ctx) => command(ctx, { setpoint: 60 }),
  },
  {
    name: 'plc-remote-lab',
    env: { SIM_TIME_SCALE: '60', SENSOR_POLL_MS: '100', TREND_EVERY_MS: '500' },
    moving: 'rtd_temp',
    prepare: (ctx) => command(ctx, { setpoint: 60, power_on_requested: true }),
    alarmKey: 'setpoint',
    raise: (ctx) => command(ctx, { setpoint: 105 }),
    clear: (ctx) => command(ctx, { setpoint: 60 }),
  },
  {
    name: 'neasmart-gateway',
    env: { MODBUS_TCP_HOST: '127.0.0.1', MODBUS_TCP_PORT: '0', SIM_TIME_SCALE: '600', BASE_SIM_POLL_MS: '100', MODBUS_STALE_AFTER_S: '1' },
    moving: 'zone_1_1_temperature',
    alarmKey: 'zone_1_1_temperature', // the living room overheats toward a 35 °C setpoint
    raise: (ctx) => command(ctx, { state: 1, setpoint: 35 }, '/zones/1/1'),
    extra: async ({ page, runtime }) => {
      // The zone grid's own controls: + raises the kitchen setpoint by 0.5 °C, the selector sets its mode;
      // both go through the gateway to the base station and come back as the zone's values.
      const sp = '.tile[data-key="zone_1_2_setpoint"]';
      const before = Number(await page.textContent(`${sp} .value`));
      const expected = Math.min(35, Math.max(5, before + 0.5)).toFixed(1);
      await page.click(`${sp} button[data-step="0.5"]`);
      await page.waitForFunction(([sel, v]) => document.querySelector(`${sel} .value`)?.textContent === v, [sp, expected] as const, { timeout: 10_000 });
      await page.selectOption('.tile[data-key="zone_1_2_state"] select', '2');
      await page.waitForSelector('.tile[data-key="zone_1_2_state"] .value:text-is("reduced")', { timeout: 10_000 });
      // The base station loses the gateway (its cable): the zone values are the registers' last ones, marked stale.
      const base = runtime.world.require<NeasmartBaseSimulator>('sim:base');
      const port = runtime.services.require<{ tcpAddress: { port: number } }>('modbus-server:modbus').tcpAddress.port;
      await base.retarget('127.0.0.1', 1);
      await page.waitForSelector('.tile.stale[data-key="zone_1_1_temperature"]', { timeout: 10_000 });
      await base.retarget('127.0.0.1', port);
      await page.waitForSelector('.tile[data-key="zone_1_1_temperature"]:not(.stale)', { timeout: 10_000 });
    },
    clear: (ctx) => command(ctx, { state: 1, setpoint: 18 }, '/zones/1/1'),
  },
  {
    name: 'cea-can-pipeline',
    env: { CAN_DBC: `${repoRoot}/manifests/cea.dbc`, SIM_TIME_SCALE: '60' },
    moving: 'sensor:co2_b',
    alarmKey: 'sensor:co2_b', // a CO2 dosing valve stuck open in the flower room
    raise: async ({ runtime }) => void runtime.world.require<GreenhouseSim>('sim:canbus').overrides.set('co2_b', 5000),
    extra: async ({ page }) => {
      // Frames per second per message: each box sends once per second.
      const row = 'section[data-panel^="CAN messages"] tbody tr:has(td:text-is("FlowerBack_SCD30"))';
      const rate = page.locator(`${row} td[data-label="per s"]`);
      await eventually('FlowerBack_SCD30 about 1 frame per second on the panel', 15_000, async () => Number(await rate.textContent({ timeout: 1000 }).catch(() => '')) > 0.5);
    },
    clear: async ({ runtime }) => void runtime.world.require<GreenhouseSim>('sim:canbus').overrides.delete('co2_b'),
  },
  {
    name: 'signal-recorder',
    env: { SAMPLE_MS: '300', SIM_TIME_SCALE: '60' },
    moving: 'machine_m1_units_hour',
    alarmKey: 'machine_m1_power_kw', // press 1 stops: its power drops to idle
    raise: async ({ runtime }) => runtime.world.require<ProductionLine>('line:line').machine(0).stop(),
    extra: async ({ page }) => {
      await page.waitForSelector('section[data-panel="Units per hour, last 8 hours"] .bar-row .fill');
      await page.waitForSelector('section[data-panel="Machine states and this hour"] td[data-label="performance"]');
    },
    clear: async ({ runtime }) => runtime.world.require<ProductionLine>('line:line').machine(0).run(),
  },
  {
    name: 'odoo-batching',
    env: { SYNC_INTERVAL_MINUTES: '1', PLC_POLL_MS: '200', PLC_SIM_MIXING_MS: '600000', ODOO_SIM_MO_COUNT: '6' },
    moving: 'batches_held',
    alarmKey: 'batches_held', // a batch fails on the mixer and waits for an operator
    raise: async ({ runtime }) => runtime.world.require<Cj2mSimulator>('sim:cj2m').forceDone(1, { failed: true }),
    clear: async ({ page }) => {
      // The operator's own way out: "Retry on PLC" on the held batch's row.
      const held = 'section[data-panel="Finished batches"] tbody tr:has(td[data-label="state"]:text-is("held"))';
      await page.click(`${held} button:text-is("Retry on PLC")`, { timeout: 15_000 });
    },
  },
];

describe('the dashboard of each shipped manifest in chromium', { skip: chromiumMissing }, () => {
  let browser: Browser;
  let plugins: AnyPluginDefinition[];
  let adapters: AnyAdapterDefinition[];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    [browser, plugins, adapters] = await Promise.all([
      launchChromium(),
      Promise.all(pluginCatalog.map((p) => p.load())),
      Promise.all(adapterCatalog.map((a) => a.load())),
    ]);
  });
  after(async () => {
    await browser?.close();
  });

  for (const system of SYSTEMS) {
    test(system.name, { timeout: 60_000 }, async () => {
      const env = { API_HOST: '127.0.0.1', API_PORT: '0', API_KEY: KEY, CHART_SAMPLE_MS: '250', ...system.env };
      const { manifest } = await loadManifest(`${repoRoot}/manifests/${system.name}.json`, { plugins, adapters, env });
      const runtime = await createRuntime({ manifest, plugins, adapters, logRoot: memoryLog('silent').root, dataDir: null, sim: true });
      let running = true;
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      try {
        const startedS = Date.now() / 1000;
        await runtime.start();
        const api = runtime.routes.address!;
        await system.prepare?.({ runtime, api });
        const chartKeys = ((manifest.plugins.find((p) => p.use === 'http-api')!.config.dashboard as { chart: { keys: string[] } }).chart.keys);
        // The hour before the test: what the sampler would have written (around today's values), so
        // the 1 h chart has a shape.
        await eventually('a chart key has a value', 10_000, () => chartKeys.some((k) => typeof runtime.store.get(k) === 'number'));
        const nowMs = Date.now();
        await runtime.history.append('dashboard', Array.from({ length: 60 }, (_, i) => ({
          ts: nowMs - 3_600_000 + i * 60_000,
          data: Object.fromEntries(chartKeys.filter((k) => typeof runtime.store.get(k) === 'number').map((k, j) => {
            const v = runtime.store.get(k) as number;
            return [k, v + Math.max(0.5, Math.abs(v) * 0.05) * Math.sin(i / 8 + j)];
          })),
        })), { durable: false });

        // The display section, as every client reads it.
        assert.deepEqual(await (await fetch(`${api}/api/display`)).json(), manifest.display);

        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('dialog', (d) => void d.accept());
        const ctx: Ctx = { runtime, api, page };
        const t0 = Date.now();
        const mark = (what: string) => process.env.FIELDGATE_TEST_TIMING && process.stderr.write(`${system.name}: ${what} at ${Date.now() - t0} ms\n`);
        await page.goto(api);
        await page.fill('#api-key', KEY);
        await page.click('#key-form button[type=submit]');

        // Values move.
        const tile = `.tile[data-key="${system.moving}"]`;
        await page.waitForFunction((sel) => /\d|[a-z]/i.test(document.querySelector(`${sel} .value`)?.textContent ?? '—'.replace('—', '')), tile, { timeout: 15_000 });
        const first = await page.textContent(`${tile} .value`);
        if (system.name === 'odoo-batching') await system.raise(ctx); // the line stands still until a batch fails
        await page.waitForFunction(([sel, v]) => document.querySelector(`${sel} .value`)?.textContent !== v, [tile, first] as const, { timeout: 20_000 });
        mark('moved');
        // Labels from the display section, not key names.
        const d = manifest.display?.[system.moving];
        if (d?.label) assert.ok(d.label.toLowerCase().endsWith((await page.textContent(`${tile} .name`) ?? '?').toLowerCase()), `the tile reads "${d.label}" (without its group)`);

        // The history chart draws: the seeded hour, and rows the sampler writes now.
        await page.waitForSelector('#history-panel:not([hidden]) #history-chart svg path.line[d*="L"]', { timeout: 15_000 });
        const sampled = await (await fetch(`${api}/api/history/dashboard?from=${startedS}&limit=5`)).json() as { rows: unknown[] };
        assert.ok(sampled.rows.length > 0, 'the sampler writes the chart keys into the history series "dashboard"');
        await page.click('#history-ranges button:text-is("24 h")');
        await page.waitForFunction(() => /each$/.test(document.querySelector('#history-info')?.textContent ?? '') && document.querySelector('#history-info')!.textContent!.includes('min each'));
        await page.click('#history-ranges button:text-is("1 h")');

        mark('chart');
        await system.extra?.(ctx);

        // An alarm: raised by the plant, acknowledged with the key, cleared when the plant recovers.
        const alarm = `#alarms tr[data-alarm="limit:${system.alarmKey}"]`;
        if (system.name !== 'odoo-batching') await system.raise(ctx);
        await page.waitForSelector(`${alarm} button:text-is("Acknowledge")`, { timeout: 20_000 });
        await page.waitForSelector(`.tile.bad[data-key="${system.alarmKey}"]`);
        await page.click(`${alarm} button`);
        await page.waitForSelector(`${alarm} td:text("acknowledged")`);
        const shot1366 = join(SHOTS, `${system.name}-1366${isDeno ? '-deno' : ''}.png`);
        let overflow = await horizontalOverflow(page);
        assert.equal(overflow.px, 0, `no horizontal overflow at 1366 px: ${overflow.wider.join(', ')}`);
        await page.screenshot({ path: shot1366, fullPage: true });
        mark('acked');
        await system.clear(ctx);
        await page.waitForSelector(`${alarm} td:text("cleared")`, { timeout: 20_000 });

        // A phone.
        await page.setViewportSize({ width: 390, height: 844 });
        await page.waitForTimeout(50); // one layout pass after the resize (the chart redraws on 'resize')
        overflow = await horizontalOverflow(page);
        assert.equal(overflow.px, 0, `no horizontal overflow at 390 px: ${overflow.wider.join(', ')}`);
        await page.screenshot({ path: join(SHOTS, `${system.name}-390${isDeno ? '-deno' : ''}.png`), fullPage: true });

        mark('phone');
        // The gateway stops: banner, greyed page.
        await runtime.stop();
        running = false;
        await page.waitForSelector('#offline-banner', { state: 'visible', timeout: 15_000 });
        assert.equal(await page.evaluate(() => document.body.classList.contains('offline')), true);
        mark('banner');
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
        if (running) await runtime.stop();
      }
    });
  }
});
