// Cyclic messages that stopped: a message with a cycle time (GenMsgCycleTime) that was seen and then
// not for PERIODS cycle times is missing (a sensor box off the bus) until its next frame. Messages
// never seen since start are not missing: a vendor DBC often describes more than one bus carries.
import type { CanFrame } from '../../adapters/can/types.ts';
import type { Dbc } from '../../adapters/can/dbc/parse.ts';

interface Watched {
  name: string;
  id: string;
  cycleTimeMs: number;
  lastSeen: number | null;
  missing: boolean;
}

export interface MissingMessage {
  name: string;
  id: string;
  cycleTimeMs: number;
  silentMs: number;
}

export class CycleWatch {
  static readonly PERIODS = 3;
  readonly #std = new Map<number, Watched>();
  readonly #ext = new Map<number, Watched>();

  constructor(dbc: Dbc) {
    for (const m of dbc.messages) {
      if (m.cycleTimeMs === null) continue;
      const id = `0x${m.id.toString(16).toUpperCase().padStart(m.ext ? 8 : 3, '0')}`;
      (m.ext ? this.#ext : this.#std).set(m.id, { name: m.name, id, cycleTimeMs: m.cycleTimeMs, lastSeen: null, missing: false });
    }
  }

  /** Notes a frame (cheap: one map lookup). */
  seen(frame: CanFrame, now: number): void {
    if (frame.err || frame.rtr) return;
    const w = (frame.ext ? this.#ext : this.#std).get(frame.id);
    if (w) w.lastSeen = now;
  }

  /** Messages that went missing and came back since the last check. */
  check(now: number): { missing: MissingMessage[]; back: MissingMessage[] } {
    const missing: MissingMessage[] = [];
    const back: MissingMessage[] = [];
    for (const map of [this.#std, this.#ext]) {
      for (const w of map.values()) {
        if (w.lastSeen === null) continue;
        const silentMs = now - w.lastSeen;
        const late = silentMs > CycleWatch.PERIODS * w.cycleTimeMs;
        if (late && !w.missing) missing.push({ name: w.name, id: w.id, cycleTimeMs: w.cycleTimeMs, silentMs });
        if (!late && w.missing) back.push({ name: w.name, id: w.id, cycleTimeMs: w.cycleTimeMs, silentMs });
        w.missing = late;
      }
    }
    return { missing, back };
  }

  /** Messages currently missing (as of the last check). */
  missing(): Array<{ name: string; id: string }> {
    const out: Array<{ name: string; id: string }> = [];
    for (const map of [this.#std, this.#ext]) for (const w of map.values()) if (w.missing) out.push({ name: w.name, id: w.id });
    return out;
  }
}
