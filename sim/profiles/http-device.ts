// A generic HTTP JSON device played from a profile: GET `http.path` answers one JSON document of the
// points that have a `field`, POST/PUT there sets writable fields (all or nothing), values move with
// their behaviours on the injected clock. Faults under `faults`, timed by the same clock.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { LoopbackHttpServer } from '../loopback-http.ts';
import { PointEngine } from './engine.ts';
import type { DeviceFaults } from './faults.ts';
import type { Profile, ProfilePoint } from './types.ts';

const MAX_BODY = 64 * 1024;

export interface HttpProfileDeviceOptions {
  profile: Profile;
  clock: Clock;
  /** 0 = any free port (kept across restarts). */
  port?: number;
}

export class HttpProfileDevice {
  readonly profile: Profile;
  readonly engine: PointEngine;
  readonly faults: DeviceFaults;
  /** Requests answered or held, oldest first (test hook; the last 1000). */
  readonly requests: Array<{ method: string; path: string; status?: number }> = [];
  readonly #http: LoopbackHttpServer;
  readonly #clock: Clock;
  readonly #fields: ProfilePoint[];
  readonly #held = new Map<ServerResponse, TimerHandle | undefined>();
  #hung = false;
  #slowMs = 0;
  #injected: Array<{ status: number; path?: string }> = [];
  restarts = 0;

  constructor(options: HttpProfileDeviceOptions) {
    this.profile = options.profile;
    this.#clock = options.clock;
    this.#fields = this.profile.points.filter((p) => p.field !== undefined);
    this.engine = new PointEngine(this.profile, options.clock);
    this.#http = new LoopbackHttpServer({ port: options.port, maxBody: MAX_BODY + 1, delayMs: () => 0, respond: (req, res, body) => this.#arrive(req, res, body) });
    this.faults = this.#faultHooks();
  }

  get port(): number {
    return this.#http.port;
  }

  get url(): string {
    return this.#http.url;
  }

  async start(): Promise<string> {
    const url = await this.#http.start();
    this.engine.start();
    return url;
  }

  async close(): Promise<void> {
    this.engine.stop();
    this.#dropHeld();
    await this.#http.stop();
  }

  value(name: string): number {
    return this.engine.value(name);
  }

  /** The JSON document as GET answers it now. */
  document(): Record<string, unknown> {
    const doc: Record<string, unknown> = {};
    for (const p of this.#fields) {
      const parts = p.field!.split('.');
      let node = doc;
      for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
      const v = this.engine.value(p.name);
      node[parts.at(-1)!] = p.type === 'bool' ? v !== 0 : p.type && p.type !== 'float32' ? Math.round(v) : v;
    }
    return doc;
  }

  #arrive(req: IncomingMessage, res: ServerResponse, body: string): void {
    const record: { method: string; path: string; status?: number } = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0] };
    this.requests.push(record);
    if (this.requests.length > 1000) this.requests.shift();
    if (this.#hung) {
      this.#held.set(res, undefined);
      return;
    }
    if (this.#slowMs <= 0) return this.#answer(req, res, body, record);
    const timer = this.#clock.setTimeout(() => {
      this.#held.delete(res);
      this.#answer(req, res, body, record);
    }, this.#slowMs);
    this.#held.set(res, timer);
  }

  #answer(req: IncomingMessage, res: ServerResponse, body: string, record: { status?: number }): void {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, payload: unknown) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify(payload));
    };
    const failure = this.#injected.find((f) => f.path === undefined || f.path === path) ?? this.profile.http.errors.find((e) => e.path === path);
    if (failure) return send(failure.status, { error: `simulated failure ${failure.status}` });
    if (path !== this.profile.http.path) return send(404, { error: `no such path ${path}; this device serves ${this.profile.http.path}` });
    if (req.method === 'GET') return send(200, this.document());
    if (req.method !== 'POST' && req.method !== 'PUT') return send(405, { error: `method ${req.method} not allowed; use GET, POST or PUT` });
    if (body.length > MAX_BODY) return send(413, { error: `body over ${MAX_BODY} bytes` });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return send(400, { error: 'body is not JSON' });
    }
    const writes: Array<[string, number]> = [];
    const problems: string[] = [];
    this.#collect(parsed, '', writes, problems);
    if (problems.length) return send(400, { error: problems.join('; ') });
    for (const [name, value] of writes) this.engine.write(name, value);
    send(200, this.document());
  }

  /** Validates every leaf of a write before any is applied. */
  #collect(node: unknown, prefix: string, writes: Array<[string, number]>, problems: string[]): void {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      problems.push(`${prefix || 'body'}: expected an object`);
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      const field = prefix ? `${prefix}.${key}` : key;
      const point = this.#fields.find((p) => p.field === field);
      if (!point) {
        if (value !== null && typeof value === 'object' && this.#fields.some((p) => p.field!.startsWith(`${field}.`))) this.#collect(value, field, writes, problems);
        else problems.push(`${field}: no such field`);
        continue;
      }
      const writable = point.writable ?? point.behaviour.kind === 'echo';
      if (!writable) problems.push(`${field}: read-only`);
      else if (point.type === 'bool' ? typeof value !== 'boolean' : typeof value !== 'number' || !Number.isFinite(value)) problems.push(`${field}: expected ${point.type === 'bool' ? 'true or false' : 'a number'}`);
      else writes.push([point.name, Number(value)]);
    }
  }

  #dropHeld(): void {
    for (const [res, timer] of this.#held) {
      this.#clock.clearTimeout(timer);
      res.destroy();
    }
    this.#held.clear();
  }

  #faultHooks(): DeviceFaults {
    const calm = () => {
      this.#hung = false;
      this.#slowMs = 0;
      this.#injected = [];
    };
    return {
      offline: async () => {
        this.engine.stop();
        this.#dropHeld();
        await this.#http.stop();
      },
      hang: () => {
        this.#hung = true;
      },
      slow: (ms) => {
        this.#slowMs = Math.max(0, ms);
      },
      exception: (status, target = {}) => {
        if (status < 400 || status > 599) throw new RangeError(`an HTTP device fails with a status 400..599, not ${status}`);
        this.#injected.push({ status, path: target.path });
      },
      powerCycle: async (options = {}) => {
        // Off-time counts from the moment power drops, not from when the sockets finished closing.
        const off = (options.offMs ?? 0) > 0 ? this.#clock.sleep(options.offMs ?? 0) : Promise.resolve();
        this.engine.stop();
        this.#dropHeld();
        await this.#http.stop();
        await off;
        calm();
        this.engine.reset(options.memory ?? this.profile.powerCycle.memory);
        this.restarts++;
        await this.start();
      },
      recover: async () => {
        calm();
        await this.start();
      },
      state: () => ({ offline: !this.#http.listening, hung: this.#hung, slowMs: this.#slowMs, exceptions: this.#injected.length }),
    };
  }
}
