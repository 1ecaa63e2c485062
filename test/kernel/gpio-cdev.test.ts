// The character-device GPIO backend on a real kernel: gpio-sim lines in the QEMU guest, the chip found
// by its label on a machine with two chips and dynamic bases (kernel 6.6-style numbering). Outputs are
// read back from the simulator's `value`; inputs are driven through its `pull` and their edges come
// from the kernel's interrupt-driven event queue, 1,000 pulses counted exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gpioOptions } from '../../adapters/gpio/adapter.ts';
import { openGpioLine } from '../../adapters/gpio/backend.ts';
import { openCdevLine } from '../../adapters/gpio/cdev.ts';
import { resolveLine } from '../../adapters/gpio/resolve.ts';
import type { BitValue } from '../../adapters/gpio/types.ts';
import { eventually } from '../helpers/eventually.ts';
import { kernelSkip, setPull, simChip, simValue, sysfsBases } from './guest.ts';

const LABEL = 'fieldgate-sim';

test('an output line found by label drives the simulated pin, active-low included, and reads back', { skip: kernelSkip }, async () => {
  const chip = simChip();
  const line = await openGpioLine(gpioOptions({ chip: LABEL, line: 3, direction: 'out', initial: 1 }));
  try {
    assert.match(line.description, new RegExp(`^${LABEL} line 3 \\(${chip.chipName}, (koffi|deno-ffi)`));
    assert.equal(simValue(chip, 3), 1, 'initial value applied at request time');
    await line.write(0);
    assert.equal(simValue(chip, 3), 0);
    assert.equal(await line.read(), 0);
    await line.write(1);
    assert.equal(simValue(chip, 3), 1);
    assert.equal(await line.read(), 1);
    await assert.rejects(openCdevLine(gpioOptions({ chip: LABEL, line: 3, direction: 'out' })), /cannot request the line; another process .* holds the line.*\(EBUSY\)/);
  } finally {
    await line.close();
  }
  const low = await openGpioLine(gpioOptions({ chip: LABEL, line: 4, direction: 'out', activeLow: true, initial: 0 }));
  try {
    assert.equal(simValue(chip, 4), 1, 'inactive = electrically high on an active-low relay board');
    await low.write(1);
    assert.equal(simValue(chip, 4), 0);
  } finally {
    await low.close();
  }
  await assert.rejects(low.read(), /line is closed/);
});

test('the chip is resolved by label, not by a fixed base or chip number', { skip: kernelSkip }, async () => {
  const bases = sysfsBases();
  const base = bases.get(LABEL)!;
  assert.ok(base > 0 && base !== bases.get('fieldgate-decoy'));
  // The sysfs path (onoff) resolves the same label to base + offset, whatever the kernel chose.
  assert.equal((await resolveLine(LABEL, 5)).number, base + 5);
  const byDev = await openGpioLine(gpioOptions({ chip: `/dev/${simChip().chipName}`, line: 5, direction: 'out' }));
  await byDev.close();
  await assert.rejects(openGpioLine(gpioOptions({ chip: 'pinctrl-bcm2711', line: 17 })), /no gpiochip "pinctrl-bcm2711" in \/dev; chips found: .*"fieldgate-decoy".*"fieldgate-sim"/);
  await assert.rejects(openGpioLine(gpioOptions({ chip: LABEL, line: 16 })), /line 16 is out of range for gpiochip\d+ "fieldgate-sim" \(lines 0\.\.15\)/);
});

test('an input reports rising, falling and both edges on its logical value', { skip: kernelSkip }, async () => {
  const chip = simChip();
  setPull(chip, 6, 0);
  const line = await openGpioLine(gpioOptions({ chip: LABEL, line: 6, direction: 'in' }));
  const rising: BitValue[] = [];
  const falling: BitValue[] = [];
  const both: BitValue[] = [];
  line.watch('rising', (v) => rising.push(v));
  line.watch('falling', (v) => falling.push(v));
  const stopBoth = line.watch('both', (v) => both.push(v));
  try {
    assert.equal(await line.read(), 0);
    setPull(chip, 6, 1);
    await eventually('the rising edge', 5000, () => rising.length === 1);
    assert.equal(await line.read(), 1);
    setPull(chip, 6, 0);
    await eventually('the falling edge', 5000, () => falling.length === 1);
    stopBoth();
    setPull(chip, 6, 1);
    await eventually('a second rising edge', 5000, () => rising.length === 2);
    assert.deepEqual({ rising, falling, both }, { rising: [1, 1], falling: [0], both: [1, 0] });
    await assert.rejects(line.write(1), /cannot write an input line/);
  } finally {
    await line.close();
    setPull(chip, 6, 0);
  }
  // Active-low input: the pin going low is a rising edge of the logical value.
  setPull(chip, 7, 1);
  const inverted = await openGpioLine(gpioOptions({ chip: LABEL, line: 7, direction: 'in', activeLow: true }));
  const seen: BitValue[] = [];
  inverted.watch('rising', (v) => seen.push(v));
  try {
    assert.equal(await inverted.read(), 0);
    setPull(chip, 7, 0);
    await eventually('the logical rising edge', 5000, () => seen.length === 1);
    assert.equal(await inverted.read(), 1);
  } finally {
    await inverted.close();
  }
});

test('1,000 pulses on a real interrupt are counted exactly, none lost', { skip: kernelSkip }, async () => {
  const chip = simChip();
  setPull(chip, 8, 0);
  const line = await openCdevLine(gpioOptions({ chip: LABEL, line: 8, direction: 'in' }));
  let count = 0;
  let next: (() => void) | undefined;
  line.watch('rising', () => {
    count++;
    next?.();
  });
  try {
    // Each pulse is a full up-down on the simulated pin; the next one starts once its rising edge
    // arrived (two rising edges inside one IRQ-thread latency are one interrupt, on any hardware).
    for (let i = 1; i <= 1000; i++) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const seen = new Promise<void>((resolve, reject) => {
        next = resolve;
        timer = setTimeout(() => reject(new Error(`pulse ${i}: no rising edge within 5 s (counted ${count})`)), 5000);
      });
      setPull(chip, 8, 1);
      setPull(chip, 8, 0);
      await seen.finally(() => clearTimeout(timer));
    }
    assert.equal(count, 1000);
    assert.equal(line.lostEvents, 0);
  } finally {
    await line.close();
  }
});

test('debounce: a glitch shorter than debounceMs is ignored, a held level is reported once', { skip: kernelSkip }, async () => {
  const chip = simChip();
  setPull(chip, 9, 0);
  const line = await openGpioLine(gpioOptions({ chip: LABEL, line: 9, direction: 'in', debounceMs: 200 }));
  const edges: BitValue[] = [];
  line.watch('both', (v) => edges.push(v));
  try {
    setPull(chip, 9, 1);
    setPull(chip, 9, 0); // back within microseconds: a contact bounce
    setPull(chip, 9, 1); // and held
    await eventually('the debounced rising edge', 5000, () => edges.length >= 1);
    const settled = Date.now();
    await eventually('300 ms of quiet after the edge', 5000, () => Date.now() - settled > 300);
    assert.deepEqual(edges, [1]);
  } finally {
    await line.close();
  }
});
