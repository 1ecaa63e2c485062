// One poll(2) over every FFI-opened fd (CAN sockets, GPIO line requests) on a short timer, so no
// thread blocks in read() and the event loop never does. The kernel queues frames and edge events in
// the meantime (socket buffer, the line's event FIFO), so nothing is lost between ticks.
import type { Libc } from './libc.ts';
import { POLLFD } from './layout.ts';

const POLLIN = 0x1;
/** Between ticks; the kernel buffers meanwhile. 5 ms = 200 poll() calls a second for all fds together. */
export const POLL_INTERVAL_MS = 5;

type Handler = (revents: number) => void;

export class FdPoller {
  readonly #handlers = new Map<number, Handler>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #buf = new Uint8Array(0);

  constructor(readonly libc: Libc, readonly intervalMs = POLL_INTERVAL_MS) {}

  /** Calls `onReady(revents)` whenever `fd` is readable or has an error; returns the remover. */
  add(fd: number, onReady: Handler): () => void {
    this.#handlers.set(fd, onReady);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.tick(), this.intervalMs);
      // Open hardware alone does not keep a process alive (the gateway's server does).
      (this.#timer as { unref?: () => void }).unref?.();
    }
    return () => {
      this.#handlers.delete(fd);
      if (this.#handlers.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /** One round: poll every fd without waiting and dispatch the ready ones. */
  tick(): void {
    const fds = [...this.#handlers.keys()];
    if (fds.length === 0) return;
    if (this.#buf.length < fds.length * POLLFD.size) this.#buf = new Uint8Array(fds.length * POLLFD.size);
    const view = new DataView(this.#buf.buffer);
    fds.forEach((fd, i) => {
      const at = i * POLLFD.size;
      view.setInt32(at + POLLFD.fd, fd, true);
      view.setInt16(at + POLLFD.events, POLLIN, true);
      view.setInt16(at + POLLFD.revents, 0, true);
    });
    if (this.libc.poll(this.#buf, fds.length, 0) <= 0) return;
    fds.forEach((fd, i) => {
      const revents = view.getInt16(i * POLLFD.size + POLLFD.revents, true);
      if (revents === 0) return;
      try {
        this.#handlers.get(fd)?.(revents);
      } catch (err) {
        // A throwing listener is its owner's bug; it must not starve the other fds of this tick.
        queueMicrotask(() => {
          throw err;
        });
      }
    });
  }
}

const pollers = new WeakMap<Libc, FdPoller>();
export function sharedPoller(libc: Libc): FdPoller {
  let p = pollers.get(libc);
  if (!p) pollers.set(libc, (p = new FdPoller(libc)));
  return p;
}
