// The closed Odoo loop on simulators with fake time: auto-sync on, the CJ2M mixing every batch,
// each MO handed to the PLC once and written back to Odoo once over 30 simulated minutes; Odoo
// down, lost replies, timeouts and session expiry during the write-back; a failed batch held for
// the operator. Each scenario on the embedded store and on PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import type { Cj2mSimulator } from '../../sim/cj2m.ts';
import type { OdooSimulator } from '../../sim/odoo.ts';
import { makeMo, component, silo } from '../../sim/odoo-data.ts';
import { startLine, type LineUnderTest } from '../fixtures/odoo-line.ts';
import { postgresSkip, startPostgres, type TestPostgres, pgQuery } from '../helpers/postgres.ts';

/** Lets real sockets (UDP, HTTP on loopback) answer between fake-time steps. */
const io = () => new Promise((r) => setTimeout(r, 3));

/** Advances fake time by `ms` in `stepMs` steps, giving the loopback I/O a moment after each. */
async function run(clock: FakeClock, ms: number, stepMs = 1000): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    await clock.advance(Math.min(stepMs, ms - t));
    await io();
  }
}

/** Runs fake time until `check` holds (at most `maxMs`), failing with what was awaited. */
async function runUntil<T>(clock: FakeClock, what: string, maxMs: number, check: () => T | undefined | false | Promise<T | undefined | false>, stepMs = 1000): Promise<T> {
  for (let t = 0; ; t += stepMs) {
    const v = await check();
    if (v) return v;
    if (t > maxMs) throw new Error(`not within ${maxMs / 1000} simulated s: ${what}`);
    await clock.advance(stepMs);
    await io();
  }
}

interface Lab {
  clock: FakeClock;
  line: LineUnderTest;
  odoo: OdooSimulator;
  plc: Cj2mSimulator;
}

async function lab(database: string | undefined, options: { moCount?: number } = {}): Promise<Lab> {
  const clock = new FakeClock();
  const line = await startLine({ clock, database, moCount: options.moCount, backoff: { initialMs: 5000, maxMs: 60_000 } });
  return { clock, line, odoo: line.runtime.world.require<OdooSimulator>('sim:erp'), plc: line.runtime.world.require<Cj2mSimulator>('sim:cj2m') };
}

const writesOf = (odoo: OdooSimulator, moId: string) => odoo.writes.filter((w) => w.moId === moId).map((w) => w.kind);

async function history(line: LineUnderTest): Promise<Array<Record<string, unknown>>> {
  const r = await line.call('GET', '/api/admin/batch-history');
  assert.equal(r.status, 200);
  return (r.body.data as { batches: Array<Record<string, unknown>> }).batches;
}

/** One simple MO (two silos), so a scenario follows exactly one batch. */
function oneMo(odoo: OdooSimulator, name = 'WH/MO/00501'): void {
  odoo.replaceMos([makeMo(1, { name, state: 'confirmed', start: '2025-05-01T07:00:00', product: 'Pakan Uji', quantity: 300, components: [component(201, 200, silo(101)), component(202, 100, silo(102))] }).mo]);
}

let dbSeq = 0;

