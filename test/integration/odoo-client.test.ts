// The real Odoo JSON-RPC client against the Odoo simulator over loopback: login and session cookie,
// expiry and one re-authentication, the custom endpoint and its search_read fallback, every fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OdooJsonRpcClient } from '../../adapters/odoo/client.ts';
import { OdooError, type OdooErrorKind } from '../../adapters/odoo/errors.ts';
import { memoryLog } from '../../core/log.ts';
import { OdooSimulator, type OdooSimulatorOptions } from '../../sim/odoo.ts';

const PASSWORD = 'S3cret-Odoo-pw!';

async function rig(simOptions: OdooSimulatorOptions = {}, clientOptions: { password?: string; timeoutMs?: number; db?: string } = {}) {
  const sim = new OdooSimulator({ db: 'mill', username: 'scada', password: PASSWORD, ...simOptions });
  const url = await sim.start();
  const { root, lines } = memoryLog('debug');
  const client = new OdooJsonRpcClient({
    baseUrl: url, db: clientOptions.db ?? 'mill', username: 'scada', password: clientOptions.password ?? PASSWORD,
    timeoutMs: clientOptions.timeoutMs ?? 2000, log: root.logger('adapter:odoo'),
  });
  return {
    sim, client, lines,
    async [Symbol.asyncDispose]() {
      await client.close();
      await sim.close();
    },
  };
}

async function rejectsWith(promise: Promise<unknown>, kind: OdooErrorKind, pattern?: RegExp): Promise<OdooError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof OdooError, `expected an OdooError, got ${String(err)}`);
    assert.equal(err.kind, kind, `kind of: ${err.message}`);
    if (pattern) assert.match(err.message, pattern);
    assert.ok(!err.message.includes(PASSWORD), 'the password must never be in a message');
    return err;
  }
  assert.fail(`expected a rejection of kind ${kind}`);
}

const paths = (sim: OdooSimulator) => sim.requests.map((r) => `${r.path} ${r.outcome}`);

test('authenticates, then carries the session_id cookie on every call', async () => {
  await using r = await rig();
  const info = await r.client.authenticate();
  assert.equal(info.uid, 2);
  assert.equal(info.db, 'mill');
  const result = await r.client.moListDetailed({ limit: 50 });
  assert.equal(result.status, 'success');
  const [sid] = r.sim.sessions;
  assert.ok(sid);
  assert.equal(r.sim.requests[0]!.session, null);
  assert.deepEqual((r.sim.requests[0]!.params as { password: string }).password, '***');
  assert.equal(r.sim.requests[1]!.session, sid);
  assert.ok(!JSON.stringify(r.lines).includes(sid!), 'the session cookie is never logged');
  assert.ok(!JSON.stringify(r.lines).includes(PASSWORD));
});

test('the first call logs in by itself', async () => {
  await using r = await rig();
  await r.client.moListDetailed();
  assert.deepEqual(paths(r.sim), ['/web/session/authenticate ok', '/api/scada/mo-list-detailed ok']);
});

test('custom endpoint: open MOs only, planned start ascending then id descending, limit/offset, false kept', async () => {
  await using r = await rig({ moCount: 8 });
  const all = await r.client.moListDetailed({ limit: 100 });
  const names = all.data.map((m) => m.mo_id);
  assert.equal(all.count, 8);
  assert.ok(!names.includes('WH/MO/00006') && !names.includes('WH/MO/00007'), 'draft and done MOs are not listed');
  // MOs 1 and 2 share a start time: id descending puts 2 first; MO 4 has no date and sorts last.
  assert.deepEqual(names.slice(0, 3), ['WH/MO/00002', 'WH/MO/00001', 'WH/MO/00003']);
  assert.equal(names.at(-1), 'WH/MO/00004');
  const mo2 = all.data[0]!;
  assert.equal(mo2.reference, false);
  assert.equal(mo2.schedule_end, false);
  assert.equal(mo2.bom_code, false);
  assert.equal(mo2.components_consumption.find((c) => c.product_id === 212)!.equipment, false);
  const page = await r.client.moListDetailed({ limit: 2, offset: 1 });
  assert.deepEqual(page.data.map((m) => m.mo_id), names.slice(1, 3));
});

