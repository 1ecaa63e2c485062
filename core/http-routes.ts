// Routes that plugins contribute to the HTTP API, keyed by owner so a stopped plugin's routes go
// with it. The http-api plugin reads this registry; core knows nothing about the server.
import type { JsonSchema } from './schema.ts';

/** A button on a dashboard panel: POSTs `body` (JSON) to `url` with the operator's API key. */
export interface PanelAction {
  label: string;
  url: string;
  body?: Record<string, unknown>;
  /** Asked before sending (a destructive action). */
  confirm?: string;
}

/** A button on each row of a panel's table: POSTs `{...body, key: row[keyField]}`; only where `when` matches. */
export interface PanelRowAction extends PanelAction {
  keyField: string;
  when?: { field: string; values: string[] };
}

export interface RouteContribution {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** Fastify-style route schema (body, querystring, params, response) for validation and OpenAPI. */
  schema?: { summary?: string; description?: string; tags?: string[]; body?: JsonSchema; querystring?: JsonSchema; params?: JsonSchema; response?: Record<string, JsonSchema> };
  /** Whether the route changes state (needs the API key and is audited). */
  write?: boolean;
  /** For a GET tagged `dashboard`: panel width and operator buttons (each a POST route, so keyed and audited). */
  panel?: {
    wide?: boolean;
    actions?: PanelAction[];
    rowActions?: PanelRowAction[];
    /** One line under the title saying how to read the panel (what a figure means). */
    hint?: string;
    /**
     * How the dashboard draws the JSON: a table (default) or horizontal bars, one group per row
     * labelled by `bars.label`, one bar per field in `bars.values` (named by `bars.names`).
     */
    kind?: 'table' | 'bars';
    bars?: { label: string; values: string[]; names?: Record<string, string>; unit?: string };
  };
  handler: (request: unknown, reply: unknown) => unknown;
}

export class RouteRegistry {
  readonly #routes = new Map<string, { owner: string; route: RouteContribution }>();
  #address: string | null = null;

  add(owner: string, route: RouteContribution): () => void {
    const key = `${route.method} ${route.url}`;
    const existing = this.#routes.get(key);
    if (existing && existing.owner !== owner) {
      throw new Error(`route ${key} from ${owner} is already provided by ${existing.owner}`);
    }
    this.#routes.set(key, { owner, route });
    return () => {
      if (this.#routes.get(key)?.owner === owner) this.#routes.delete(key);
    };
  }

  removeOwner(owner: string): void {
    for (const [key, entry] of this.#routes) if (entry.owner === owner) this.#routes.delete(key);
  }

  list(): Array<{ owner: string; route: RouteContribution }> {
    return [...this.#routes.values()];
  }

  find(method: string, url: string): RouteContribution | undefined {
    return this.#routes.get(`${method} ${url}`)?.route;
  }

  /** The API's listening address, set by the http-api plugin once it listens. */
  get address(): string | null {
    return this.#address;
  }

  set address(value: string | null) {
    this.#address = value;
  }
}
