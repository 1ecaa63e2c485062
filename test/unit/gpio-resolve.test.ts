// GPIO line resolution against fake sysfs trees: kernel 6.6 dynamic bases, chip lookup by label or
// /dev/gpiochipN, and errors that list what was found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listChips, resolveLine, sysfsRoot } from '../../adapters/gpio/resolve.ts';
import gpioAdapter from '../../adapters/gpio/adapter.ts';
import { isDeno } from '../../core/runtime-info.ts';
import { memoryLog } from '../../core/log.ts';
import { systemClock } from '../../core/clock.ts';
import { Bus } from '../../core/bus.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { HealthModel } from '../../core/health.ts';
import { SimWorld } from '../../core/sim-world.ts';

interface FakeChip {
  dir: string;
  label: string;
  base: number;
  ngpio: number;
  /** The /dev/gpiochipN this chip is (a sibling under the parent device). */
  dev?: string;
}

async function fakeSysfs(chips: FakeChip[]): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'fieldgate-sysfs-'));
  const cls = join(root, 'class', 'gpio');
  await mkdir(cls, { recursive: true });
  await writeFile(join(cls, 'export'), '');
  for (const c of chips) {
    const dir = join(cls, c.dir);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'label'), `${c.label}\n`);
    await writeFile(join(dir, 'base'), `${c.base}\n`);
    await writeFile(join(dir, 'ngpio'), `${c.ngpio}\n`);
    if (c.dev) await mkdir(join(dir, 'device', c.dev), { recursive: true });
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

// Raspberry Pi 4 on Raspberry Pi OS bookworm with kernel 6.6.
const PI4_KERNEL_66: FakeChip[] = [
  { dir: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58, dev: 'gpiochip0' },
  { dir: 'gpiochip570', label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8, dev: 'gpiochip1' },
];

test('kernel 6.6: BCM 17 on pinctrl-bcm2711 (base 512) is sysfs gpio529, not gpio17', async () => {
  const fs = await fakeSysfs(PI4_KERNEL_66);
  try {
    const r = await resolveLine('pinctrl-bcm2711', 17, fs.root);
    assert.equal(r.number, 529);
    assert.deepEqual(r.chip, { dir: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 });
    assert.equal((await resolveLine('raspberrypi-exp-gpio', 2, fs.root)).number, 572);
  } finally {
    await fs.cleanup();
  }
});

test('a chip named by its character device (/dev/gpiochip0, gpiochip1) or sysfs dir resolves to the same base', async () => {
  const fs = await fakeSysfs(PI4_KERNEL_66);
  try {
    assert.equal((await resolveLine('/dev/gpiochip0', 17, fs.root)).number, 529);
    assert.equal((await resolveLine('gpiochip1', 0, fs.root)).number, 570);
    assert.equal((await resolveLine('gpiochip512', 4, fs.root)).number, 516);
  } finally {
    await fs.cleanup();
  }
});

test('an older kernel with base 0 keeps BCM numbers', async () => {
  const fs = await fakeSysfs([{ dir: 'gpiochip0', label: 'pinctrl-bcm2835', base: 0, ngpio: 54 }]);
  try {
    assert.equal((await resolveLine('pinctrl-bcm2835', 17, fs.root)).number, 17);
    assert.equal((await resolveLine('gpiochip0', 17, fs.root)).number, 17);
  } finally {
    await fs.cleanup();
  }
});

test('a label that is not there fails with the list of chips found', async () => {
  const fs = await fakeSysfs(PI4_KERNEL_66);
  try {
    await assert.rejects(resolveLine('pinctrl-rp1', 17, fs.root), (e: Error) => {
      assert.match(e.message, /no gpiochip "pinctrl-rp1"/);
      assert.match(e.message, /gpiochip512 "pinctrl-bcm2711" \(base 512, 58 lines\)/);
      assert.match(e.message, /gpiochip570 "raspberrypi-exp-gpio" \(base 570, 8 lines\)/);
      return true;
    });
    await assert.rejects(resolveLine('pinctrl-bcm2711', 58, fs.root), /line 58 is out of range for gpiochip512 "pinctrl-bcm2711" \(lines 0\.\.57\)/);
    assert.deepEqual((await listChips(fs.root)).map((c) => c.base), [512, 570]);
  } finally {
    await fs.cleanup();
  }
});

test('no sysfs GPIO at all is explained', async () => {
  const root = await mkdtemp(join(tmpdir(), 'fieldgate-sysfs-'));
  try {
    await assert.rejects(resolveLine('pinctrl-bcm2711', 17, root), /cannot read .*class\/gpio .*CONFIG_GPIO_SYSFS/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('FIELDGATE_SYSFS_ROOT moves the sysfs root (default /sys)', () => {
  assert.equal(sysfsRoot({}), '/sys');
  assert.equal(sysfsRoot({ FIELDGATE_SYSFS_ROOT: '/tmp/fake' }), '/tmp/fake');
});

test('the real gpio driver resolves through FIELDGATE_SYSFS_ROOT on Node, and refuses on Deno naming Node', async () => {
  const fs = await fakeSysfs(PI4_KERNEL_66);
  const saved = process.env.FIELDGATE_SYSFS_ROOT;
  process.env.FIELDGATE_SYSFS_ROOT = fs.root;
  const ctx = {
    id: 'relay-line',
    log: memoryLog('silent').root.logger('adapter:relay-line'),
    clock: systemClock,
    bus: new Bus(),
    metrics: new MetricsRegistry(),
    health: new HealthModel({ clock: systemClock }),
    world: new SimWorld(),
  };
  try {
    const opening = gpioAdapter.real({ chip: 'pinctrl-rp1', line: 17, direction: 'out', activeLow: false, initial: 0, backend: 'onoff', debounceMs: 0, sim: { level: 0, plantRelay: false, timeScale: 1 } }, ctx);
    if (isDeno) await assert.rejects(opening, /needs the native module "onoff".*Run fieldgate with Node/);
    else await assert.rejects(opening, /no gpiochip "pinctrl-rp1".*pinctrl-bcm2711|"onoff" could not be loaded.*(npm install onoff|npm rebuild onoff epoll)/);
  } finally {
    if (saved === undefined) delete process.env.FIELDGATE_SYSFS_ROOT;
    else process.env.FIELDGATE_SYSFS_ROOT = saved;
    await fs.cleanup();
  }
});
