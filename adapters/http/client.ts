// The real HTTP device client on the runtime's own `fetch` (Node >= 20 and Deno alike).
import { HttpDeviceError, type HttpDevice, type HttpDeviceOptions, type HttpRequest } from './types.ts';
import { networkCode } from './network-code.ts';
import { linkSignals } from '../../core/abort.ts';
import { readTextLimited, ReplyTooLargeError } from '../../core/read-limited.ts';

export type HttpClientOptions = Pick<HttpDeviceOptions, 'apiKey' | 'apiKeyHeader' | 'timeoutMs' | 'headers'> & {
  baseUrl: string;
  /** Largest reply body read; a bigger one is cancelled and refused. Default 65536. */
  maxReplyBytes?: number;
  /** Called once per refused oversize reply (the adapter counts it in /metrics). */
  onOversize?: () => void;
};

export const DEFAULT_MAX_REPLY_BYTES = 65536;

const HINTS: Record<number, string> = {
  401: 'check the adapter\'s apiKey',
  403: 'check the adapter\'s apiKey and the device\'s access settings',
  404: 'the device does not know this path: check the relay driver preset',
};

export class HttpDeviceClient implements HttpDevice {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #closing = new AbortController();

  constructor(readonly options: HttpClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error(`http adapter: baseUrl "${options.baseUrl}" is not a URL (expected e.g. http://192.168.1.50)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`http adapter: baseUrl "${options.baseUrl}" must start with http:// or https://`);
    this.#base = url.href.replace(/\/+$/, '');
    this.#headers = { accept: 'application/json', ...options.headers };
    if (options.apiKey) this.#headers[options.apiKeyHeader || 'X-API-Key'] = options.apiKey;
  }

  get description(): string {
    return this.#base;
  }

  async json<T = unknown>(request: HttpRequest): Promise<T> {
    const method = request.method ?? 'GET';
    const path = request.path.startsWith('/') ? request.path : `/${request.path}`;
    const what = `${method} ${path}`;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signals = [timeout, this.#closing.signal, ...(request.signal ? [request.signal] : [])];
    const headers = { ...this.#headers };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    const linked = linkSignals(signals);
    try {
      res = await fetch(this.#base + path, {
        method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: linked.signal,
      });
      text = await readTextLimited(res, this.options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES);
    } catch (err) {
      if (err instanceof ReplyTooLargeError) {
        this.options.onOversize?.();
        throw new HttpDeviceError(
          `${this.#base}: ${what} answered more than ${err.limit} bytes; refused and the download cancelled (maxReplyBytes raises the limit)`,
          'oversize', undefined, { cause: err },
        );
      }
      if (timeout.aborted) throw new HttpDeviceError(`${this.#base}: ${what} timed out after ${this.options.timeoutMs} ms`, 'timeout', undefined, { cause: err });
      if (this.#closing.signal.aborted) throw new HttpDeviceError(`${this.#base}: ${what} aborted: client closed`, 'connect', undefined, { cause: err });
      if (request.signal?.aborted) throw request.signal.reason;
      throw new HttpDeviceError(`${this.#base}: ${what} failed: cannot connect (${networkCode(err)})`, 'connect', undefined, { cause: err });
    } finally {
      linked.dispose();
    }
    if (!res.ok) {
      const hint = HINTS[res.status];
      const body = text.trim().slice(0, 120);
      throw new HttpDeviceError(
        `${this.#base}: ${what} answered ${res.status} ${res.statusText || ''}`.trimEnd() + (body ? ` (${body})` : '') + (hint ? `; ${hint}` : ''),
        'status',
        res.status,
      );
    }
    if (text.trim() === '') return null as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new HttpDeviceError(`${this.#base}: ${what} answered malformed JSON: ${JSON.stringify(text.slice(0, 80))}`, 'parse', res.status, { cause: err });
    }
  }

  close(): Promise<void> {
    this.#closing.abort(new Error('http client closed'));
    return Promise.resolve();
  }
}

