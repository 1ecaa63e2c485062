// sd_notify for `Type=notify` units: READY=1 after the ready line, WATCHDOG=1 while the process is
// live, STOPPING=1 on shutdown. Does nothing when systemd did not set NOTIFY_SOCKET.
//
// Neither Node nor Deno (without --unstable-net) can send a unix datagram, so messages go through
// `systemd-notify`, one short child process per message. systemd attributes a notification to the
// unit by the sender's cgroup, so the unit needs `NotifyAccess=all` (the sender is our child, not
// the main PID). systemd-notify (>= 246) waits on a BARRIER=1 until systemd has read the message,
// which closes the race where it exits before systemd looks up its cgroup.
import { execFile } from 'node:child_process';
import { type Clock, type TimerHandle, systemClock } from './clock.ts';
import { errorMessage } from './errors.ts';
import type { Logger } from './log.ts';
import type { StoreStatus } from './store/types.ts';

/** Sends one notification (newline-free `KEY=value` fields). Rejects when it could not be sent. */
export type NotifySender = (fields: readonly string[]) => Promise<void>;

export interface Liveness {
  ok: boolean;
  /** Why the watchdog is withheld, for the log. */
  reason?: string;
}

export interface NotifierOptions {
  env?: Record<string, string | undefined>;
  /** Default: `systemd-notify --pid=<our pid> ...`. Tests inject a recorder. */
  send?: NotifySender;
  clock?: Clock;
  log?: Logger;
  pid?: number;
}

/** `systemd-notify` as a sender: the default, since neither runtime has unix datagram sockets. */
export function systemdNotifySender(options: { pid?: number; command?: string; timeoutMs?: number } = {}): NotifySender {
  const pid = options.pid ?? process.pid;
  const command = options.command ?? 'systemd-notify';
  return (fields) =>
    new Promise((resolve, reject) => {
      execFile(command, [`--pid=${pid}`, ...fields], { timeout: options.timeoutMs ?? 5000 }, (err, _stdout, stderr) => {
        if (!err) return resolve();
        const code = (err as { code?: unknown }).code;
        const why = code === 'ENOENT' ? `${command} not found (install the systemd package, or run without Type=notify)` : String(stderr).trim() || err.message;
        reject(new Error(`sd_notify ${fields.join(' ')}: ${why}`, { cause: err }));
      });
    });
}

/**
 * The watchdog period systemd asked for (half of WatchdogSec, from WATCHDOG_USEC), or null when
 * there is no watchdog for this process (WATCHDOG_PID names another process, as sd_watchdog_enabled).
 */
export function watchdogIntervalMs(env: Record<string, string | undefined>, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 1000 / 2));
}

export class SystemdNotifier {
  readonly #send: NotifySender;
  readonly #clock: Clock;
  readonly #log?: Logger;
  readonly #intervalMs: number | null;
  #timer: TimerHandle | undefined;
  #inFlight = false;
  #withheld: string | null = null;
  #sendFailed = false;

  constructor(options: { send: NotifySender; clock: Clock; log?: Logger; intervalMs: number | null }) {
    this.#send = options.send;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#intervalMs = options.intervalMs;
  }

  /** Half of WatchdogSec, or null without a watchdog. */
  get watchdogIntervalMs(): number | null {
    return this.#intervalMs;
  }

  ready(status: string): Promise<void> {
    return this.#notify(['READY=1', `STATUS=${oneLine(status)}`]);
  }

  status(status: string): Promise<void> {
    return this.#notify([`STATUS=${oneLine(status)}`]);
  }

  /** Stops the watchdog first: from here on systemd's TimeoutStopSec governs, not WatchdogSec. */
  stopping(status = 'stopping'): Promise<void> {
    this.stopWatchdog();
    return this.#notify(['STOPPING=1', `STATUS=${oneLine(status)}`]);
  }

  /**
   * Pings WATCHDOG=1 every interval while `live()` says ok. A tick that never comes (event loop
   * blocked) or a `live()` that says no (e.g. a wedged store) lets systemd's watchdog fire.
   */
  startWatchdog(live: () => Liveness): void {
    if (this.#intervalMs === null || this.#timer) return;
    const tick = () => {
      let verdict: Liveness;
      try {
        verdict = live();
      } catch (e) {
        verdict = { ok: false, reason: `liveness check threw: ${errorMessage(e)}` };
      }
      if (!verdict.ok) {
        if (this.#withheld === null) this.#log?.error(`watchdog: withholding WATCHDOG=1 (${verdict.reason ?? 'not live'}); systemd restarts the service if this lasts`);
        this.#withheld = verdict.reason ?? 'not live';
        return;
      }
      if (this.#withheld !== null) this.#log?.info(`watchdog: live again (was: ${this.#withheld})`);
      this.#withheld = null;
      // A ping still in flight (systemd-notify waiting on its barrier) is not stacked on.
      if (this.#inFlight) return;
      this.#inFlight = true;
      void this.#notify(['WATCHDOG=1']).finally(() => (this.#inFlight = false));
    };
    tick();
    this.#timer = this.#clock.setInterval(tick, this.#intervalMs);
  }

  stopWatchdog(): void {
    this.#clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  // Never rejects: a notification that cannot be sent is logged once, and the gateway goes on.
  async #notify(fields: string[]): Promise<void> {
    try {
      await this.#send(fields);
      this.#sendFailed = false;
    } catch (e) {
      if (!this.#sendFailed) this.#log?.warn(errorMessage(e));
      this.#sendFailed = true;
    }
  }
}

/** A notifier when NOTIFY_SOCKET is set (we run under a Type=notify unit), else null. */
export function createNotifier(options: NotifierOptions = {}): SystemdNotifier | null {
  const env = options.env ?? process.env;
  if (!env.NOTIFY_SOCKET) return null;
  const pid = options.pid ?? process.pid;
  return new SystemdNotifier({
    send: options.send ?? systemdNotifySender({ pid }),
    clock: options.clock ?? systemClock,
    log: options.log,
    intervalMs: watchdogIntervalMs(env, pid),
  });
}

/**
 * What "live" means for the watchdog. The tick running at all proves the event loop turns. Beyond
 * that, the store must not be wedged: writes pending whose oldest is older than `maxJournalLagMs`
 * means the disk stopped answering (a hung fsync on a dying SD card), and a restart is the cure.
 * Deliberately NOT part of it: plugins failed or backing off (the supervisor handles those, and a
 * restart would not fix an unplugged PLC), and the store's in-memory fallback (degraded but running).
 */
export function storeLiveness(status: () => StoreStatus | null, maxJournalLagMs: number): () => Liveness {
  return () => {
    const s = status();
    if (s && s.pendingWrites > 0 && s.journalLagMs > maxJournalLagMs) {
      return { ok: false, reason: `store wedged: ${s.pendingWrites} write(s) pending for ${Math.round(s.journalLagMs)} ms (disk ${s.dataDir ?? '?'} not answering)` };
    }
    return { ok: true };
  };
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
