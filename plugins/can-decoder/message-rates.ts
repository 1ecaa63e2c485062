// Frames and frames per second per DBC message, for the dashboard's "CAN messages" panel
// (GET /api/can/messages): is every box still sending, and how often?
import type { CanFrame } from '../../adapters/can/types.ts';
import type { Dbc } from '../../adapters/can/dbc/model.ts';

interface Counted {
  name: string;
  id: string;
  frames: number;
  lastSeen: number | null;
  /** Frames at the start of the current rate window. */
  windowStart: number;
  rate: number | null;
}

export interface MessageRow {
  message: string;
  id: string;
  frames: number;
  /** Frames per second over the last window (since start before the first one); null in the first 2 s. */
  per_s: number | null;
  /** Seconds since the last frame; null when none was seen. */
  last_s_ago: number | null;
}

export class MessageRates {
  readonly #std = new Map<number, Counted>();
  readonly #ext = new Map<number, Counted>();
  #windowAt: number;
  readonly #startedAt: number;

  constructor(dbc: Dbc, now: number, readonly windowMs = 10_000) {
    this.#windowAt = now;
    this.#startedAt = now;
    for (const m of dbc.messages) {
      const id = `0x${m.id.toString(16).toUpperCase().padStart(m.ext ? 8 : 3, '0')}`;
      (m.ext ? this.#ext : this.#std).set(m.id, { name: m.name, id, frames: 0, lastSeen: null, windowStart: 0, rate: null });
    }
  }

  /** Counts a frame (one map lookup: this runs per frame). */
  seen(frame: CanFrame, now: number): void {
    if (frame.err || frame.rtr) return;
    const c = (frame.ext ? this.#ext : this.#std).get(frame.id);
    if (!c) return;
    c.frames++;
    c.lastSeen = now;
  }

  /** Closes the rate window once `windowMs` has passed (call it from a timer). */
  tick(now: number): void {
    const dt = now - this.#windowAt;
    if (dt < this.windowMs) return;
    for (const map of [this.#std, this.#ext]) {
      for (const c of map.values()) {
        c.rate = ((c.frames - c.windowStart) * 1000) / dt;
        c.windowStart = c.frames;
      }
    }
    this.#windowAt = now;
  }

  rows(now: number): MessageRow[] {
    const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
    // Before the first full window: the rate since start, once there are 2 s to judge by.
    const early = (c: Counted) => (now - this.#startedAt >= 2000 ? (c.frames * 1000) / (now - this.#startedAt) : null);
    return [...this.#std.values(), ...this.#ext.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((c) => ({
        message: c.name,
        id: c.id,
        frames: c.frames,
        per_s: (() => {
          const r = c.rate ?? early(c);
          return r === null ? null : round(r, 2);
        })(),
        last_s_ago: c.lastSeen === null ? null : round(Math.max(0, now - c.lastSeen) / 1000, 1),
      }));
  }
}
