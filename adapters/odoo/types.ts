// The Odoo 14 boundary: a small promise-based JSON-RPC client for manufacturing orders. Plugins
// (odoo-sync, the SCADA routes) see only this interface; the real client and the simulator's
// client are the same code aimed at different URLs.
import type { WriteBackRequest, WriteBackResult } from './write-back.ts';

/** Odoo serialises an empty field as `false`; the custom SCADA module also sends `null`. */
export type OdooMaybe<T> = T | false | null;

/** A many2one as `search_read` returns it: `[id, display_name]`, or `false` when empty. */
export type OdooMany2One = [number, string] | false;

/** Manufacturing order states of Odoo 14 `mrp.production`. */
export type OdooMoState = 'draft' | 'confirmed' | 'progress' | 'to_close' | 'done' | 'cancel';

/** The states the custom endpoint returns by default (REFERENCE: new work for the mixing line). */
export const OPEN_MO_STATES: readonly OdooMoState[] = ['confirmed', 'progress', 'to_close'];

/** `equipment` of an MO or a component (grt_scada `_get_equipment_details`). */
export interface OdooEquipmentRaw {
  id: number;
  /** `silo101`, `SILO C`, `silo 111`, ... The silo number is found in code + name. */
  code: OdooMaybe<string>;
  name: OdooMaybe<string>;
  equipment_type?: OdooMaybe<string>;
  manufacturer?: OdooMaybe<string>;
  model_number?: OdooMaybe<string>;
  serial_number?: OdooMaybe<string>;
  ip_address?: OdooMaybe<string>;
  port?: OdooMaybe<number>;
  protocol?: OdooMaybe<string>;
  is_active?: boolean;
  connection_status?: OdooMaybe<string>;
  sync_status?: OdooMaybe<string>;
  last_connected?: OdooMaybe<string>;
}

/** One line of `components_consumption`. Quantities are as sent: validate before use (a string can occur in bad data). */
export interface OdooComponentRaw {
  product_tmpl_id?: OdooMaybe<number>;
  product_id: OdooMaybe<number>;
  product_name: OdooMaybe<string>;
  /** Planned quantity; 0 or `false` on some lines, then `consumed` is the quantity. */
  to_consume: OdooMaybe<number | string>;
  reserved: OdooMaybe<number | string>;
  consumed: OdooMaybe<number | string>;
  uom: OdooMaybe<string>;
  equipment: OdooMaybe<OdooEquipmentRaw>;
}

/** One line of `bom_components`. */
export interface OdooBomLineRaw {
  product_tmpl_id?: OdooMaybe<number>;
  product_id: OdooMaybe<number>;
  product_name: OdooMaybe<string>;
  quantity: OdooMaybe<number | string>;
  uom: OdooMaybe<string>;
}

/** One MO as `/api/scada/mo-list-detailed` returns it (raw: no field is cleaned up). */
export interface OdooMoRaw {
  /** The MO name, e.g. `WH/MO/00012`: the key the sync upserts by. */
  mo_id: string;
  reference: OdooMaybe<string>;
  state: OdooMoState | string;
  /** ISO date-time (custom endpoint) or `YYYY-MM-DD HH:MM:SS` UTC (search_read fallback). */
  schedule_start: OdooMaybe<string>;
  schedule_end: OdooMaybe<string>;
  equipment: OdooMaybe<OdooEquipmentRaw>;
  product_tmpl_id?: OdooMaybe<number>;
  product_id?: OdooMaybe<number>;
  product_name: OdooMaybe<string>;
  quantity: OdooMaybe<number | string>;
  produced_qty?: OdooMaybe<number>;
  uom: OdooMaybe<string>;
  bom_id?: OdooMaybe<number>;
  bom_code: OdooMaybe<string>;
  bom_components: OdooBomLineRaw[];
  components_consumption: OdooComponentRaw[];
}

/** The custom endpoint's `result` on success. Failures (`status: "error"`) reject with kind `app`. */
export interface OdooMoListResult {
  status: 'success';
  count: number;
  data: OdooMoRaw[];
}

