// The base simulator's zone model: a zone heating normally approaches its setpoint at the model's
// time constant, a reduced zone its setback, and the filtered outside temperature lags the raw one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZonesModel } from '../../sim/zones-model.ts';

test('a normal zone moves toward its setpoint; one time constant covers ~63 %', () => {
  const m = new ZonesModel({ zones: [{ base: 1, zone: 3 }], timeScale: 60, tauS: 1800, outside: { mean: 0, amplitude: 0 } });
  const z = m.zone(1, 3);
  z.temperature = 18;
  z.state = 1;
  z.setpoint = 24;
  m.advance(30_000); // 30 clock s × 60 = 1800 process s
  assert.ok(Math.abs(z.temperature - (24 - 6 * Math.exp(-1))) < 0.01, `${z.temperature}`);
  m.advance(600_000);
  assert.ok(Math.abs(z.temperature - 24) < 0.01);
  assert.equal(m.demand(), 0);
});

test('reduced zones head for the setback, unset zones float between inside and outside', () => {
  const m = new ZonesModel({ zones: [{ base: 1, zone: 1 }, { base: 1, zone: 2 }], timeScale: 1, outside: { mean: -4, amplitude: 0 } });
  const reduced = m.zone(1, 1);
  reduced.state = 2;
  reduced.setpoint = 21;
  assert.equal(m.target(reduced), 17);
  assert.equal(m.target(m.zone(1, 2)), 8); // (-4 + 20) / 2
  assert.throws(() => m.zone(2, 1), /not simulated/);
});

test('the filtered outside temperature lags a step of the raw one', () => {
  const m = new ZonesModel({ zones: [], timeScale: 3600, outside: { mean: 10, amplitude: 0 } });
  m.setOutside(-5);
  m.advance(1000); // one process hour
  assert.equal(m.outsideTemperature, -5);
  assert.ok(m.filteredOutsideTemperature < 10 && m.filteredOutsideTemperature > -5, `${m.filteredOutsideTemperature}`);
});
