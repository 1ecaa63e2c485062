// The simulated GPIO line: logical values with activeLow, edges, and the relay driver on top of it.
// Set FIELDGATE_TEST_GPIO=<chip>:<line> (an unused output, Node only) to run the contract on hardware.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimGpioChip } from '../../sim/gpio.ts';
import type { BitValue, GpioLine } from '../../adapters/gpio/types.ts';
import { GpioRelayDriver } from '../../plugins/relay/drivers/gpio.ts';
import { gpioOptions } from '../../adapters/gpio/adapter.ts';

test('an active-low output drives the pin low for logical 1, and reads back its logical value', async () => {
  const chip = new SimGpioChip('pinctrl-bcm2711', 58);
  const line = await chip.open(17, { direction: 'out', activeLow: true, initial: 0 });
  assert.equal(line.level, 1, 'inactive = high on an active-low relay board');
  await line.write(1);
  assert.equal(line.level, 0);
  assert.equal(await line.read(), 1);
  assert.deepEqual(line.writes, [1]);
  assert.throws(() => line.drive(0), /drive\(\) is for input lines/);
  await assert.rejects(chip.open(17, { direction: 'out', activeLow: false, initial: 0 }), /line 17 is busy/);
  await assert.rejects(chip.open(58, { direction: 'in', activeLow: false, initial: 0 }), /line 58 is out of range .*lines 0\.\.57/);
  await chip.close();
  await assert.rejects(line.read(), /line is closed/);
});

test('an input line reports rising and falling edges on its logical value until unwatched', async () => {
  const chip = new SimGpioChip();
  const line = await chip.open(4, { direction: 'in', activeLow: false, initial: 0, level: 0 });
  const rising: BitValue[] = [];
  const both: BitValue[] = [];
  const stopRising = line.watch('rising', (v) => rising.push(v));
  line.watch('both', (v) => both.push(v));
  line.drive(1);
  line.drive(1); // no edge
  line.drive(0);
  stopRising();
  line.drive(1);
  assert.deepEqual(rising, [1]);
  assert.deepEqual(both, [1, 0, 1]);
  await assert.rejects(line.write(1), /cannot write an input line/);
});

test('the gpio relay driver switches the line and reports the state it reads back', async () => {
  const chip = new SimGpioChip();
  const line = await chip.open(17, { direction: 'out', activeLow: true, initial: 0 });
  const driver = new GpioRelayDriver(line);
  assert.equal((await driver.set(true)).on, true);
  assert.equal(line.level, 0);
  assert.equal((await driver.read()).on, true);
  line.failNext = 'EIO';
  await assert.rejects(driver.set(false), /write 0 failed \(EIO, injected\)/);
});

const hardware = process.env.FIELDGATE_TEST_GPIO;
test('contract on real hardware (FIELDGATE_TEST_GPIO=<chip>:<line>)', { skip: !hardware && 'FIELDGATE_TEST_GPIO not set' }, async () => {
  const [chip, offset] = hardware!.split(':');
  const { openOnoffLine } = await import('../../adapters/gpio/real.ts');
  const line: GpioLine = await openOnoffLine(gpioOptions({ chip, line: Number(offset) }));
  try {
    await line.write(1);
    assert.equal(await line.read(), 1);
    await line.write(0);
    assert.equal(await line.read(), 0);
  } finally {
    await line.close();
  }
});
