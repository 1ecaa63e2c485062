// The HTTP side every HTTP device simulator needs: listen on 127.0.0.1 (port 0 = any), collect the
// body, optionally delay the reply (an injected slow device), and go down and come back on the same
// port, dropping delayed replies and open connections as a powered-off device would.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface LoopbackHttpOptions {
  port?: number;
  /** Bytes of body kept; the rest is read and dropped. */
  maxBody: number;
  /** Called as soon as a request's body is in, before any delay (request logs). */
  received?(req: IncomingMessage, body: string): void;
  /** Answers one request once its body is in (and any delay has passed). */
  respond(req: IncomingMessage, res: ServerResponse, body: string): void;
  /** Delay before `respond` for this request (0 = at once); read per request so faults apply live. */
  delayMs(req: IncomingMessage): number;
}

export class LoopbackHttpServer {
  readonly #options: LoopbackHttpOptions;
  readonly #pending = new Set<{ timer: ReturnType<typeof setTimeout>; res: ServerResponse }>();
  #server: Server | null = null;
  #port: number;

  constructor(options: LoopbackHttpOptions) {
    this.#options = options;
    this.#port = options.port ?? 0;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get listening(): boolean {
    return this.#server !== null;
  }

  /** Starts listening (on the same port as before after a stop). Resolves with the base URL. */
  async start(): Promise<string> {
    if (this.#server) return this.url;
    const server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address && typeof address === 'object') this.#port = address.port;
    this.#server = server;
    return this.url;
  }

  /** Stops listening, drops delayed replies and closes open connections without waiting for keep-alive. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const p of this.#pending) {
      clearTimeout(p.timer);
      p.res.destroy();
    }
    this.#pending.clear();
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections?.();
    await closed;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (body.length < this.#options.maxBody) body += chunk;
    });
    req.on('end', () => {
      this.#options.received?.(req, body);
      const reply = () => this.#options.respond(req, res, body);
      const delay = this.#options.delayMs(req);
      if (delay <= 0) return reply();
      const entry = { timer: setTimeout(() => {
        this.#pending.delete(entry);
        reply();
      }, delay), res };
      this.#pending.add(entry);
    });
  }
}
