// Debian's chromium driven by playwright-core for the dashboard tests: where it is, why a test skips
// without it, one launch with the flags a headless CI container needs, and the overflow measure.
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.FIELDGATE_CHROMIUM ?? '/usr/bin/chromium';

/** A skip reason for node:test when chromium is missing, else false. */
export const chromiumMissing: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set FIELDGATE_CHROMIUM`;

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** How far the page sticks out sideways (0 = it fits) and, when it does, the widest culprits. */
export async function horizontalOverflow(page: Page): Promise<{ px: number; wider: string[] }> {
  return await page.evaluate(() => {
    const wider = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${String(e.className)} ${Math.round(e.getBoundingClientRect().width)}px`);
    return { px: document.documentElement.scrollWidth - window.innerWidth, wider };
  });
}
