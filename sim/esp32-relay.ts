// ESP32 power relay simulator: a real HTTP server on loopback speaking one firmware preset (the
// lab firmware, Tasmota or Shelly Gen2), switching the shared plant's relay, with injectable faults.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackHttpServer } from './loopback-http.ts';
import type { HttpSimDevice } from '../adapters/http/types.ts';

export interface RelayPlant {
  setRelay(on: boolean): void;
}

export interface Esp32RelaySimOptions {
  device: HttpSimDevice;
  /** 0 picks a free port; the same port is reused when the device comes back online. */
  port?: number;
  /** The lab firmware's `X-API-Key`; unset = no check. */
  apiKey?: string;
  /** Switched together with the relay (the lab heater). */
  plant?: RelayPlant;
  /** Milliseconds since the epoch; uptime counts from construction. */
  now?: () => number;
  initial?: boolean;
  /** Kept in `requests` for tests; the oldest are dropped (a simulator may run for weeks). Default 1000. */
  keepRequests?: number;
}

export interface Esp32RelayFaults {
  /** Every reply waits this long first (a device on a weak Wi-Fi). */
  delayMs: number;
  /** Every request answers HTTP 500. */
  error500: boolean;
  /** Every reply is cut-off JSON. */
  malformed: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: string;
}

export class Esp32RelaySimulator {
  readonly device: HttpSimDevice;
  /** Recent requests, oldest first (test hook; the newest `keepRequests`). */
  readonly requests: RecordedRequest[] = [];
  readonly faults: Esp32RelayFaults = { delayMs: 0, error500: false, malformed: false };
  readonly #http: LoopbackHttpServer;
  #relay: boolean;
  #offline = false;
  readonly #now: () => number;
  #bootedAt: number;

