// The `odoo` adapter kind: the simulator it starts (reachable as sim:<id>), sessions that expire on
// the runtime clock, and the real driver's refusal of missing options without echoing the password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { Bus } from '../../core/bus.ts';
import { HealthModel } from '../../core/health.ts';
import { memoryLog } from '../../core/log.ts';
import { MetricsRegistry } from '../../core/metrics.ts';
import { SimWorld } from '../../core/sim-world.ts';
import type { AdapterContext } from '../../core/plugin.ts';
import odooAdapter from '../../adapters/odoo/adapter.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import type { OdooSimulator } from '../../sim/odoo.ts';

function context(id = 'erp'): AdapterContext & { clock: FakeClock } {
  const clock = new FakeClock();
  return { id, log: memoryLog('silent').root.logger(`adapter:${id}`), clock, bus: new Bus(), metrics: new MetricsRegistry(), health: new HealthModel({ clock }), world: new SimWorld() };
}

test('the catalogue lists the odoo kind', async () => {
  const entry = adapterCatalog.find((e) => e.name === 'odoo');
  assert.ok(entry);
  assert.equal((await entry.load()).kind, 'odoo');
});

test('sim driver: a simulated Odoo reachable as sim:<id>, sessions expiring on the runtime clock', async () => {
  const ctx = context();
  const handle = await odooAdapter.sim({ db: 'mill', username: 'scada', password: 'pw-from-env', sim: { sessionTtlMs: 30 * 60_000, moCount: 20 } }, ctx);
  try {
    const sim = ctx.world.require<OdooSimulator>('sim:erp');
    const first = await handle.instance.fetchManufacturingOrders({ limit: 100 });
    assert.equal(first.source, 'custom-endpoint');
    assert.equal(first.mos.length, 20);
    await ctx.clock.advance(31 * 60_000);
    await handle.instance.fetchManufacturingOrders();
    assert.deepEqual(sim.requests.map((r) => `${r.path} ${r.outcome}`).slice(2), [
      '/api/scada/mo-list-detailed error 100', '/web/session/authenticate ok', '/api/scada/mo-list-detailed ok',
    ]);
    sim.customModule = false;
    assert.equal((await handle.instance.fetchManufacturingOrders()).source, 'search-read');
  } finally {
    await handle.close();
    await ctx.world.close();
  }
});

test('sim driver with customModule false starts without the grt_scada endpoint', async () => {
  const ctx = context();
  const handle = await odooAdapter.sim({ sim: { customModule: false } }, ctx);
  try {
    assert.equal((await handle.instance.fetchManufacturingOrders()).source, 'search-read');
  } finally {
    await handle.close();
    await ctx.world.close();
  }
});

test('real driver: missing options are named, the password is not echoed', async () => {
  await assert.rejects(odooAdapter.real({ baseUrl: 'http://odoo:8069', password: 'hunter2-secret' }, context()), (err: Error) => {
    assert.match(err.message, /options db, username required for the real driver/);
    assert.ok(!err.message.includes('hunter2-secret'));
    return true;
  });
});

test('options schema marks password x-secret', () => {
  const props = (odooAdapter.optionsSchema as { properties: Record<string, { 'x-secret'?: boolean }> }).properties;
  assert.equal(props.password!['x-secret'], true);
});
