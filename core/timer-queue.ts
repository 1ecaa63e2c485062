// The FakeClock's schedule: a binary min-heap ordered by (due, id), so finding the next timer costs
// O(log n) instead of a scan of every timer per firing. Cancelled entries are dropped lazily.

export interface QueuedTimer {
  id: number;
  due: number;
}

interface Entry<T extends QueuedTimer> {
  due: number;
  id: number;
  timer: T;
}

export class TimerQueue<T extends QueuedTimer> {
  readonly #heap: Entry<T>[] = [];
  readonly #live = new Map<number, T>();

  get size(): number {
    return this.#live.size;
  }

  /** Schedules `timer` at its current `due`; pushing a live timer again reschedules it. */
  push(timer: T): void {
    this.#live.set(timer.id, timer);
    this.#up({ due: timer.due, id: timer.id, timer });
    // Cancelled entries wait in the heap until they come due; rebuild when they pile up
    // (a long timeout cleared and set again on every request).
    if (this.#heap.length > 64 + 2 * this.#live.size) this.#rebuild();
  }

  delete(id: number): void {
    this.#live.delete(id);
  }

  /** The earliest live timer due at or before `limit` (ties: the lower id), without removing it. */
  peek(limit: number): T | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (!top || top.due > limit) return undefined;
      if (this.#live.get(top.id) === top.timer && top.timer.due === top.due) return top.timer;
      this.#pop(); // cancelled, or rescheduled since this entry was pushed
    }
  }

  /** Unschedules `timer`, which must be what `peek` just returned. */
  take(timer: T): void {
    this.#pop();
    this.#live.delete(timer.id);
  }

  #rebuild(): void {
    const entries = [...this.#live.values()].map((timer) => ({ due: timer.due, id: timer.id, timer }));
    this.#heap.length = 0;
    for (const e of entries) this.#up(e);
  }

  #up(e: Entry<T>): void {
    const h = this.#heap;
    let i = h.push(e) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const c = l + 1 < h.length && before(h[l + 1]!, h[l]!) ? l + 1 : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}

function before(a: { due: number; id: number }, b: { due: number; id: number }): boolean {
  return a.due < b.due || (a.due === b.due && a.id < b.id);
}
