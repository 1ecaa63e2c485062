// Hourly aggregation: energy by the trapezoid rule, OEE against a hand-computed case, hour splits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeOee, emptyBucket, HOUR_MS, HourlyAggregator, periodOee, trapezoidKWh } from '../../plugins/recorder/hourly.ts';
import { classify } from '../../plugins/recorder/recorder.ts';
import type { MachineConfig } from '../../plugins/recorder/config.ts';

const H0 = Date.UTC(2026, 0, 1, 8); // 08:00 UTC
const press: MachineConfig = { id: 'press', name: 'Press', idealCycleS: 10, idleKw: 0.5, runningKw: 5 };

test('energy: 5 s samples of a smooth power curve integrate within 1 % of the exact kWh', () => {
  // P(t) = 10 + 5 sin(2π t / 600 s) kW for one hour: exact energy = 10 kWh (the sine integrates to 0 over 6 periods).
  const agg = new HourlyAggregator('press');
  for (let s = 0; s <= 3600; s += 5) agg.addPower(H0 + s * 1000, 10 + 5 * Math.sin((2 * Math.PI * s) / 600), 15_000);
  const [hour] = agg.closeBefore(H0 + HOUR_MS);
  assert.ok(Math.abs(hour.energyKWh - 10) / 10 < 0.01, `${hour.energyKWh} kWh vs 10 kWh`);
  // A ramp 0 → 12 kW over one hour is 6 kWh exactly by the trapezoid rule.
  assert.equal(trapezoidKWh(0, 12, HOUR_MS), 6);
});

test('energy: a sample pair across the hour is split at the boundary by interpolation; gaps are not invented', () => {
  const agg = new HourlyAggregator('press');
  agg.addPower(H0 + HOUR_MS - 10_000, 6, 60_000); // 08:59:50, 6 kW
  agg.addPower(H0 + HOUR_MS + 10_000, 6, 60_000); // 09:00:10, 6 kW
  agg.addPower(H0 + HOUR_MS + 600_000, 6, 60_000); // 10 min later: beyond maxGapMs, nothing added
  const closed = agg.closeBefore(H0 + 2 * HOUR_MS);
  assert.equal(closed.length, 2);
  assert.ok(Math.abs(closed[0].energyKWh - 6 * 10 / 3600) < 1e-12);
  assert.ok(Math.abs(closed[1].energyKWh - 6 * 10 / 3600) < 1e-12);
});

test('OEE: a hand-computed hour', () => {
  // 3000 s running, 300 s idle, 300 s stopped; 250 units at 10 s ideal, 10 rejects.
  // availability 3000/3600 = 0.8333; performance 250*10/3000 = 0.8333; quality 240/250 = 0.96;
  // OEE = 0.8333 * 0.8333 * 0.96 = 0.6667 = good units * ideal / planned = 2400/3600.
  const b = { ...emptyBucket('press', H0), units: 250, rejects: 10, runningS: 3000, idleS: 300, stoppedS: 300, gapS: 120 };
  const o = computeOee(b, press, { rejectsMapped: true, utcOffsetMinutes: 0 });
  assert.equal(o.plannedS, 3600, 'the gap is not planned time observed');
  assert.ok(Math.abs(o.availability! - 3000 / 3600) < 1e-12);
  assert.ok(Math.abs(o.performance! - 2500 / 3000) < 1e-12);
  assert.equal(o.quality, 0.96);
  assert.ok(Math.abs(o.oee! - 2400 / 3600) < 1e-12);
  const noRejects = computeOee(b, press, { rejectsMapped: false, utcOffsetMinutes: 0 });
  assert.equal(noRejects.quality, null);
  assert.ok(Math.abs(noRejects.oee! - 2500 / 3600) < 1e-12, 'without a reject signal quality counts as 1');
});

test('OEE: unplanned hours have none, local planning hours follow utcOffsetMinutes, periods sum hours', () => {
  const shift: MachineConfig = { ...press, plannedHours: [9, 10] };
  const b8 = { ...emptyBucket('press', H0), units: 100, runningS: 1000, stoppedS: 2600 };
  const b9 = { ...emptyBucket('press', H0 + HOUR_MS), units: 300, runningS: 3600 };
  assert.equal(computeOee(b8, shift, { rejectsMapped: false, utcOffsetMinutes: 0 }).oee, null);
  assert.notEqual(computeOee(b8, shift, { rejectsMapped: false, utcOffsetMinutes: 60 }).oee, null, '08:00 UTC is 09:00 at UTC+1');
  const p = periodOee([b8, b9], shift, { rejectsMapped: false, utcOffsetMinutes: 0 });
  assert.equal(p.hours, 1);
  assert.equal(p.sum.units, 300);
  assert.ok(Math.abs(p.oee.oee! - 300 * 10 / 3600) < 1e-12);
});

test('states split across the hour boundary; closeBefore closes only finished hours', () => {
  const agg = new HourlyAggregator('press');
  agg.addState(H0 + HOUR_MS - 3000, H0 + HOUR_MS + 2000, 'running');
  agg.addUnits(H0 + HOUR_MS - 1, 1);
  agg.addUnits(H0 + HOUR_MS, 2);
  assert.deepEqual(agg.closeBefore(H0 + HOUR_MS + 2000).map((b) => [b.runningS, b.units, b.closed]), [[3, 1, true]]);
  assert.deepEqual(agg.open().map((b) => [b.runningS, b.units, b.closed]), [[2, 2, false]]);
});

test('classification: cycling or high power is running, powered is idle, otherwise stopped', () => {
  const base = { t: H0, windowCycles: 3, sampleMs: 5000 };
  assert.equal(classify(press, { ...base, kw: 0, lastCycleAt: H0 - 29_000 }), 'running');
  assert.equal(classify(press, { ...base, kw: 6 }), 'running');
  assert.equal(classify(press, { ...base, kw: 1, lastCycleAt: H0 - 31_000 }), 'idle');
  assert.equal(classify(press, { ...base, kw: 0.1 }), 'stopped');
  assert.equal(classify(press, { ...base, kw: null }), 'stopped');
});
