// CAN boxes played from a profile over a DBC: every message goes onto the virtual bus at its cycle
// time, encoded from the profile's points (a behaviour per signal) and, for signals no point drives,
// the signal's start value (GenSigStartValue) or its minimum. Per-message fault windows (a silent box,
// bus-off) run on the injected clock from power-on; the common fault hooks are under `faults`.
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { CAN_ERR, type VirtualCanBus, type VirtualCanChannel } from '../../adapters/can/virtual-bus.ts';
import { encodeMessage } from '../../adapters/can/dbc/decode.ts';
import type { Dbc, DbcMessage, DbcSignal } from '../../adapters/can/dbc/parse.ts';
import { PointEngine } from './engine.ts';
import type { DeviceFaults, FaultState } from './faults.ts';
import { ProfileError } from './load.ts';
import type { CanMessageSettings, Profile } from './types.ts';

export interface CanProfileDeviceOptions {
  profile: Profile;
  clock: Clock;
  bus: VirtualCanBus;
  dbc: Dbc;
  /** For messages: where the profile came from, and the DBC's path. */
  source: string;
  dbcPath: string;
}

interface Sender {
  message: DbcMessage;
  periodMs: number;
  settings: CanMessageSettings;
  /** Signal name → the point that drives it. */
  driven: Map<string, string>;
  /** Values of the signals no point drives. */
  fixed: Record<string, number>;
  timer: TimerHandle | undefined;
  sent: number;
}

/** The physical value a signal starts at: its GenSigStartValue (raw, as CANdb++ stores it), else its minimum. */
export function startValue(sig: DbcSignal, dbc: Dbc): number {
  const raw = sig.attributes.GenSigStartValue ?? dbc.attributeDefs.get('GenSigStartValue')?.default;
  return typeof raw === 'number' ? raw * sig.factor + sig.offset : sig.min;
}

export class CanProfileDevice {
  readonly profile: Profile;
  readonly engine: PointEngine;
  readonly channel: VirtualCanChannel;
  readonly bus: VirtualCanBus;
  readonly faults: DeviceFaults;
  /** Power cycles so far. */
  restarts = 0;
  framesSent = 0;
  readonly #clock: Clock;
  readonly #senders: Sender[] = [];
  /** Messages or boxes (transmitter nodes) silenced by a hook, and by fault windows now in force. */
  readonly #silenced = new Set<string>();
  readonly #windowSilent = new Map<string, number>();
  #windowTimers: TimerHandle[] = [];
  #running = false;
  #hung = false;
  #slowMs = 0;
  #injected = 0;

  constructor(options: CanProfileDeviceOptions) {
    this.profile = options.profile;
    this.#clock = options.clock;
    this.bus = options.bus;
    const problems = this.#plan(options.dbc, options.dbcPath);
    if (problems.length) throw new ProfileError(options.source, problems);
    this.engine = new PointEngine(this.profile, options.clock);
    this.channel = options.bus.attach(`profile ${this.profile.name}`);
    this.faults = this.#faultHooks();
  }

  get running(): boolean {
    return this.#running;
  }

  /** Messages sent and their periods (for logs and tests). */
  get schedule(): Array<{ name: string; periodMs: number; sent: number }> {
    return this.#senders.map((s) => ({ name: s.message.name, periodMs: s.periodMs, sent: s.sent }));
  }

  /** Power-on: behaviours run, every message on its cycle, fault windows armed from now. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.engine.start();
    for (const s of this.#senders) s.timer = this.#clock.setInterval(() => this.send(s.message.name), s.periodMs);
    this.#armWindows();
  }

  stop(): void {
    this.#running = false;
    this.engine.stop();
    for (const s of this.#senders) {
      this.#clock.clearInterval(s.timer);
      s.timer = undefined;
    }
    for (const t of this.#windowTimers) this.#clock.clearTimeout(t);
    this.#windowTimers = [];
    this.#windowSilent.clear();
  }

  close(): Promise<void> {
    this.stop();
    return this.channel.close();
  }

  value(name: string): number {
    return this.engine.value(name);
  }

  /** The physical values the next frame of `message` carries. */
  values(message: string): Record<string, number> {
    const s = this.#sender(message);
    const out = { ...s.fixed };
    for (const [signal, point] of s.driven) out[signal] = this.engine.value(point);
    return out;
  }

