// The HTTP device boundary: a small JSON client bound to one device's base URL (an ESP32 relay,
// a Tasmota or Shelly plug). Plugins build paths; the adapter owns URL, headers, secrets, timeout.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Which device firmware the bundled simulator speaks. */
export type HttpSimDevice = 'esp32-lab' | 'tasmota' | 'shelly-gen2';

export interface HttpDeviceOptions {
  /** `http://192.168.1.50` (a path prefix is kept). Required by the real driver; the simulator ignores it. */
  baseUrl?: string;
  /** Sent in `apiKeyHeader` on every request. Masked in logs (`x-secret`). */
  apiKey?: string;
  /** Header carrying `apiKey`. Default `X-API-Key` (the lab firmware's). */
  apiKeyHeader: string;
  /** Whole-request deadline (connect + reply), in ms. */
  timeoutMs: number;
  /** Extra headers sent on every request. */
  headers: Record<string, string>;
  /** Largest reply body read, in bytes; a bigger reply is cancelled and refused. */
  maxReplyBytes: number;
  sim: {
    device: HttpSimDevice;
    /** Loopback port of the simulator; 0 picks a free one. */
    port: number;
    /** Key the simulated device expects (lab firmware); defaults to `apiKey`, none = no check. */
    apiKey?: string;
    /** Process seconds per clock second for the shared lab plant the relay switches. */
    timeScale: number;
    /** Device profile (built-in name, file path or inline; sim/profiles); overrides `device`. */
    profile?: string | Record<string, unknown>;
  };
}

export interface HttpRequest {
  /** Appended to the base URL, query string included: `/cm?cmnd=Power%20On`. */
  path: string;
  method?: HttpMethod;
  /** Sent as JSON (`content-type: application/json`). */
  body?: unknown;
  /** Aborts the request early (the timeout still applies). */
  signal?: AbortSignal;
}

/** Why a request failed: no TCP connection, no reply in time, a non-2xx status, a body that is not JSON or over the byte limit. */
export type HttpFailure = 'connect' | 'timeout' | 'status' | 'parse' | 'oversize';

export interface HttpDevice {
  /** `http://192.168.1.50`, for log lines (never carries the key). */
  readonly description: string;
  /**
   * Sends one request and resolves with the parsed JSON body (`null` for an empty body). Rejects
   * with an `HttpDeviceError` saying what failed, on which device and path.
   */
  json<T = unknown>(request: HttpRequest): Promise<T>;
  /** Releases keep-alive connections. Pending requests are aborted. */
  close(): Promise<void>;
}

export class HttpDeviceError extends Error {
  override name = 'HttpDeviceError';
  constructor(
    message: string,
    readonly failure: HttpFailure,
    /** HTTP status for `status` failures (401, 500, ...). */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when the device could not be reached at all (offline, timed out). */
  get unreachable(): boolean {
    return this.failure === 'connect' || this.failure === 'timeout';
  }
}
