// The guest itself: vcan0 is up and the two gpio-sim chips exist with dynamic bases, so the other
// kernel tests fail for their own reasons, not because the guest was set up wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { kernelSkip, simChip, sysfsBases } from './guest.ts';

test('the guest has vcan0 up and two gpio-sim chips found by label', { skip: kernelSkip }, () => {
  assert.match(readFileSync('/sys/class/net/vcan0/operstate', 'utf8'), /up|unknown/);
  const chip = simChip();
  assert.equal(chip.label, 'fieldgate-sim');
  assert.match(chip.chipName, /^gpiochip\d+$/);
  const bases = sysfsBases();
  assert.ok(bases.has('fieldgate-sim') && bases.has('fieldgate-decoy'), `labels: ${[...bases.keys()]}`);
  assert.notEqual(bases.get('fieldgate-sim'), 0, 'a dynamic base, as on kernel 6.6+');
});
