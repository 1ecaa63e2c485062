// Callendar–Van Dusen: the inverse used by the driver matches the forward equation everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rtdResistance, rtdTemperature } from '../../plugins/max31865/cvd.ts';

test('the inverse recovers every temperature from -200 to 850 °C within 0.01 °C (PT100 and PT1000)', () => {
  for (const r0 of [100, 1000]) {
    let worst = 0;
    for (let t = -200; t <= 850; t += 0.25) worst = Math.max(worst, Math.abs(rtdTemperature(rtdResistance(t, r0), r0) - t));
    assert.ok(worst <= 0.01, `PT${r0}: worst error ${worst} °C`);
    assert.ok(worst < 1e-6, `PT${r0}: the numeric inverse should be exact to 1e-6, got ${worst}`);
  }
});

test('the IEC 60751 table values come out: PT100 at -200, -100, 0, 100, 850 °C', () => {
  const table: Array<[number, number]> = [[-200, 18.52], [-100, 60.26], [0, 100], [100, 138.51], [850, 390.48]];
  for (const [t, ohms] of table) {
    assert.ok(Math.abs(rtdResistance(t, 100) - ohms) < 0.01, `R(${t}) = ${rtdResistance(t, 100)}`);
    assert.ok(Math.abs(rtdTemperature(ohms, 100) - t) < 0.03, `T(${ohms} Ω) = ${rtdTemperature(ohms, 100)}`);
  }
});
