// Contract test against a real Odoo 14, skipped unless FIELDGATE_TEST_ODOO=url,db,user and
// ODOO_PASSWORD are set: login, the MO list (custom endpoint or fallback), a wrong password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OdooJsonRpcClient } from '../../adapters/odoo/client.ts';
import { OdooError } from '../../adapters/odoo/errors.ts';

const [url, db, username] = (process.env.FIELDGATE_TEST_ODOO ?? '').split(',').map((s) => s.trim());
const password = process.env.ODOO_PASSWORD ?? '';
const skip = url && db && username && password ? false : 'set FIELDGATE_TEST_ODOO=url,db,user and ODOO_PASSWORD to run against a real Odoo';

test('real Odoo: authenticate and fetch open manufacturing orders', { skip }, async () => {
  const client = new OdooJsonRpcClient({ baseUrl: url!, db: db!, username: username!, password, timeoutMs: 15_000 });
  try {
    const info = await client.authenticate();
    assert.equal(typeof info.uid, 'number');
    const batch = await client.fetchManufacturingOrders({ limit: 5 });
    assert.ok(batch.source === 'custom-endpoint' || batch.source === 'search-read');
    for (const mo of batch.mos) {
      assert.equal(typeof mo.mo_id, 'string');
      assert.ok(Array.isArray(mo.components_consumption));
    }
  } finally {
    await client.close();
  }
});

test('real Odoo: a wrong password is an auth error', { skip }, async () => {
  const client = new OdooJsonRpcClient({ baseUrl: url!, db: db!, username: username!, password: `${password}-wrong`, timeoutMs: 15_000 });
  try {
    await assert.rejects(client.authenticate(), (err: unknown) => err instanceof OdooError && err.kind === 'auth' && !err.message.includes(password));
  } finally {
    await client.close();
  }
});