test('fetchManufacturingOrders uses the custom endpoint when it exists', async () => {
  await using r = await rig();
  const batch = await r.client.fetchManufacturingOrders({ limit: 10 });
  assert.equal(batch.source, 'custom-endpoint');
  const mo1 = batch.mos.find((m) => m.mo_id === 'WH/MO/00001')!;
  assert.equal(mo1.components_consumption.find((c) => c.product_id === 202)!.equipment && (mo1.components_consumption.find((c) => c.product_id === 202)!.equipment as { code: string }).code, 'SILO C');
});

test('without the custom module: 404 → mrp.production + stock.move search_read, same order and shape', async () => {
  await using r = await rig({ customModule: false });
  await rejectsWith(r.client.moListDetailed(), 'not-found', /mo-list-detailed: not found/);
  const batch = await r.client.fetchManufacturingOrders({ limit: 3 });
  assert.equal(batch.source, 'search-read');
  assert.deepEqual(batch.mos.map((m) => m.mo_id), ['WH/MO/00002', 'WH/MO/00001', 'WH/MO/00003']);
  const mo1 = batch.mos[1]!;
  assert.equal(mo1.equipment, false);
  assert.equal(mo1.schedule_start, '2025-03-03 07:00:00');
  assert.equal(mo1.quantity, 1000);
  const bran = mo1.components_consumption.find((c) => c.product_id === 203)!;
  assert.deepEqual([bran.to_consume, bran.consumed], [0, 80]);
  assert.equal(r.lines.filter((l) => l.level === 'warn' && /not found/.test(String(l.msg))).length, 1);
  await r.client.fetchManufacturingOrders();
  assert.equal(r.lines.filter((l) => l.level === 'warn' && /not found/.test(String(l.msg))).length, 1, 'warned once, not on every sync');
});

test('searchRead filters by state and reads only the fields asked', async () => {
  await using r = await rig();
  const rows = await r.client.searchRead<{ id: number; name: string; state: string }>('mrp.production', [['state', 'in', ['draft', 'done']]], { fields: ['name', 'state'], order: 'id asc' });
  assert.deepEqual(rows, [{ id: 6, name: 'WH/MO/00006', state: 'draft' }, { id: 7, name: 'WH/MO/00007', state: 'done' }]);
  await rejectsWith(r.client.searchRead('no.such.model', []), 'server', /KeyError/);
});

test('session expired in the middle: re-authenticates once and the call succeeds', async () => {
  await using r = await rig();
  await r.client.moListDetailed();
  r.sim.expireSessions();
  const result = await r.client.moListDetailed();
  assert.equal(result.status, 'success');
  assert.deepEqual(paths(r.sim), [
    '/web/session/authenticate ok', '/api/scada/mo-list-detailed ok',
    '/api/scada/mo-list-detailed error 100', '/web/session/authenticate ok', '/api/scada/mo-list-detailed ok',
  ]);
});

test('sessions that time out on the server are renewed the same way', async () => {
  let now = Date.UTC(2025, 2, 3);
  await using r = await rig({ sessionTtlMs: 60_000, now: () => now });
  await r.client.moListDetailed();
  now += 61_000;
  await r.client.moListDetailed();
  assert.equal(r.sim.requests.filter((q) => q.path === '/web/session/authenticate').length, 2);
});

test('a second expiry right after re-authenticating is a clear session error, without a loop', async () => {
  await using r = await rig();
  await r.client.authenticate();
  r.sim.faults.expireNext = 5;
  await rejectsWith(r.client.moListDetailed(), 'session', /expired again right after authenticating; not retrying/);
  assert.equal(r.sim.requests.filter((q) => q.path === '/web/session/authenticate').length, 2);
  assert.equal(r.sim.requests.length, 4);
});

test('concurrent calls that hit one expiry share one re-authentication', async () => {
  await using r = await rig();
  await r.client.authenticate();
  r.sim.expireSessions();
  await Promise.all([r.client.moListDetailed(), r.client.moListDetailed(), r.client.searchRead('mrp.production', [])]);
  assert.equal(r.sim.requests.filter((q) => q.path === '/web/session/authenticate').length, 2);
});