  /** Sends one frame of a message now, unless it or its box is silent (tests, the cycle timers). */
  send(message: string): void {
    const s = this.#sender(message);
    if (this.#hung || this.isSilent(s.message)) return;
    const data = encodeMessage(s.message, this.values(message));
    const put = () => {
      this.channel.send({ id: s.message.id, ext: s.message.ext, data, fd: data.length > 8 || undefined }).then(() => {
        s.sent++;
        this.framesSent++;
      }, () => {}); // bus-off: the frame is lost, as on a real controller
    };
    if (this.#slowMs > 0) this.#clock.setTimeout(put, this.#slowMs);
    else put();
  }

  isSilent(message: DbcMessage): boolean {
    return this.#silenced.has(message.name) || this.#silenced.has(message.transmitter) || (this.#windowSilent.get(message.name) ?? 0) > 0;
  }

  /** A message, or every message of a box (its transmitter node in the DBC), stops being sent or resumes. */
  silence(messageOrBox: string, on = true): void {
    if (!this.#senders.some((s) => s.message.name === messageOrBox || s.message.transmitter === messageOrBox)) {
      throw new Error(`CAN profile "${this.profile.name}": no message or transmitting node "${messageOrBox}" (messages: ${this.#senders.map((s) => `${s.message.name} from ${s.message.transmitter}`).join(', ')})`);
    }
    if (on) this.#silenced.add(messageOrBox);
    else this.#silenced.delete(messageOrBox);
  }

  busOff(on: boolean): void {
    this.bus.setBusOff(on);
  }

  injectErrorFrames(count = 1, errClass: number = CAN_ERR.PROT): void {
    for (let i = 0; i < count; i++) this.bus.injectErrorFrame(errClass);
  }

  #sender(name: string): Sender {
    const s = this.#senders.find((x) => x.message.name === name);
    if (!s) throw new Error(`CAN profile "${this.profile.name}": message "${name}" is not sent (sent: ${this.#senders.map((x) => x.message.name).join(', ') || 'none'})`);
    return s;
  }

  /** Matches points to signals and messages to their settings; returns every problem with its path. */
  #plan(dbc: Dbc, dbcPath: string): string[] {
    const problems: string[] = [];
    const byMessage = new Map<DbcMessage, Map<string, string>>();
    const claimed = new Map<string, string>();
    this.profile.points.forEach((pt, i) => {
      if (pt.signal === undefined) return;
      const at = `points[${i}].signal`;
      const [msgName, sigName] = pt.signal.includes('.') ? pt.signal.split('.') : [undefined, pt.signal];
      let candidates = dbc.messages.flatMap((m) => m.signals.filter((s) => s.name === sigName).map((s) => ({ m, s })));
      if (msgName !== undefined) {
        const m = dbc.messages.find((x) => x.name === msgName);
        if (!m) return problems.push(`${at}: no message "${msgName}" in ${dbcPath} (messages: ${dbc.messages.map((x) => x.name).join(', ')})`);
        candidates = candidates.filter((c) => c.m === m);
        if (!candidates.length) return problems.push(`${at}: message ${msgName} has no signal "${sigName}" (signals: ${m.signals.map((s) => s.name).join(', ')})`);
      }
      if (!candidates.length) return problems.push(`${at}: no signal "${sigName}" in ${dbcPath}`);
      if (candidates.length > 1) return problems.push(`${at}: "${sigName}" is in ${candidates.map((c) => c.m.name).join(' and ')}; write Message.${sigName}`);
      const { m, s } = candidates[0];
      const key = `${m.name}.${s.name}`;
      const other = claimed.get(key);
      if (other) return problems.push(`${at}: ${key} is already driven by ${other}`);
      claimed.set(key, `points[${i}] (${pt.name})`);
      if (!byMessage.has(m)) byMessage.set(m, new Map());
      byMessage.get(m)!.set(s.name, pt.name);
    });
    for (const name of Object.keys(this.profile.can.messages)) {
      if (!dbc.messages.some((m) => m.name === name)) problems.push(`can.messages.${name}: no message "${name}" in ${dbcPath} (messages: ${dbc.messages.map((m) => m.name).join(', ')})`);
    }
    for (const message of dbc.messages) {
      const settings = this.profile.can.messages[message.name] ?? {};
      const periodMs = settings.cycleMs ?? message.cycleTimeMs ?? this.profile.can.defaultCycleMs;
      if (periodMs <= 0) continue;
      const driven = byMessage.get(message) ?? new Map<string, string>();
      const fixed: Record<string, number> = {};
      for (const sig of message.signals) if (!driven.has(sig.name)) fixed[sig.name] = startValue(sig, dbc);
      this.#senders.push({ message, periodMs, settings, driven, fixed, timer: undefined, sent: 0 });
    }
    return problems;
  }

  /** The profile's fault windows, counted from this power-on; a standing `silent` message never sends. */
  #armWindows(): void {
    for (const s of this.#senders) {
      const name = s.message.name;
      if (s.settings.silent) this.#windowSilent.set(name, 1);
      for (const w of s.settings.faults ?? []) {
        const apply = (on: boolean) => {
          if (w.kind === 'bus-off') this.bus.setBusOff(on);
          else this.#windowSilent.set(name, (this.#windowSilent.get(name) ?? 0) + (on ? 1 : -1));
        };
        this.#windowTimers.push(this.#clock.setTimeout(() => apply(true), w.atS * 1000));
        if (w.forS !== undefined) this.#windowTimers.push(this.#clock.setTimeout(() => apply(false), (w.atS + w.forS) * 1000));
      }
    }
  }

  #faultHooks(): DeviceFaults {
    const calm = () => {
      this.#hung = false;
      this.#slowMs = 0;
      this.#silenced.clear();
      this.#injected = 0;
      this.bus.setBusOff(false);
    };
    return {
      // Off the bus: every box stops sending.
      offline: () => {
        this.stop();
        return Promise.resolve();
      },
      // A box whose firmware hangs sends nothing, though it is powered.
      hang: () => {
        this.#hung = true;
      },
      slow: (ms) => {
        this.#slowMs = Math.max(0, ms);
      },
      // CAN has no answer to refuse: `code` is the error class (CAN_ERR_*) of an error frame put on the bus now.
      exception: (code) => {
        this.bus.injectErrorFrame(code);
        this.#injected++;
      },
      powerCycle: async (options = {}) => {
        const off = (options.offMs ?? 0) > 0 ? this.#clock.sleep(options.offMs ?? 0) : Promise.resolve();
        this.stop();
        await off;
        calm();
        this.engine.reset(options.memory ?? this.profile.powerCycle.memory);
        this.restarts++;
        this.start();
      },
      recover: () => {
        calm();
        this.start();
        return Promise.resolve();
      },
      state: (): FaultState => ({ offline: !this.#running, hung: this.#hung, slowMs: this.#slowMs, exceptions: this.#injected }),
    };
  }
}
