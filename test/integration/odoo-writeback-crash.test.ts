// A gateway SIGKILLed between "PLC done" and "Odoo confirmed": the finished batch is in the outbox
// on disk (or in PostgreSQL), its consumption already applied in Odoo with the reply lost and the
// mark-done failing; after a restart from the same data it is written back once — consumption not
// counted twice, the MO neither mixed nor queued again. The gateway runs as a child process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cj2mSimulator } from '../../sim/cj2m.ts';
import { OdooSimulator } from '../../sim/odoo.ts';
import { component, makeMo, silo } from '../../sim/odoo-data.ts';
import { LINE_KEY } from '../fixtures/odoo-line.ts';
import { eventually } from '../helpers/eventually.ts';
import { postgresSkip, startPostgres, type TestPostgres, pgQuery } from '../helpers/postgres.ts';
import { spawnTs, repoRoot } from '../helpers/spawn.ts';

const CHILD = join(repoRoot, 'test/fixtures/odoo-line-child.ts');
const MO = 'WH/MO/00701';

interface Gateway {
  child: ChildProcess;
  api: string;
  output: () => string;
}

async function startGateway(dataDir: string, odoo: OdooSimulator, plc: Cj2mSimulator, database?: string): Promise<Gateway> {
  const child = spawnTs(CHILD, [dataDir, odoo.url, String(plc.port), database ?? '-']);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const api = await eventually('the gateway printed its API address', 30_000, () => {
    if (child.exitCode !== null) throw new Error(`gateway exited (${child.exitCode}): ${out}`);
    return /^api (\S+)$/m.exec(out)?.[1];
  });
  return { child, api, output: () => out };
}

async function kill(g: Gateway, signal: NodeJS.Signals): Promise<void> {
  if (g.child.exitCode !== null || g.child.signalCode !== null) return;
  const exited = new Promise((r) => g.child.once('exit', r));
  g.child.kill(signal);
  await exited;
}

async function history(g: Gateway): Promise<Array<Record<string, unknown>>> {
  const r = await fetch(`${g.api}/api/admin/batch-history`, { headers: { 'x-api-key': LINE_KEY } });
  return ((await r.json()) as { data: { batches: Array<Record<string, unknown>> } }).data.batches;
}

async function crashAndRecover(database?: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-wb-crash-'));
  const odoo = new OdooSimulator();
  const plc = new Cj2mSimulator({ mixingMs: 300 });
  odoo.replaceMos([makeMo(1, { name: MO, state: 'confirmed', start: '2025-07-01T07:00:00', product: 'Pakan Crash', quantity: 300, components: [component(201, 200, silo(101)), component(202, 100, silo(102))] }).mo]);
  await odoo.start();
  await plc.start();
  let g: Gateway | undefined;
  try {
    // The consumption lands in Odoo but its reply is lost; then every mark-done fails.
    Object.assign(odoo.faults, { only: '/api/scada/mo/update-with-consumptions', loseReplyNext: 1 });
    g = await startGateway(dataDir, odoo, plc, database);
    await eventually('the consumption applied in Odoo', 20_000, () => odoo.writes.some((w) => w.moId === MO && w.kind === 'consume'));
    Object.assign(odoo.faults, { only: '/api/scada/mo/mark-done', error500: true });
    const pending = await eventually('the write-back failing and retried', 20_000, async () => {
      const h = await history(g!);
      return h.length === 1 && h[0].state === 'pending' && (h[0].attempts as number) >= 2 ? h[0] : undefined;
    });
    assert.equal(typeof pending.baseline, 'number', 'the idempotency baseline is recorded');
    await kill(g, 'SIGKILL');
    assert.equal(odoo.mos[0].state, 'progress', 'not done in Odoo yet');

    await odoo.reset();
    g = await startGateway(dataDir, odoo, plc, database);
    const done = await eventually('written back after the restart', 20_000, async () => {
      const h = await history(g!);
      return h.length === 1 && h[0].state === 'confirmed' ? h[0] : undefined;
    });
    assert.deepEqual(odoo.writes.filter((w) => w.moId === MO).map((w) => w.kind), ['consume', 'done'], 'one consumption, one mark-done');
    assert.deepEqual(odoo.mos[0].components_consumption.map((c) => c.consumed), [200, 100], 'consumption counted once');
    assert.equal(odoo.mos[0].state, 'done');
    assert.equal(done.actual_weight_quantity_finished_goods, 300);
    assert.deepEqual(plc.taken.map((t) => t.moId), [MO], 'mixed once, never queued again');
    if (database) {
      const rows = await pgQuery<{ state: string; status_manufacturing: boolean; w: string }>(database, 'SELECT state, status_manufacturing, actual_weight_quantity_finished_goods AS w FROM mo_histories');
      assert.deepEqual(rows.map((r) => [r.state, r.status_manufacturing, Number(r.w)]), [['confirmed', true, 300]]);
    }
  } finally {
    if (g) await kill(g, 'SIGKILL');
    await odoo.close();
    await plc.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('SIGKILL between PLC done and Odoo confirmed (embedded store): written back once after restart', async () => {
  await crashAndRecover();
});

describe('the same on PostgreSQL', { skip: postgresSkip }, () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });
  test('SIGKILL between PLC done and Odoo confirmed (PostgreSQL): written back once after restart', async () => {
    await crashAndRecover(pg.url);
  });
});
