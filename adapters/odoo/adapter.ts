// Adapter kind `odoo`: an Odoo 14 server over JSON-RPC (manufacturing orders for the batching line).
// The simulator is wire-level: it starts a simulated Odoo on 127.0.0.1 and returns the real client aimed at it.
import { defineAdapter, type AdapterContext } from '../../core/plugin.ts';
import { peerLimitCounter } from '../../core/peer-limits.ts';
import type { OdooClient, OdooOptions, OdooSimOptions } from './types.ts';

/** Options as a manifest or a test may give them: everything optional. */
export type OdooOptionsInput = Partial<Omit<OdooOptions, 'sim'>> & { sim?: Partial<OdooSimOptions> };

/** Fills defaults for options that did not come through the manifest validator (tests, code). */
export function odooOptions(options: OdooOptionsInput = {}): OdooOptions {
  return {
    ...options,
    timeoutMs: options.timeoutMs ?? 10_000,
    sim: { port: 0, sessionTtlMs: 0, customModule: true, moCount: 5, ...options.sim },
  };
}

export default defineAdapter<OdooOptionsInput, OdooClient>({
  kind: 'odoo',
  description: 'An Odoo 14 server over JSON-RPC: session login, manufacturing orders (grt_scada endpoint or mrp.production search_read).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      baseUrl: { type: 'string', pattern: '^https?://', description: 'Odoo URL, e.g. "${ODOO_BASE_URL}" = http://odoo.local:8069 (required by the real driver).' },
      db: { type: 'string', minLength: 1, description: 'Database name, e.g. "${ODOO_DB}" (required by the real driver).' },
      username: { type: 'string', minLength: 1, description: 'Login, e.g. "${ODOO_USERNAME}" (required by the real driver).' },
      password: { type: 'string', 'x-secret': true, description: 'Password, e.g. "${ODOO_PASSWORD}"; masked in logs, never in error messages.' },
      timeoutMs: { type: 'integer', minimum: 100, maximum: 300000, default: 10000, description: 'Deadline of one request (connect + reply).' },
      maxReplyBytes: { type: 'integer', minimum: 1024, default: 8388608, description: 'Largest Odoo reply read, in bytes; a bigger one is refused.' },
      sim: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: 'Simulator: a simulated Odoo 14 on 127.0.0.1.',
        properties: {
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'Loopback port (0 = any free port).' },
          sessionTtlMs: { type: 'integer', minimum: 0, default: 0, description: 'Idle lifetime of a session on the runtime clock (0 = never expires).' },
          customModule: { type: 'boolean', default: true, description: 'Whether the grt_scada module (/api/scada/mo-list-detailed) is installed.' },
          moCount: { type: 'integer', minimum: 5, maximum: 10000, default: 5, description: 'Open MOs the simulated plant starts with.' },
          db: { type: 'string', minLength: 1, description: 'Database the simulator accepts (default: db, else "fieldgate").' },
          username: { type: 'string', minLength: 1, description: 'Login the simulator accepts (default: username, else "admin").' },
          password: { type: 'string', 'x-secret': true, description: 'Password the simulator accepts (default: password, else "admin").' },
        },
      },
    },
  },
  async real(raw, ctx) {
    const options = odooOptions(raw);
    const missing = (['baseUrl', 'db', 'username', 'password'] as const).filter((k) => !options[k]);
    if (missing.length) {
      throw new Error(`odoo adapter ${ctx.id}: options ${missing.join(', ')} required for the real driver (e.g. "baseUrl": "\${ODOO_BASE_URL}", "password": "\${ODOO_PASSWORD}")`);
    }
    const { OdooJsonRpcClient } = await import('./client.ts');
    const client = new OdooJsonRpcClient({
      baseUrl: options.baseUrl!, db: options.db!, username: options.username!, password: options.password!, timeoutMs: options.timeoutMs, maxReplyBytes: options.maxReplyBytes, onReplyLimit: oversizeCounter(ctx), log: ctx.log,
    });
    return { instance: client, close: () => client.close() };
  },
  async sim(raw, ctx) {
    const options = odooOptions(raw);
    const [{ OdooJsonRpcClient }, { OdooSimulator }] = await Promise.all([import('./client.ts'), import('../../sim/odoo.ts')]);
    const db = options.sim.db ?? options.db ?? 'fieldgate';
    const username = options.sim.username ?? options.username ?? 'admin';
    const password = options.sim.password ?? options.password ?? 'admin';
    const server = ctx.world.get(
      `sim:${ctx.id}`,
      () => new OdooSimulator({
        port: options.sim.port, db, username, password, sessionTtlMs: options.sim.sessionTtlMs,
        customModule: options.sim.customModule, moCount: options.sim.moCount, now: () => ctx.clock.now(),
      }),
      (s) => s.close(),
    );
    const url = await server.start();
    ctx.log.info(`simulated Odoo 14 (db ${db}) listening on ${url}`);
    const client = new OdooJsonRpcClient({
      baseUrl: url, db: options.db ?? db, username: options.username ?? username, password: options.password ?? password, timeoutMs: options.timeoutMs, maxReplyBytes: options.maxReplyBytes, onReplyLimit: oversizeCounter(ctx), log: ctx.log,
    });
    return { instance: client, close: () => client.close() };
  },
});

/** Counts refused oversize replies under the adapter's id. */
function oversizeCounter(ctx: AdapterContext): () => void {
  const count = peerLimitCounter(ctx.metrics);
  return () => count(ctx.id);
}
