// Simulators run for weeks (--sim demos, bench/soak.ts): what they record for tests stays bounded
// to the most recent entries instead of growing with every exchange.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { Esp32RelaySimulator } from '../../sim/esp32-relay.ts';
import { Max31865Sim } from '../../sim/max31865.ts';

test('the MAX31865 simulator keeps its last 1000 register writes', async () => {
  const chip = new Max31865Sim({ clock: new FakeClock(), temperature: () => 25 });
  for (let i = 0; i < 1500; i++) await chip.transfer(Uint8Array.of(0x83, i & 0xff)); // high fault threshold MSB
  const writes = chip.writes();
  assert.equal(writes.length, 1000);
  assert.deepEqual(writes.at(-1), { register: 3, value: 1499 & 0xff, at: 0 });
  assert.equal(writes[0]!.value, 500 & 0xff, 'the oldest 500 went');
});

test('the ESP32 relay simulator keeps the newest keepRequests requests, read over HTTP', async () => {
  const sim = new Esp32RelaySimulator({ device: 'esp32-lab', port: 0, keepRequests: 50 });
  const url = await sim.start();
  try {
    for (let i = 0; i < 120; i++) await (await fetch(`${url}/status?n=${i}`)).arrayBuffer();
    assert.equal(sim.requests.length, 50);
    assert.equal(sim.requests.at(-1)!.path, '/status?n=119');
    assert.equal(sim.requests[0]!.path, '/status?n=70');
  } finally {
    await sim.close();
  }
});
