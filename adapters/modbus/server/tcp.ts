// Modbus TCP transport of a server: MBAP framing over node:net, one answer per request in request
// order per connection. What a request means is the handler's business (see pdu.ts).
import { createServer, type Server, type Socket } from 'node:net';

/** An answer PDU, null for no answer (broadcast, foreign unit, simulated timeout), or 'disconnect' to drop the connection. */
export type ServerReply = Uint8Array | null | 'disconnect';
export type FrameHandler = (unit: number, pdu: Uint8Array) => ServerReply | Promise<ServerReply>;

export interface ModbusTcpListenerOptions {
  host?: string;
  /** 0 picks a free port on the first start; later starts reuse it. Default 502. */
  port?: number;
  handle: FrameHandler;
  /** Told about frames dropped as not Modbus TCP (for logs and metrics). */
  onMalformed?: (reason: string) => void;
  /** A handler that throws or rejects; the connection goes on without an answer to that request. */
  onHandlerError?: (err: unknown) => void;
  /** Whether a client address may connect; a refused connection is closed before any byte is read. */
  allowClient?: (remoteAddress: string | undefined) => boolean;
  /** Told about each refused connection. */
  onRefused?: (remoteAddress: string | undefined) => void;
}

const MBAP_HEADER = 7;
/** MBAP length field: unit id + PDU (at most 253 bytes). */
const MAX_LENGTH = 254;

export class ModbusTcpListener {
  readonly #options: ModbusTcpListenerOptions;
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;
  #port: number;

  constructor(options: ModbusTcpListenerOptions) {
    this.#options = options;
    this.#port = options.port ?? 502;
  }

  get host(): string {
    return this.#options.host ?? '127.0.0.1';
  }

  /** The port listened on (the ephemeral one once started with port 0). */
  get port(): number {
    return this.#port;
  }

  get listening(): boolean {
    return this.#server !== null;
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /** Starts listening (idempotent); a restart reuses the port of the first start. */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address && typeof address === 'object') this.#port = address.port;
    this.#server = server;
  }

  /** Stops listening and drops every connection. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    if (this.#options.allowClient && !this.#options.allowClient(socket.remoteAddress)) {
      socket.on('error', () => {});
      socket.destroy();
      this.#options.onRefused?.(socket.remoteAddress);
      return;
    }
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    let buffer: Uint8Array = new Uint8Array(0);
    // Answers leave in request order: a request waits for the one before it (a write waiting for
    // the disk, say) even when its own answer is ready at once.
    let tail: Promise<void> | null = null;
    socket.on('data', (chunk: Uint8Array) => {
      buffer = concat(buffer, chunk);
      while (buffer.length >= MBAP_HEADER) {
        const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
        const length = view.getUint16(4);
        if (length < 2 || length > MAX_LENGTH) {
          // Not Modbus TCP, and the stream cannot be resynchronised: a real device drops the connection.
          this.#options.onMalformed?.(`MBAP length ${length} outside 2..${MAX_LENGTH}; connection dropped`);
          socket.destroy();
          return;
        }
        if (buffer.length < 6 + length) break;
        const frame = buffer.slice(0, 6 + length);
        buffer = buffer.slice(6 + length);
        if (view.getUint16(2) !== 0) {
          this.#options.onMalformed?.(`MBAP protocol id ${view.getUint16(2)} is not 0 (Modbus); frame ignored`);
          continue;
        }
        const reply = this.#call(frame[6], frame.subarray(7));
        const send = (r: ServerReply) => this.#send(socket, frame, r);
        if (tail === null && !isPromise(reply)) {
          send(reply);
          continue;
        }
        const mine: Promise<void> = (tail ?? Promise.resolve()).then(() => reply).then(send, (err: unknown) => this.#options.onHandlerError?.(err));
        tail = mine;
        void mine.then(() => {
          if (tail === mine) tail = null;
        });
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }

  #call(unit: number, pdu: Uint8Array): ServerReply | Promise<ServerReply> {
    try {
      return this.#options.handle(unit, pdu);
    } catch (err) {
      this.#options.onHandlerError?.(err);
      return null;
    }
  }

  #send(socket: Socket, request: Uint8Array, reply: ServerReply): void {
    if (reply === null || socket.destroyed) return;
    if (reply === 'disconnect') {
      socket.destroy();
      return;
    }
    const out = new Uint8Array(MBAP_HEADER + reply.length);
    const ov = new DataView(out.buffer);
    out.set(request.subarray(0, 2)); // transaction id
    ov.setUint16(2, 0);
    ov.setUint16(4, reply.length + 1);
    out[6] = request[6];
    out.set(reply, MBAP_HEADER);
    socket.write(out);
  }
}

function isPromise<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
