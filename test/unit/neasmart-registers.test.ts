// The Neasmart register map: addresses of zones, globals, mixed groups, dehumidifiers and pumps as
// the original gateway reads them, and the reverse lookup used for bus events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dehumidifierAddress,
  GLOBAL,
  LAST_ADDRESS,
  mixedGroupAddress,
  pumpAddress,
  ZONE,
  zoneAddress,
  zoneOf,
} from '../../plugins/neasmart/registers.ts';

test('zone blocks: (base-1)*1200 + zone*100, fields at +0/+1/+2/+10', () => {
  assert.equal(zoneAddress(1, 1), 100);
  assert.equal(zoneAddress(1, 3), 300);
  assert.equal(zoneAddress(1, 12), 1200);
  assert.equal(zoneAddress(2, 1), 1300);
  assert.equal(zoneAddress(5, 12), 6000);
  assert.deepEqual([ZONE.state, ZONE.setpoint, ZONE.temperature, ZONE.humidity], [0, 1, 2, 10]);
  assert.equal(LAST_ADDRESS, 6010);
});

test('globals, mixed groups, dehumidifiers and pumps do not overlap', () => {
  assert.deepEqual(GLOBAL, { mode: 1, state: 2, errors: 3, warnings: 5, hints: 6, outsideTemperature: 7, filteredOutsideTemperature: 8 });
  assert.deepEqual([1, 2, 3].map(mixedGroupAddress), [10, 14, 18]);
  assert.throws(() => mixedGroupAddress(4), /1\.\.3/);
  assert.equal(dehumidifierAddress(1), 22); // 21 is mixed group 3's return temperature
  assert.equal(dehumidifierAddress(9), 30);
  assert.equal(pumpAddress(1), 31);
  assert.equal(pumpAddress(5), 35);
  const used = [
    ...Object.values(GLOBAL),
    ...[1, 2, 3].flatMap((g) => [0, 1, 2, 3].map((o) => mixedGroupAddress(g) + o)),
    ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map(dehumidifierAddress),
    ...[1, 2, 3, 4, 5].map(pumpAddress),
  ];
  assert.equal(new Set(used).size, used.length);
  assert.ok(Math.max(...used) < zoneAddress(1, 1));
});

test('zoneOf maps a register back to its zone and field, including zone 12 at the next base\'s boundary', () => {
  assert.deepEqual(zoneOf(301), { base: 1, zone: 3, field: 'setpoint' });
  assert.deepEqual(zoneOf(1200), { base: 1, zone: 12, field: 'state' });
  assert.deepEqual(zoneOf(1210), { base: 1, zone: 12, field: 'humidity' });
  assert.deepEqual(zoneOf(1302), { base: 2, zone: 1, field: 'temperature' });
  assert.deepEqual(zoneOf(6010), { base: 5, zone: 12, field: 'humidity' });
  assert.equal(zoneOf(7), null); // outside temperature
  assert.equal(zoneOf(305), null); // unused offset
  assert.equal(zoneOf(7300), null); // beyond base 5
  for (let b = 1; b <= 5; b++) for (let z = 1; z <= 12; z++) assert.deepEqual(zoneOf(zoneAddress(b, z) + 2), { base: b, zone: z, field: 'temperature' });
});