/** A fresh database on the test server for each scenario (nothing left over from the one before). */
async function freshDatabase(url: string): Promise<string> {
  const name = `wb_${process.pid}_${++dbSeq}`;
  await pgQuery(url, `CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function scenarios(label: string, database: () => Promise<string | undefined>) {
  test(`${label}: 30 simulated minutes: every MO mixed once and written back once`, async () => {
    const { clock, line, odoo, plc } = await lab(await database(), { moCount: 12 });
    try {
      await run(clock, 15 * 60_000);
      // New work arrives in Odoo half-way through.
      for (let i = 0; i < 3; i++) {
        odoo.upsertMo(makeMo(100 + i, { name: `WH/MO/0020${i}`, state: 'confirmed', start: `2025-03-20T0${i}:00:00`, product: 'Pakan Baru', quantity: 400, components: [component(201, 300, silo(105)), component(204, 100, silo(106))] }).mo);
      }
      await run(clock, 15 * 60_000);
      const mixed = plc.taken.map((t) => t.moId);
      const expected = odoo.mos.filter((m) => !['WH/MO/00006', 'WH/MO/00007'].includes(m.mo_id)).map((m) => m.mo_id).sort();
      assert.deepEqual([...new Set(mixed)].sort(), expected, 'every open MO reached the PLC');
      assert.equal(mixed.length, new Set(mixed).size, `no MO mixed twice: ${mixed.join(', ')}`);
      for (const id of expected) {
        assert.deepEqual(writesOf(odoo, id), ['consume', 'done'], `${id} written back exactly once`);
        assert.equal(odoo.mos.find((m) => m.mo_id === id)!.state, 'done');
      }
      const h = await history(line);
      assert.equal(h.length, expected.length);
      assert.ok(h.every((r) => r.state === 'confirmed'), 'every batch confirmed by Odoo');
      assert.equal(line.runtime.store.get('batches_pending_writeback'), 0);
      assert.equal(((await line.call('GET', '/api/admin/batch-status')).body.data as { total_batches: number }).total_batches, 0, 'queue empty');
    } finally {
      await line.stop();
    }
  });

  test(`${label}: Odoo down, a lost reply, session expiry and a timeout during the write-back: written back once, nothing doubled`, async () => {
    const { clock, line, odoo, plc } = await lab(await database());
    try {
      oneMo(odoo);
      await runUntil(clock, 'batch 1 mixing', 120_000, () => plc.mixing === 1);
      await odoo.setDown(true);
      const held = await runUntil(clock, 'two failed write-back attempts', 20 * 60_000, async () => {
        const h = await history(line);
        return h.length === 1 && (h[0].attempts as number) >= 2 ? h[0] : undefined;
      });
      assert.equal(held.state, 'pending');
      assert.match(String(held.last_error), /cannot connect/);
      assert.deepEqual(odoo.writes, [], 'nothing reached Odoo');
      assert.equal(line.runtime.store.get('batches_pending_writeback'), 1);

      // Back, but the consumption is applied and its reply lost.
      await odoo.setDown(false);
      Object.assign(odoo.faults, { only: '/api/scada/mo/update-with-consumptions', loseReplyNext: 1 });
      await runUntil(clock, 'the consumption applied', 10 * 60_000, () => writesOf(odoo, 'WH/MO/00501').includes('consume'));
      // The session ends mid-write-back, and mark-done times out (longer than the client's 1 s deadline).
      odoo.expireSessions();
      const before = ((await history(line))[0].attempts as number);
      Object.assign(odoo.faults, { only: '/api/scada/mo/mark-done', delayMs: 1500 });
      await runUntil(clock, 'the mark-done attempt timed out', 10 * 60_000, async () => {
        const h = (await history(line))[0];
        return (h.attempts as number) > before && /timed out/.test(String(h.last_error)) ? h : undefined;
      });
      await odoo.reset();
      const done = await runUntil(clock, 'write-back confirmed', 10 * 60_000, async () => {
        const h = (await history(line))[0];
        return h.state === 'confirmed' ? h : undefined;
      });
      assert.deepEqual(writesOf(odoo, 'WH/MO/00501'), ['consume', 'done'], 'one consumption, one mark-done');
      const mo = odoo.mos.find((m) => m.mo_id === 'WH/MO/00501')!;
      assert.deepEqual(mo.components_consumption.map((c) => c.consumed), [200, 100], 'consumption counted once');
      assert.equal(mo.state, 'done');
      assert.equal(mo.produced_qty, 300);
      assert.ok((done.attempts as number) >= 4, `retried (${done.attempts} attempts)`);
      assert.equal(plc.taken.length, 1, 'mixed once');
      assert.ok(odoo.requests.some((r) => r.path === '/web/session/authenticate' && r.outcome === 'ok'), 'logged in again');
    } finally {
      await line.stop();
    }
  });

  test(`${label}: a failed batch is held, not written back; the operator retries one on the PLC and writes back the other`, async () => {
    const { clock, line, odoo, plc } = await lab(await database());
    try {
      odoo.replaceMos([
        makeMo(1, { name: 'WH/MO/00601', state: 'confirmed', start: '2025-06-01T07:00:00', product: 'Pakan A', quantity: 300, components: [component(201, 200, silo(101)), component(202, 100, silo(102))] }).mo,
        makeMo(2, { name: 'WH/MO/00602', state: 'confirmed', start: '2025-06-01T08:00:00', product: 'Pakan B', quantity: 50, components: [component(203, 50, silo(103))] }).mo,
      ]);
      await runUntil(clock, 'batch 1 mixing', 120_000, () => plc.mixing === 1);
      plc.forceDone(1, { failed: true });
      await runUntil(clock, 'batch 2 mixing', 60_000, () => plc.mixing === 2);
      plc.forceDone(2, { failed: true });
      await run(clock, 10 * 60_000);
      const h = await history(line);
      assert.deepEqual(h.map((r) => [r.mo_id, r.state, r.status_operation]).sort(), [['WH/MO/00601', 'held', true], ['WH/MO/00602', 'held', true]]);
      assert.deepEqual(odoo.writes, [], 'a failed batch is not written back as done');
      assert.equal(plc.taken.length, 2, 'not queued again by the sync while Odoo still lists them');
      assert.equal(line.runtime.store.get('batches_held'), 2);
      const check = line.runtime.health.report().checks['odoo-writeback:erp-sync'];
      assert.equal(check?.ok, false);
      assert.match(String(check?.detail), /2 held for an operator decision/);

      const key = (mo: string) => String(h.find((r) => r.mo_id === mo)!.key);
      const anonymous = await fetch(`${line.api}/api/admin/resolve-batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: key('WH/MO/00601'), action: 'retry-plc' }) });
      assert.equal(anonymous.status, 401, 'operator actions need the API key');
      const retry = await line.call('POST', '/api/admin/resolve-batch', { key: key('WH/MO/00601'), action: 'retry-plc', note: 'mixer cleaned' });
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      const wb = await line.call('POST', '/api/admin/resolve-batch', { key: key('WH/MO/00602'), action: 'write-back' });
      assert.equal(wb.status, 200, JSON.stringify(wb.body));
      const again = await line.call('POST', '/api/admin/resolve-batch', { key: key('WH/MO/00602'), action: 'dismiss' });
      assert.equal(again.status, 409, 'a decision is taken once');

      await runUntil(clock, 'both written back and confirmed', 20 * 60_000, async () =>
        odoo.mos.every((m) => m.state === 'done') && (await history(line)).every((r) => r.state === 'confirmed' || r.state === 'retried'));
      assert.deepEqual(writesOf(odoo, 'WH/MO/00601'), ['consume', 'done']);
      assert.deepEqual(writesOf(odoo, 'WH/MO/00602'), ['consume', 'done']);
      assert.deepEqual(plc.taken.map((t) => t.moId), ['WH/MO/00601', 'WH/MO/00602', 'WH/MO/00601'], 'only the retried MO mixed again');
      const after = await history(line);
      assert.deepEqual(after.map((r) => [r.mo_id, r.state, r.resolution ?? null]).sort(), [
        ['WH/MO/00601', 'confirmed', null], ['WH/MO/00601', 'retried', 'retry-plc: mixer cleaned'], ['WH/MO/00602', 'confirmed', 'write-back'],
      ]);
      const audit = await line.call('GET', '/api/audit?limit=50');
      const routes = JSON.stringify(audit.body);
      assert.ok((routes.match(/POST \/api\/admin\/resolve-batch/g) ?? []).length >= 2, `audited: ${routes.slice(0, 300)}`);
    } finally {
      await line.stop();
    }
  });
  test(`${label}: a batch finishing after the queue was cleared is recorded from its block and held, not lost`, async () => {
    const { clock, line, odoo, plc } = await lab(await database());
    try {
      odoo.replaceMos([
        makeMo(1, { name: 'WH/MO/00901', state: 'confirmed', start: '2025-09-01T07:00:00', product: 'Pakan A', quantity: 300, components: [component(201, 200, silo(101)), component(202, 100, silo(102))] }).mo,
        makeMo(2, { name: 'WH/MO/00902', state: 'confirmed', start: '2025-09-01T08:00:00', product: 'Pakan B', quantity: 50, components: [component(203, 50, silo(103))] }).mo,
      ]);
      await runUntil(clock, 'batch 1 mixing', 120_000, () => plc.mixing === 1);
      assert.equal((await line.call('POST', '/api/admin/clear-mo-batch')).status, 200);
      // Meanwhile someone closes 00901 in Odoo by hand; the next sync queues 00902 as batch 1.
      odoo.setMoState('WH/MO/00901', 'done');
      await runUntil(clock, '00902 queued in slot 1', 120_000, async () => {
        const q = (await line.call('GET', '/api/admin/batch-queue')).body as unknown as Array<{ mo_id: string; batch_no: number }>;
        return q.some((r) => r.mo_id === 'WH/MO/00902' && r.batch_no === 1);
      });
      plc.forceDone(1);
      await runUntil(clock, '00902 written back', 10 * 60_000, async () => (await history(line)).some((r) => r.mo_id === 'WH/MO/00902' && r.state === 'confirmed'));
      const orphan = (await history(line)).find((r) => r.mo_id === 'WH/MO/00901')!;
      assert.equal(orphan.state, 'held');
      assert.equal(orphan.actual_weight_quantity_finished_goods, 300);
      assert.deepEqual(orphan.consumption, { silo101: 200, silo102: 100 });
      assert.deepEqual(writesOf(odoo, 'WH/MO/00901'), [], 'not written back without the operator');
      assert.deepEqual(writesOf(odoo, 'WH/MO/00902'), ['consume', 'done'], 'the re-queued MO: its first mix counted, written back once');
      assert.deepEqual(plc.taken.map((t) => t.moId), ['WH/MO/00901', 'WH/MO/00902'], line.lines.map((l) => `${l.ns} ${l.msg}`).filter((m) => /batch|PLC|queue/.test(m)).join('\n'));
    } finally {
      await line.stop();
    }
  });
}

describe('odoo write-back on the embedded store', () => {
  scenarios('store', () => Promise.resolve(undefined));
});

describe('odoo write-back on PostgreSQL', { skip: postgresSkip }, () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });
  scenarios('postgres', () => freshDatabase(pg.url));
});
