// Each relay preset against its device simulator over real loopback HTTP: switch, status, auth and faults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpDeviceClient } from '../../adapters/http/client.ts';
import { HttpDeviceError } from '../../adapters/http/types.ts';
import type { HttpSimDevice } from '../../adapters/http/types.ts';
import { Esp32RelaySimulator } from '../../sim/esp32-relay.ts';
import { Esp32LabDriver } from '../../plugins/relay/drivers/esp32-lab.ts';
import { TasmotaDriver } from '../../plugins/relay/drivers/tasmota.ts';
import { ShellyGen2Driver } from '../../plugins/relay/drivers/shelly-gen2.ts';
import type { RelayDriver } from '../../plugins/relay/drivers/types.ts';

const KEY = 'lab-key-123';

async function device(kind: HttpSimDevice, clientKey: string | undefined = KEY, timeoutMs = 1000) {
  const plant = { relay: false, setRelay(on: boolean) { this.relay = on; } };
  const sim = new Esp32RelaySimulator({ device: kind, apiKey: kind === 'esp32-lab' ? KEY : undefined, plant });
  const url = await sim.start();
  const http = new HttpDeviceClient({ baseUrl: url, apiKey: clientKey, apiKeyHeader: 'X-API-Key', timeoutMs, headers: {} });
  const driver: RelayDriver =
    kind === 'esp32-lab' ? new Esp32LabDriver(http) : kind === 'tasmota' ? new TasmotaDriver(http) : new ShellyGen2Driver(http);
  return { sim, http, driver, plant, close: async () => { await http.close(); await sim.close(); } };
}

for (const kind of ['esp32-lab', 'tasmota', 'shelly-gen2'] as const) {
  test(`${kind}: switching on and off over HTTP moves the device relay and the plant, and status reads it back`, async () => {
    const d = await device(kind);
    try {
      assert.equal((await d.driver.read()).on, false);
      assert.equal((await d.driver.set(true)).on, true);
      assert.equal(d.sim.relay, true);
      assert.equal(d.plant.relay, true);
      assert.equal((await d.driver.read()).on, true);
      d.sim.setRelay(false); // someone pressed the button on the device
      assert.equal((await d.driver.read()).on, false);
      assert.equal((await d.driver.set(false)).on, false);
      assert.equal(d.plant.relay, false);
    } finally {
      await d.close();
    }
  });

  test(`${kind}: HTTP 500, malformed JSON, slow replies and an offline device are reported as errors naming the device`, async () => {
    const d = await device(kind, KEY, 300);
    try {
      d.sim.faults.error500 = true;
      await assert.rejects(d.driver.read(), (e: HttpDeviceError) => e.failure === 'status' && e.status === 500 && /answered 500/.test(e.message) && e.message.includes(d.sim.url));
      d.sim.faults.error500 = false;
      d.sim.faults.malformed = true;
      await assert.rejects(d.driver.set(true), (e: HttpDeviceError) => e.failure === 'parse' && /malformed JSON/.test(e.message));
      d.sim.faults.malformed = false;
      d.sim.faults.delayMs = 2000;
      await assert.rejects(d.driver.read(), (e: HttpDeviceError) => e.failure === 'timeout' && /timed out after 300 ms/.test(e.message));
      d.sim.faults.delayMs = 0;
      await d.sim.setOffline(true);
      await assert.rejects(d.driver.read(), (e: HttpDeviceError) => e.unreachable && /cannot connect \(ECONNREFUSED\)/.test(e.message));
      await d.sim.setOffline(false);
      assert.equal((await d.driver.set(true)).on, true, 'the device answers again on the same port');
    } finally {
      await d.close();
    }
  });
}

test('esp32-lab: the firmware receives POST /relay {"on":true} with the X-API-Key header', async () => {
  const d = await device('esp32-lab');
  try {
    const status = await d.driver.set(true);
    const last = d.sim.requests.at(-1)!;
    assert.deepEqual([last.method, last.path, JSON.parse(last.body)], ['POST', '/relay', { on: true }]);
    assert.equal(typeof status.details?.uptime, 'number');
    assert.equal(typeof status.details?.wifi_rssi, 'number');
  } finally {
    await d.close();
  }
});

test('esp32-lab: a wrong API key is refused with an error naming 401 and the apiKey option', async () => {
  const d = await device('esp32-lab', 'wrong-key');
  try {
    await assert.rejects(d.driver.set(true), (e: HttpDeviceError) => {
      assert.equal(e.status, 401);
      assert.match(e.message, /POST \/relay answered 401 Unauthorized/);
      assert.match(e.message, /check the adapter's apiKey/);
      assert.ok(!e.message.includes('wrong-key'), 'the key itself is never in the message');
      return true;
    });
    assert.equal(d.sim.relay, false, 'an unauthorised request does not switch');
  } finally {
    await d.close();
  }
});

test('tasmota and shelly-gen2: the wire requests are the documented ones', async () => {
  const t = await device('tasmota');
  const s = await device('shelly-gen2');
  try {
    await t.driver.set(true);
    await t.driver.read();
    assert.deepEqual(t.sim.requests.map((r) => r.path), ['/cm?cmnd=Power%20On', '/cm?cmnd=Power']);
    await s.driver.set(true);
    await s.driver.read();
    assert.deepEqual(s.sim.requests.map((r) => r.path), ['/rpc/Switch.Set?id=0&on=true', '/rpc/Switch.GetStatus?id=0']);
  } finally {
    await t.close();
    await s.close();
  }
});

test('a preset talking to the wrong firmware says so instead of reporting a state', async () => {
  const d = await device('tasmota');
  try {
    const lab = new Esp32LabDriver(d.http);
    await assert.rejects(lab.read(), /404/);
    const shelly = new ShellyGen2Driver(d.http);
    await assert.rejects(shelly.read(), /404/);
  } finally {
    await d.close();
  }
});
