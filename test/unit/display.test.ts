// The manifest's display section: validated with errors naming the key, formatted the same way for
// every consumer, turned into alarm limits that carry the operator's label and unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestError } from '../../core/errors.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import { displayLimits, formatDisplayValue } from '../../core/display.ts';
import { formatLiveTable, type LiveEntry } from '../../core/cli/monitor.ts';
import { conditionsOf } from '../../plugins/http-api/alarms/board.ts';
import { adapters, plugins } from '../fixtures/manifests/catalog.ts';

const manifest = (display: unknown) => JSON.stringify({ name: 'gw', plugins: [], display });

test('display: a good section is kept as written; bad ones name the key and what is wrong', () => {
  const good = { mode: { label: 'Mode', enum: { 0: 'manual', 1: 'auto', 2: 'tune' } }, 'sensor:co2_b': { label: 'CO₂', unit: 'ppm', decimals: 0, limits: { high: 2000 } } };
  assert.deepEqual(parseManifest(manifest(good), 'gw.json', { plugins, adapters, env: {} }).manifest.display, good);
  assert.deepEqual(parseManifest(JSON.stringify({ name: 'gw', plugins: [] }), 'gw.json', { plugins, adapters, env: {} }).manifest.display, {});
  const bad = { mode: { label: '', colour: 'red', decimals: 9, enum: { 'a b': 'x' }, limits: { low: 5, high: 3 } } };
  let err: unknown;
  try {
    parseManifest(manifest(bad), 'gw.json', { plugins, adapters, env: {} });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ManifestError);
  const text = (err as ManifestError).message;
  for (const expected of [
    'display.mode.colour: unknown key "colour" (allowed: label, unit, decimals, enum, limits, group, description, staleAfterS, staleWith, control)',
    'display.mode.label: must NOT have fewer than 1 characters',
    'display.mode.decimals: must be <= 6',
    'display.mode.enum: key "a b" is not valid',
    'display.mode.limits: low 5 is not below high 3; swap them',
  ]) assert.ok(text.includes(expected), `${expected}\nin\n${text}`);
});

test('display: values read as the operator expects (unit, decimals, enum names, booleans)', () => {
  assert.equal(formatDisplayValue({ unit: '°C', decimals: 1 }, 21.4567), '21.5 °C');
  assert.equal(formatDisplayValue({ enum: { 0: 'manual', 1: 'auto' } }, 1), 'auto');
  assert.equal(formatDisplayValue({ enum: { true: 'connected', false: 'lost' } }, false), 'lost');
  assert.equal(formatDisplayValue(undefined, 0.1 + 0.2), '0.3');
  assert.equal(formatDisplayValue({ unit: 'kW' }, null), '—');
});

test('display limits raise alarms named with the label and unit; an explicit alarms.limits entry wins', () => {
  const limits = displayLimits({ pv: { label: 'Temperature', unit: '°C', decimals: 1, limits: { low: 0, high: 100 } }, sp: { label: 'Setpoint' } }, { sp: { max: 90 } });
  assert.deepEqual(limits, { pv: { label: 'Temperature', unit: '°C', decimals: 1, min: 0, max: 100 }, sp: { label: 'Setpoint', max: 90 } });
  const report = { status: 'ok', heartbeats: {}, plugins: {}, checks: {}, store: null } as unknown as Parameters<typeof conditionsOf>[0];
  const c = conditionsOf(report, { pv: 104.26, sp: 50 }, limits);
  assert.deepEqual(c.map((x) => [x.id, x.message]), [['limit:pv', 'Temperature = 104.3 °C above its limit 100 °C']]);
});

test('monitor live: with the display section a label column, units and enum names', () => {
  const state = new Map<string, LiveEntry>([['mode', { value: 1, ts: 100 }], ['pv', { value: 21.456, ts: 100 }]]);
  assert.deepEqual(formatLiveTable(state, 101, { color: false }, 10, { mode: { label: 'Mode', enum: { 1: 'auto' } }, pv: { label: 'Temperature', unit: '°C', decimals: 1 } }), [
    'key   label        value    age',
    '----  -----------  -------  -----',
    'mode  Mode         auto     1.0 s',
    'pv    Temperature  21.5 °C  1.0 s',
    '2 key(s)',
  ]);
});
