// What the neasmart routes share: the slice of fastify's request/reply they use, the register
// space looked up per request (the modbus-server may be restarting), the stale header on every
// answer, and 400s that name the field, in http-api's error shape.
import type { RegisterSpace } from '../../../adapters/modbus/register-space.ts';
import type { RouteContribution } from '../../../core/http-routes.ts';
import { errorMessage } from '../../../core/errors.ts';
import type { Logger } from '../../../core/log.ts';
import type { NeasmartConfig } from '../config.ts';
import { NeasmartView } from '../view.ts';

export interface Req {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

export interface Reply {
  code(status: number): Reply;
  header(name: string, value: string): Reply;
  send(body?: unknown): Reply;
}

export const STALE_HEADER = 'X-Rehau-Registers-Stale';

export interface RouteEnv {
  config: NeasmartConfig;
  log: Logger;
  /** The register space of `config.server`, or throws saying it is not running. */
  space(): RegisterSpace;
}

/** A handler's answer; `status` defaults to 200. */
export interface Answer {
  status?: number;
  body?: unknown;
}

/** A 400 naming the offending fields; nothing is written. */
export class BadRequest extends Error {
  constructor(readonly fields: Record<string, string>) {
    super(`invalid ${Object.keys(fields).join(', ')}; nothing was written`);
  }
}

type Handler = (req: Req, view: NeasmartView) => Answer | Promise<Answer>;

/**
 * Wraps a handler: looks the register space up, sets the stale header (true when the space is
 * unavailable), and turns BadRequest into 400, an unavailable server into 503, a register outside
 * the server's configured range into 500 naming it.
 */
export function route(env: RouteEnv, spec: Omit<RouteContribution, 'handler'>, handler: Handler): RouteContribution {
  return {
    ...spec,
    handler: async (request: unknown, reply: unknown) => {
      const req = request as Req;
      const rep = reply as Reply;
      let space: RegisterSpace;
      try {
        space = env.space();
      } catch (err) {
        rep.header(STALE_HEADER, 'true');
        return rep.code(503).send({ error: 'unavailable', message: `the Neasmart registers cannot be reached: ${errorMessage(err)}` });
      }
      rep.header(STALE_HEADER, String(space.traffic().stale));
      try {
        const answer = await handler(req, new NeasmartView(space, env.config.unit));
        return rep.code(answer.status ?? 200).send(answer.body);
      } catch (err) {
        if (err instanceof BadRequest) return rep.code(400).send({ error: 'bad request', message: err.message, fields: err.fields });
        if (err instanceof RangeError) {
          env.log.error(`${spec.method} ${spec.url}: ${err.message}; give the modbus-server "${env.config.server}" enough holding registers`);
          return rep.code(500).send({ error: 'register map', message: err.message });
        }
        throw err;
      }
    },
  };
}

/** A path parameter as an integer in [min, max], else BadRequest naming `params.<name>`. */
export function intParam(req: Req, name: string, min: number, max: number): number {
  const raw = req.params[name] ?? '';
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new BadRequest({ [`params.${name}`]: `must be an integer from ${min} to ${max} (got "${raw}")` });
  return n;
}

/** The JSON body as an object whose keys are all in `allowed`, else BadRequest. */
export function objectBody(req: Req, allowed: string[]): Record<string, unknown> {
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest({ body: `must be a JSON object with ${allowed.map((k) => `"${k}"`).join(' and/or ')}` });
  }
  const fields: Record<string, string> = {};
  for (const key of Object.keys(body)) if (!allowed.includes(key)) fields[`body.${key}`] = `unknown field; allowed: ${allowed.join(', ')}`;
  if (Object.keys(fields).length) throw new BadRequest(fields);
  return body as Record<string, unknown>;
}

/** Checks an integer field in [min, max]; records a message under `body.<name>` in `fields`. */
export function checkInt(value: unknown, name: string, min: number, max: number, fields: Record<string, string>): value is number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return true;
  fields[`body.${name}`] = `must be an integer from ${min} to ${max}`;
  return false;
}
