// A healthy Modbus TCP link polled for a long time keeps nothing per request. The soak found the client
// racing every request against one long-lived "link broken" promise: each race left a reaction on it
// (~600 bytes per request, +25 MB of heap per simulated hour at the lab's 10 polls/s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../core/clock.ts';
import { SerialModbusClient } from '../../adapters/modbus/client.ts';
import { Nj301Simulator } from '../../sim/nj301.ts';
import { gcOrNull } from '../helpers/gc.ts';

test('20,000 reads on one healthy link leave the heap where it was', { timeout: 120_000 }, async (t) => {
  const gc = gcOrNull();
  if (!gc) {
    t.skip('no way to force a GC on this runtime (node:v8 setFlagsFromString + vm gc)');
    return;
  }
  const sim = new Nj301Simulator({ clock: systemClock });
  await sim.start();
  const client = new SerialModbusClient({ transport: 'tcp', host: sim.host, port: sim.port, timeoutMs: 2000 }, systemClock);
  t.after(async () => {
    await client.close();
    await sim.stop();
  });
  for (let i = 0; i < 500; i++) await client.readRegisters('holding', sim.unit, 0, 17); // warm up
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 20_000; i++) await client.readRegisters('holding', sim.unit, 0, 17);
  gc();
  const grownMB = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  // With the race, 20,000 requests kept ~12 MB; without it the heap moves by well under 1 MB.
  assert.ok(grownMB < 4, `heap grew by ${grownMB.toFixed(1)} MB over 20,000 reads`);
});
