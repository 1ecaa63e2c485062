// Odoo error mapping (JSON-RPC error bodies to typed OdooError kinds), the session cookie parser
// and the search_read fallback's mapping to the custom endpoint's MO shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OdooError, isSessionError, mapRpcError } from '../../adapters/odoo/errors.ts';
import { sessionCookie } from '../../adapters/odoo/client.ts';
import { toMo, type MrpProductionRow, type StockMoveRow } from '../../adapters/odoo/fallback.ts';

const ctx = { server: 'http://odoo:8069', db: 'prod', path: '/api/scada/mo-list-detailed' };

test('code 100 "Odoo Session Expired" and "Session Invalid" are session errors', () => {
  const expired = mapRpcError({ code: 100, message: 'Odoo Session Expired', data: { name: 'odoo.http.SessionExpiredException', message: 'Session expired' } }, ctx);
  assert.equal(expired.kind, 'session');
  assert.equal(expired.code, 100);
  assert.ok(isSessionError({ code: 200, message: 'Odoo Session Invalid' }));
  assert.ok(!isSessionError({ code: 200, message: 'Odoo Server Error', data: { name: 'builtins.KeyError' } }));
});

test('AccessDenied at login says wrong login or password for the database, and which variables to check', () => {
  const err = mapRpcError({ code: 200, message: 'Odoo Server Error', data: { name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' } }, { ...ctx, path: '/web/session/authenticate' });
  assert.equal(err.kind, 'auth');
  assert.equal(err.odooName, 'odoo.exceptions.AccessDenied');
  assert.match(err.message, /wrong login or password for database "prod"/);
  assert.match(err.message, /ODOO_PASSWORD/);
  assert.equal(err.transient, false);
});

test('an unknown database at login is an auth error naming ODOO_DB', () => {
  const err = mapRpcError({ code: 200, message: 'Odoo Server Error', data: { name: 'odoo.exceptions.AccessError', message: 'Database not found.' } }, { ...ctx, path: '/web/session/authenticate' });
  assert.equal(err.kind, 'auth');
  assert.match(err.message, /database "prod" not found.*ODOO_DB/);
});

test('code 404 is not-found; any other Odoo exception is a server error carrying data.name', () => {
  const nf = mapRpcError({ code: 404, message: '404: Not Found', data: { name: 'werkzeug.exceptions.NotFound', message: '404 Not Found' } }, { ...ctx, httpStatus: 404 });
  assert.equal(nf.kind, 'not-found');
  assert.equal(nf.httpStatus, 404);
  const server = mapRpcError({ code: 200, message: 'Odoo Server Error', data: { name: 'odoo.exceptions.ValidationError', message: 'Invalid field  "foo"\n on model mrp.production' } }, ctx);
  assert.equal(server.kind, 'server');
  assert.equal(server.odooName, 'odoo.exceptions.ValidationError');
  assert.match(server.message, /^odoo http:\/\/odoo:8069: \/api\/scada\/mo-list-detailed: Odoo raised odoo\.exceptions\.ValidationError: Invalid field "foo" on model mrp\.production$/);
  assert.ok(server instanceof OdooError && server.transient);
});

test('an error without data still maps, with its message', () => {
  const err = mapRpcError({ code: -32600, message: 'Invalid Request', data: null }, ctx);
  assert.equal(err.kind, 'server');
  assert.match(err.message, /Invalid Request/);
});

test('sessionCookie finds session_id among Set-Cookie headers and ignores others', () => {
  const h = new Headers();
  h.append('set-cookie', 'frontend_lang=en_US; Path=/');
  h.append('set-cookie', 'session_id=abc123; Expires=Thu, 01 Jan 2099 00:00:00 GMT; HttpOnly; Path=/');
  assert.equal(sessionCookie(h), 'abc123');
  assert.equal(sessionCookie(new Headers()), null);
});

test('the search_read fallback maps mrp.production + stock.move to the MO shape, false where Odoo has nothing', () => {
  const row: MrpProductionRow = {
    id: 7, name: 'WH/MO/00007', origin: false, state: 'confirmed', date_planned_start: '2025-03-03 07:00:00', date_planned_finished: false,
    product_id: [42, 'Layer feed'], product_qty: 1000, qty_produced: 0, product_uom_id: [1, 'kg'], bom_id: false,
  };
  const move = (id: number, product: [number, string], qty: number, done: number, state = 'confirmed'): StockMoveRow => ({
    id, raw_material_production_id: [7, 'WH/MO/00007'], product_id: product, product_uom_qty: qty, quantity_done: done, reserved_availability: 0, product_uom: [1, 'kg'], state,
  });
  const mo = toMo(row, [move(1, [201, 'Corn'], 300, 0), move(2, [201, 'Corn'], 200, 50), move(3, [202, 'SBM'], 100, 0, 'cancel')]);
  assert.equal(mo.mo_id, 'WH/MO/00007');
  assert.equal(mo.reference, false);
  assert.equal(mo.schedule_end, false);
  assert.equal(mo.equipment, false);
  assert.equal(mo.bom_code, false);
  assert.equal(mo.product_name, 'Layer feed');
  assert.deepEqual(mo.components_consumption, [
    { product_id: 201, product_name: 'Corn', to_consume: 500, reserved: 0, consumed: 50, uom: 'kg', equipment: false },
  ]);
});