/** What `/web/session/authenticate` answers (the fields fieldgate uses; Odoo sends many more). */
export interface OdooSessionInfo {
  uid: number;
  db: string;
  username: string;
  name?: string;
  server_version?: string;
  user_context?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A search domain: `[['state', 'in', ['confirmed']], '|', [...], [...]]`. */
export type OdooDomain = ReadonlyArray<readonly [string, string, unknown] | '&' | '|' | '!'>;

export interface OdooCallOptions {
  /** Cancels the call (the adapter's timeout still applies); rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface OdooPage extends OdooCallOptions {
  /** 1..200 in the seed's routes; the client passes it through. Default 10. */
  limit?: number;
  offset?: number;
}

export interface OdooSearchReadOptions extends OdooCallOptions {
  fields?: string[];
  order?: string;
  limit?: number;
  offset?: number;
}

/** Where `fetchManufacturingOrders` got its data. */
export type OdooMoSource = 'custom-endpoint' | 'search-read';

export interface OdooMoBatch {
  source: OdooMoSource;
  /**
   * Same shape either way. From `search-read` (grt_scada module absent) `equipment` is `false`
   * everywhere, `bom_code` is `false` and `bom_components` is empty: Odoo has no silo data then.
   */
  mos: OdooMoRaw[];
}

/**
 * An Odoo 14 server for one database and user.
 *
 * Rules:
 * - Every call authenticates first if there is no session yet, and carries the `session_id`
 *   cookie. A call answered "Odoo Session Expired"/"Session Invalid" (code 100) re-authenticates
 *   once and is retried once; a second expiry in a row rejects with kind `session` (never loops).
 * - Every rejection is an `OdooError` (see errors.ts) whose `kind` tells the caller what to do:
 *   `timeout`/`connection`/`protocol`/`server` are worth a retry with backoff, `auth` needs the
 *   operator, `app` is the custom module reporting a failure, `not-found` a missing route/model.
 * - The password and the session cookie never appear in a message or a log line.
 * - Calls may run concurrently; they share one session and one re-authentication.
 * - After `close()` every call rejects with kind `connection`; pending calls are aborted.
 */
export interface OdooClient {
  /** `http://odoo:8069 db=prod user=scada`, for log lines (never carries the password). */
  readonly description: string;
  /** Logs in (again) and keeps the session. Rejects with kind `auth` on a wrong login, password or database. */
  authenticate(options?: OdooCallOptions): Promise<OdooSessionInfo>;
  /** The grt_scada custom endpoint, as is. Rejects with kind `not-found` when the module is not installed. */
  moListDetailed(page?: OdooPage): Promise<OdooMoListResult>;
  /** ORM `search_read` through `/web/dataset/call_kw/<model>/search_read`. */
  searchRead<T = Record<string, unknown>>(model: string, domain: OdooDomain, options?: OdooSearchReadOptions): Promise<T[]>;
  /**
   * Open MOs (confirmed, progress, to_close; planned start ascending, id descending): the custom
   * endpoint, or `mrp.production` + `stock.move` search_read when that endpoint is not installed.
   */
  fetchManufacturingOrders(page?: OdooPage): Promise<OdooMoBatch>;
  /** An authenticated JSON-RPC call to a route (`params` as the route expects them); resolves with `result`. */
  callRoute<T = unknown>(path: string, params: Record<string, unknown>, options?: OdooCallOptions): Promise<T>;
  /** An ORM method through `/web/dataset/call_kw/<model>/<method>`. */
  callKw<T = unknown>(model: string, method: string, args: unknown[], kwargs?: Record<string, unknown>, options?: OdooCallOptions): Promise<T>;
  /**
   * Writes a finished batch back (consumption per silo, finished weight, MO done), idempotently:
   * see write-back.ts and docs/odoo.md for the exact calls. Resolves once Odoo shows the MO done.
   */
  writeBack(request: WriteBackRequest, options?: OdooCallOptions): Promise<WriteBackResult>;
  /** Aborts pending calls and forgets the session. Idempotent. */
  close(): Promise<void>;
}

export interface OdooSimOptions {
  /** Loopback port; 0 picks a free one (kept across down/up). */
  port: number;
  /** Idle lifetime of a session in ms; 0 = sessions never expire on their own. */
  sessionTtlMs: number;
  /** Whether the grt_scada module (custom endpoint) is installed. */
  customModule: boolean;
  /** Database, login and password the simulator accepts; default: the adapter's, else fieldgate/admin/admin. */
  db?: string;
  username?: string;
  password?: string;
  /** How many MOs the simulated plant has open (the realistic set comes first). */
  moCount: number;
}

export interface OdooOptions {
  /** `http://odoo.local:8069` (required by the real driver). */
  baseUrl?: string;
  /** Database name (required by the real driver). */
  db?: string;
  /** Login (required by the real driver). */
  username?: string;
  /** Masked in logs (`x-secret`); never in error messages. */
  password?: string;
  /** Deadline of one HTTP request, in ms. */
  timeoutMs: number;
  /** Largest reply read, in bytes (default 8 MiB). */
  maxReplyBytes?: number;
  sim: OdooSimOptions;
}