test('wrong password → auth error naming the database, never the password', async () => {
  await using r = await rig({}, { password: 'wrong-password-123' });
  const err = await rejectsWith(r.client.moListDetailed(), 'auth', /wrong login or password for database "mill"/);
  assert.ok(!err.message.includes('wrong-password-123'));
  assert.equal(err.odooName, 'odoo.exceptions.AccessDenied');
  assert.equal(r.sim.requests.length, 1, 'no call after a failed login');
});

test('unknown database → auth error naming ODOO_DB', async () => {
  await using r = await rig({}, { db: 'nope' });
  await rejectsWith(r.client.authenticate(), 'auth', /database "nope" not found/);
});

test('HTTP 500 → protocol error with the status', async () => {
  await using r = await rig();
  await r.client.authenticate();
  r.sim.faults.error500 = true;
  const err = await rejectsWith(r.client.moListDetailed(), 'protocol', /answered HTTP 500/);
  assert.equal(err.httpStatus, 500);
  assert.ok(err.transient);
});

test('malformed JSON → protocol error', async () => {
  await using r = await rig();
  r.sim.faults.malformed = true;
  r.sim.faults.only = '/api/';
  await rejectsWith(r.client.moListDetailed(), 'protocol', /malformed JSON/);
});

test('a JSON body that is not JSON-RPC → protocol error', async () => {
  await using r = await rig();
  r.sim.faults.notJsonRpc = true;
  await rejectsWith(r.client.authenticate(), 'protocol', /not a JSON-RPC 2\.0 response/);
});

test('{"status":"error"} inside result → app error with the module\'s message', async () => {
  await using r = await rig();
  r.sim.faults.appError = "'mrp.production' object has no attribute 'scada_equipment_id'";
  await rejectsWith(r.client.fetchManufacturingOrders(), 'app', /reported an error: 'mrp\.production' object has no attribute/);
});

test('a slow reply → timeout error after timeoutMs', async () => {
  await using r = await rig({}, { timeoutMs: 150 });
  await r.client.authenticate();
  r.sim.faults.delayMs = 2000;
  const started = performance.now();
  await rejectsWith(r.client.moListDetailed(), 'timeout', /timed out after 150 ms/);
  assert.ok(performance.now() - started < 1500);
  r.sim.faults.delayMs = 0;
  assert.equal((await r.client.moListDetailed()).status, 'success', 'the session survives a timeout');
});

test('a caller signal aborts the call with its reason', async () => {
  await using r = await rig();
  await r.client.authenticate();
  r.sim.faults.delayMs = 2000;
  const controller = new AbortController();
  const call = r.client.moListDetailed({ signal: controller.signal });
  setTimeout(() => controller.abort(new Error('plugin stopping')), 20);
  await assert.rejects(call, /plugin stopping/);
});

test('down → connection error; back up on the same port → the next call recovers (new session)', async () => {
  await using r = await rig();
  await r.client.moListDetailed();
  const port = r.sim.port;
  await r.sim.setDown(true);
  await rejectsWith(r.client.moListDetailed(), 'connection', /cannot connect \(ECONNREFUSED\)/);
  r.sim.expireSessions(); // an Odoo restart loses in-memory sessions
  await r.sim.setDown(false);
  assert.equal(r.sim.port, port);
  assert.equal((await r.client.fetchManufacturingOrders()).source, 'custom-endpoint');
});

test('after close() calls reject with a connection error', async () => {
  await using r = await rig();
  await r.client.close();
  await rejectsWith(r.client.moListDetailed(), 'connection', /client closed/);
});

test('the simulator test hooks: upsert, state change, and a helpful error for an unknown MO', async () => {
  await using r = await rig();
  const mo = structuredClone(r.sim.mos[0]!);
  mo.mo_id = 'WH/MO/00100';
  mo.schedule_start = '2025-01-01T00:00:00';
  r.sim.upsertMo(mo);
  assert.equal((await r.client.moListDetailed()).data[0]!.mo_id, 'WH/MO/00100');
  r.sim.setMoState('WH/MO/00100', 'done');
  assert.notEqual((await r.client.moListDetailed()).data[0]!.mo_id, 'WH/MO/00100');
  assert.throws(() => r.sim.setMoState('WH/MO/99999', 'done'), /no MO "WH\/MO\/99999".*upsertMo/);
});