  constructor(readonly options: Esp32RelaySimOptions) {
    this.device = options.device;
    this.#http = new LoopbackHttpServer({
      port: options.port,
      maxBody: 4096,
      delayMs: () => this.faults.delayMs,
      received: (req, body) => {
        this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', body });
        if (this.requests.length > (options.keepRequests ?? 1000)) this.requests.shift();
      },
      respond: (req, res, body) => this.#reply(req, res, body),
    });
    this.#relay = options.initial ?? false;
    this.#now = options.now ?? Date.now;
    this.#bootedAt = this.#now();
    options.plant?.setRelay(this.#relay);
  }

  /** Starts listening on 127.0.0.1. Resolves with the base URL. */
  start(): Promise<string> {
    return this.#http.start();
  }

  get port(): number {
    return this.#http.port;
  }

  get url(): string {
    return this.#http.url;
  }

  /** Relay state as the device sees it. */
  get relay(): boolean {
    return this.#relay;
  }

  get offline(): boolean {
    return this.#offline;
  }

  /** Someone pressed the device's button (or another client switched it). */
  setRelay(on: boolean): void {
    this.#relay = on;
    this.options.plant?.setRelay(on);
  }

  /** Offline: the port stops listening (connections are refused) until `setOffline(false)`. */
  async setOffline(offline: boolean): Promise<void> {
    if (offline === this.#offline) return;
    this.#offline = offline;
    if (offline) await this.#http.stop();
    else await this.start();
  }

  /** Power cycle: off the network for `offMs`, back with the relay off and its uptime from 0. */
  async reboot(options: { offMs?: number } = {}): Promise<void> {
    await this.setOffline(true);
    this.setRelay(false);
    if ((options.offMs ?? 0) > 0) await new Promise((r) => setTimeout(r, options.offMs));
    this.#bootedAt = this.#now();
    await this.setOffline(false);
  }

  /** Clears every injected fault and brings the device back online. */
  async reset(): Promise<void> {
    Object.assign(this.faults, { delayMs: 0, error500: false, malformed: false });
    await this.setOffline(false);
  }

  async close(): Promise<void> {
    await this.#http.stop();
  }

  #reply(req: IncomingMessage, res: ServerResponse, body: string): void {
    // One request per connection: closing the device never waits for an idle keep-alive socket.
    const send = (status: number, payload: unknown) => {
      if (res.destroyed) return;
      const text = this.faults.malformed && status === 200 ? JSON.stringify(payload).slice(0, -3) : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      res.end(text);
    };
    if (this.faults.error500) return send(500, { error: 'internal error (injected)' });
    const url = new URL(req.url ?? '/', 'http://device');
    const method = req.method ?? 'GET';
    const [status, payload] =
      this.device === 'esp32-lab' ? this.#lab(method, url, req.headers['x-api-key'], body)
      : this.device === 'tasmota' ? this.#tasmota(url)
      : this.#shelly(url);
    send(status, payload);
  }

  // kiinging/PLC-Remote-Control-Web firmware: POST /relay {"on": bool}, GET /status, X-API-Key.
  #lab(method: string, url: URL, key: string | string[] | undefined, body: string): [number, unknown] {
    if (this.options.apiKey && key !== this.options.apiKey) return [401, { error: 'unauthorized' }];
    if (url.pathname === '/status' && method === 'GET') return [200, this.#labStatus()];
    if (url.pathname === '/relay' && method === 'POST') {
      let on: unknown;
      try {
        on = (JSON.parse(body) as { on?: unknown }).on;
      } catch {
        return [400, { error: 'invalid json' }];
      }
      if (typeof on !== 'boolean') return [400, { error: 'expected {"on": bool}' }];
      this.setRelay(on);
      return [200, this.#labStatus()];
    }
    return [404, { error: 'not found' }];
  }

  #labStatus() {
    return {
      relay: this.#relay,
      uptime: Math.floor((this.#now() - this.#bootedAt) / 1000),
      free_heap: 180_000 + Math.floor(Math.random() * 4000),
      wifi_rssi: -55 - Math.floor(Math.random() * 10),
    };
  }

  // Tasmota: GET /cm?cmnd=Power[N][ On|Off|Toggle] → {"POWER":"ON"}.
  #tasmota(url: URL): [number, unknown] {
    if (url.pathname !== '/cm') return [404, { error: 'not found' }];
    const match = /^power(\d?)\s*(on|off|toggle|1|0|2)?$/i.exec((url.searchParams.get('cmnd') ?? '').trim());
    if (!match) return [200, { Command: 'Unknown' }];
    const [, index, action] = match;
    if (index && index !== '1') return [200, { Command: 'Unknown' }];
    const a = action?.toLowerCase();
    if (a === 'on' || a === '1') this.setRelay(true);
    else if (a === 'off' || a === '0') this.setRelay(false);
    else if (a === 'toggle' || a === '2') this.setRelay(!this.#relay);
    return [200, { POWER: this.#relay ? 'ON' : 'OFF' }];
  }

  // Shelly Gen2 RPC over GET: /rpc/Switch.Set?id=0&on=true → {was_on}; /rpc/Switch.GetStatus?id=0.
  #shelly(url: URL): [number, unknown] {
    const id = url.searchParams.get('id') ?? '0';
    const notFound: [number, unknown] = [404, { code: -105, message: `Argument 'id', value ${id} not found!` }];
    if (url.pathname === '/rpc/Switch.Set') {
      if (id !== '0') return notFound;
      const on = url.searchParams.get('on');
      if (on !== 'true' && on !== 'false') return [400, { code: -103, message: "Missing required argument 'on'!" }];
      const wasOn = this.#relay;
      this.setRelay(on === 'true');
      return [200, { was_on: wasOn }];
    }
    if (url.pathname === '/rpc/Switch.GetStatus') {
      if (id !== '0') return notFound;
      return [200, {
        id: 0,
        source: 'http',
        output: this.#relay,
        apower: this.#relay ? 1500 : 0,
        voltage: 230.1,
        current: this.#relay ? 6.52 : 0,
        temperature: { tC: 41.2, tF: 106.2 },
      }];
    }
    return [404, { code: 404, message: `No handler for ${url.pathname.replace(/^\/rpc\//, '')}` }];
  }
}
