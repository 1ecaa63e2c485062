// The odoo-batching dashboard in a real browser (Debian's chromium via playwright-core): the queue
// table fits its panel at 1366 px and on a phone, a failed batch shows with its operator buttons,
// which need the API key and are audited, and "Trigger sync" answers on the panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Cj2mSimulator } from '../../sim/cj2m.ts';
import { LINE_KEY, startLine } from '../fixtures/odoo-line.ts';
import { eventually } from '../helpers/eventually.ts';

const CHROMIUM = process.env.FIELDGATE_CHROMIUM ?? '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set FIELDGATE_CHROMIUM` : false;
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
const QUEUE = 'section[data-panel="MO batch queue"]';
const FINISHED = 'section[data-panel="Finished batches"]';

/** Horizontal overflow of the page and of a panel (0 = it fits). */
async function overflow(page: Page, panel: string): Promise<{ page: number; panel: number; table: number; wider?: string[] }> {
  return await page.evaluate((sel) => {
    // What sticks out, for the failure message.
    const wider = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${e.className} ${Math.round(e.getBoundingClientRect().width)}px`);
    const section = document.querySelector(sel) as HTMLElement;
    const scroll = section.querySelector('.scroll') as HTMLElement;
    return {
      ...(wider.length ? { wider } : {}),
      page: document.documentElement.scrollWidth - window.innerWidth,
      panel: section.scrollWidth - section.clientWidth,
      table: scroll.scrollWidth - scroll.clientWidth,
    };
  }, panel);
}

test('odoo dashboard: queue table fits at 1366 px and on a phone; held batch buttons keyed and audited', { skip, timeout: 90_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const line = await startLine({ syncMs: 300, pollMs: 100, mixingMs: 600_000, moCount: 8 });
  const plc = line.runtime.world.require<Cj2mSimulator>('sim:cj2m');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    await eventually('batches queued and batch 1 mixing', 10_000, () => plc.mixing === 1);
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => void d.accept());
    await page.goto(line.api);
    await page.waitForSelector(`${QUEUE} table.rows tbody tr`);
    assert.ok((await page.locator(`${QUEUE} tbody tr`).count()) >= 5, 'the queue is listed');
    assert.deepEqual(await overflow(page, QUEUE), { page: 0, panel: 0, table: 0 }, 'fits at 1366 px');

    // A failed batch: held, with its buttons; without the key the button is refused.
    plc.forceDone(1, { failed: true });
    const held = `${FINISHED} tbody tr:has(td[data-label="state"]:text-is("held"))`;
    await page.waitForSelector(`${held} button:text-is("Retry on PLC")`, { timeout: 15_000 });
    await page.click(`${held} button:text-is("Retry on PLC")`);
    await page.waitForSelector(`${FINISHED} .result.bad:has-text("API key")`);
    await page.fill('#api-key', LINE_KEY);
    await page.click('#key-form button[type=submit]');
    await page.click(`${held} button:text-is("Retry on PLC")`);
    await page.waitForSelector(`${FINISHED} .result.ok:has-text("queued again")`);
    await page.waitForSelector(`${FINISHED} td[data-label="state"]:text-is("retried")`);
    await page.click(`${QUEUE} .panel-actions button:text-is("Trigger sync")`);
    await page.waitForSelector(`${QUEUE} .result.ok:has-text("waiting for the PLC")`);
    const audit = JSON.stringify((await line.call('GET', '/api/audit?limit=20')).body);
    assert.match(audit, /POST \/api\/admin\/resolve-batch/);
    assert.match(audit, /POST \/api\/admin\/trigger-sync/);
    await page.screenshot({ path: join(tmpdir(), `fieldgate-odoo-dashboard-1366-${isDeno ? 'deno' : 'node'}.png`), fullPage: true });

    // A phone: every panel fits the screen; the queue rows become cards.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.waitForSelector(`${QUEUE} table.rows tbody tr`);
    assert.deepEqual(await overflow(page, QUEUE), { page: 0, panel: 0, table: 0 }, 'fits on a phone');
    assert.deepEqual(await overflow(page, FINISHED), { page: 0, panel: 0, table: 0 }, 'the finished batches fit on a phone');
    await page.screenshot({ path: join(tmpdir(), `fieldgate-odoo-dashboard-phone-${isDeno ? 'deno' : 'node'}.png`), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await line.stop();
  }
});
