// MO → mo_batch mapping on the simulator's realistic (and bad) manufacturing orders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { component, defaultMos, equipment, makeMo, silo } from '../../sim/odoo-data.ts';
import { equipmentNumber, mapMos } from '../../plugins/odoo-sync/mapping.ts';

const open = () => defaultMos(5).map((m) => m.mo).filter((mo) => ['confirmed', 'progress', 'to_close'].includes(mo.state));

test('silo number from code + name: silo101, SILO C (103 in the name), silo 111', () => {
  assert.equal(equipmentNumber(silo(101)), 101);
  assert.equal(equipmentNumber(equipment(103, 'SILO C', 'Silo 103 Bungkil Kedelai')), 103);
  assert.equal(equipmentNumber(equipment(111, 'silo 111', 'Silo Dedak')), 111);
  assert.equal(equipmentNumber(equipment(90, 'WH-STOCK', 'Gudang Bahan Baku')), null);
  assert.equal(equipmentNumber(false), null);
});

test('WH/MO/00001: silos a, c, h, k, m; to_consume 0 falls back to consumed', () => {
  const { batches } = mapMos(open(), { liquidTanks: false });
  const b = batches.find((x) => x.mo_id === 'WH/MO/00001')!;
  assert.deepEqual(b.consumptions, { a: 500, c: 220, k: 80, h: 85.5, m: 5 });
  assert.equal(b.component_names.c, 'Bungkil Kedelai (soybean meal)');
  assert.equal(b.silos.a, 101);
  assert.equal(b.silos.m, 113);
  assert.equal(b.consumption, 1000);
  assert.equal(b.bom_code, 'BOM-L511');
  assert.equal(b.equipment_id_batch, 'PLC01');
});

test('WH/MO/00002: false fields become null; warehouse, no equipment and tank 114 are skipped with warnings', () => {
  const { batches, warnings } = mapMos(open(), { liquidTanks: false });
  const b = batches.find((x) => x.mo_id === 'WH/MO/00002')!;
  assert.equal(b.bom_code, null);
  assert.deepEqual(b.consumptions, { a: 1100, d: 150 });
  assert.equal(b.liquids, undefined);
  const mine = warnings.filter((w) => w.startsWith('WH/MO/00002'));
  assert.equal(mine.length, 3, mine.join('\n'));
  assert.ok(mine.some((w) => /DCP.*WH-STOCK.*no silo number/.test(w)), mine.join('\n'));
  assert.ok(mine.some((w) => /Lisin HCl.*has no equipment/.test(w)), mine.join('\n'));
  assert.ok(mine.some((w) => /Tetes.*liquid tank 114 \(liquidTanks is off\)/.test(w)), mine.join('\n'));
});

test('liquidTanks maps 114/115 to lq114/lq115', () => {
  const { batches } = mapMos(open(), { liquidTanks: true });
  assert.deepEqual(batches.find((x) => x.mo_id === 'WH/MO/00002')!.liquids, { lq114: { name: 'Tetes Tebu (molasses)', consumption: 40 } });
  assert.deepEqual(batches.find((x) => x.mo_id === 'WH/MO/00003')!.liquids, { lq115: { name: 'CPO (palm oil)', consumption: 12 } });
});

test('WH/MO/00003: non-numeric quantity and unknown silo 120 are skipped, naming MO and component', () => {
  const { batches, warnings } = mapMos(open(), { liquidTanks: false });
  const b = batches.find((x) => x.mo_id === 'WH/MO/00003')!;
  assert.deepEqual(b.consumptions, { g: 300 });
  assert.ok(warnings.some((w) => w.startsWith('WH/MO/00003') && /Dedak Padi.*"12,5 kg" is not a number/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.startsWith('WH/MO/00003') && /Garam.*number 120, not a silo 101\.\.113/.test(w)), warnings.join('\n'));
});

test('an MO with nothing mappable is skipped with a reason; a duplicate mo_id keeps the first', () => {
  const nothing = makeMo(50, { name: 'WH/MO/00050', state: 'confirmed', start: false, product: 'X', quantity: 10, components: [component(201, 5, false), component(202, 5, silo(120))] }).mo;
  const first = makeMo(51, { name: 'WH/MO/00051', state: 'confirmed', start: false, product: 'First', quantity: 10, components: [component(201, 5, silo(101))] }).mo;
  const dup = { ...first, product_name: 'Second' };
  const r = mapMos([nothing, first, dup], { liquidTanks: false });
  assert.deepEqual(r.skipped, [{ mo_id: 'WH/MO/00050', reason: 'none of its 2 component(s) maps to a silo' }]);
  assert.equal(r.batches.length, 1);
  assert.equal(r.batches[0]!.finished_goods, 'First');
  assert.ok(r.warnings.some((w) => w === 'WH/MO/00051: listed twice in one fetch; the first one is kept'));
  assert.ok(r.warnings.some((w) => w.startsWith('WH/MO/00050: component') && /has no equipment/.test(w)));
});

test('numeric strings are accepted, negative or NaN quantities are not', () => {
  const mo = makeMo(60, {
    name: 'WH/MO/00060', state: 'confirmed', start: false, product: 'Y', quantity: '250',
    components: [component(201, '12.5', silo(101)), component(202, -3, silo(102)), component(203, Number.NaN, silo(103))],
  }).mo;
  const r = mapMos([mo], { liquidTanks: false });
  assert.deepEqual(r.batches[0]!.consumptions, { a: 12.5 });
  assert.equal(r.batches[0]!.consumption, 250);
  assert.equal(r.warnings.filter((w) => /is not a number/.test(w)).length, 2);
});
