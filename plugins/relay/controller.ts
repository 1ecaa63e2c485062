// The relay's control loop: switch on each change of the requested state, poll the device, publish
// what it reports, back off while it is unreachable, and put the requested state back on reconnect.
import type { StateChange } from '../../core/bus.ts';
import { errorMessage } from '../../core/errors.ts';
import type { PluginContext } from '../../core/plugin.ts';
import { Backoff } from '../../core/retry.ts';
import type { TimerHandle } from '../../core/clock.ts';
import type { RelayConfig } from './config.ts';
import type { RelayDriver, RelayStatus } from './drivers/types.ts';

type Ctx = Pick<PluginContext<RelayConfig>, 'id' | 'bus' | 'store' | 'health' | 'scope' | 'log' | 'clock' | 'metrics'>;

export class RelayController {
  readonly #ctx: Ctx;
  readonly #config: RelayConfig;
  readonly #driver: RelayDriver;
  readonly #backoff: Backoff;
  /** null until the first contact attempt settles. */
  #connected: boolean | null = null;
  #lastUptimeS: number | undefined;
  #outage = { since: 0, failures: 0 };
  #timer: TimerHandle | undefined;
  /** Device operations run one at a time, in order (a switch never races a poll). */
  #chain: Promise<void> = Promise.resolve();
  readonly #metrics;

  constructor(ctx: Ctx, config: RelayConfig, driver: RelayDriver) {
    this.#ctx = ctx;
    this.#config = config;
    this.#driver = driver;
    this.#backoff = new Backoff(config.backoff);
    const labels = ['plugin'];
    this.#metrics = {
      connected: ctx.metrics.gauge('fieldgate_relay_connected', '1 while the relay device answers', labels),
      retryDelay: ctx.metrics.gauge('fieldgate_relay_retry_delay_seconds', 'Delay before the next poll while the device is unreachable (0 when connected)', labels),
      errors: ctx.metrics.counter('fieldgate_relay_errors_total', 'Failed relay device requests', labels),
      switches: ctx.metrics.counter('fieldgate_relay_switches_total', 'Relay switch commands sent', labels),
    };
  }

  start(): void {
    const { bus, health, scope, log } = this.#ctx;
    const config = this.#config;
    health.watch({ key: config.keys.lastTs, maxAgeS: config.staleAfterS, owner: scope.owner });
    bus.subscribe<StateChange>(`state/${config.keys.requested}`, (change) => {
      if (typeof change.value !== 'boolean') {
        if (change.value !== undefined) log.warn(`"${config.keys.requested}" = ${JSON.stringify(change.value)} ignored: expected true or false`);
        return;
      }
      const on = change.value;
      return this.#serial(() => this.#switch(on, 'requested'));
    });
    log.info(`${this.#driver.description}: following "${config.keys.requested}", polling every ${config.pollMs} ms`);
    this.#schedule(0);
  }

  /** Waits for the device operation in progress (stop). */
  idle(): Promise<void> {
    return this.#chain.catch(() => {});
  }

  #serial(op: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(op);
    return this.#chain;
  }

  #schedule(ms: number): void {
    const { scope } = this.#ctx;
    scope.clearTimer(this.#timer);
    if (scope.disposed) return;
    this.#timer = scope.setTimeout(() => this.#serial(() => this.#poll()), ms);
  }

  async #poll(): Promise<void> {
    let status: RelayStatus;
    try {
      status = await this.#driver.read();
    } catch (err) {
      await this.#failed(err, 'poll');
      return;
    }
    const reconnected = this.#connected !== true;
    // A device that rebooted between two polls comes up with its relay off: like a reconnect, not
    // like someone pressing its button (which the gateway respects).
    const restarted = status.uptimeS !== undefined && this.#lastUptimeS !== undefined && status.uptimeS < this.#lastUptimeS;
    if (status.uptimeS !== undefined) this.#lastUptimeS = status.uptimeS;
    await this.#contact(status);
    const requested = this.#ctx.store.get(this.#config.keys.requested);
    if ((reconnected || restarted) && typeof requested === 'boolean' && requested !== status.on) {
      const why = restarted && !reconnected ? ' (the device restarted: uptime went back)' : '';
      this.#ctx.log.info(`${this.#driver.description}: relay is ${onOff(status.on)} but ${onOff(requested)} was requested${why}; re-applying`);
      await this.#switch(requested, 'reconnect');
    }
    if (this.#connected) this.#schedule(this.#config.pollMs);
  }

  async #switch(on: boolean, why: 'requested' | 'reconnect'): Promise<void> {
    if (this.#ctx.scope.disposed) return;
    this.#metrics.switches.inc({ plugin: this.#ctx.id });
    let status: RelayStatus;
    try {
      status = await this.#driver.set(on);
    } catch (err) {
      const wasConnected = this.#connected;
      await this.#failed(err, `switch ${onOff(on)}`);
      // The device just dropped out: start the backoff poll instead of waiting a full poll interval.
      if (wasConnected !== false) this.#schedule(this.#nextDelay());
      return;
    }
    this.#ctx.log.info(`${this.#driver.description}: switched ${onOff(status.on)}${why === 'reconnect' ? ' (re-applied after reconnect)' : ''}`);
    await this.#contact(status);
  }

  async #contact(status: RelayStatus): Promise<void> {
    const { store, clock, log, scope, id } = this.#ctx;
    if (scope.disposed) return;
    if (this.#connected === false) {
      const downS = Math.round((clock.now() - this.#outage.since) / 100) / 10;
      log.info(`${this.#driver.description}: back online after ${downS} s (${this.#outage.failures} failed attempt(s))`);
    }
    this.#connected = true;
    this.#backoff.reset();
    this.#metrics.connected.set({ plugin: id }, 1);
    this.#metrics.retryDelay.set({ plugin: id }, 0);
    log.debug(() => `${this.#driver.description}: ${onOff(status.on)}${status.details ? ` ${JSON.stringify(status.details)}` : ''}`);
    const k = this.#config.keys;
    await store.setMany({ [k.actual]: status.on, [k.connected]: true, [k.lastTs]: clock.now() / 1000 }, { durable: false });
  }

  async #failed(err: unknown, what: string): Promise<void> {
    const { store, clock, log, scope, id } = this.#ctx;
    if (scope.disposed) return;
    this.#metrics.errors.inc({ plugin: id });
    const fromPoll = what === 'poll';
    const delay = fromPoll ? this.#nextDelay() : null;
    if (this.#connected !== false) {
      this.#connected = false;
      this.#outage = { since: clock.now(), failures: 0 };
      const { initialMs, maxMs } = this.#config.backoff;
      log.warn(`${this.#driver.description}: unreachable (${errorMessage(err)}); retrying every ${initialMs} ms, growing to ${maxMs} ms, until it answers`);
      this.#metrics.connected.set({ plugin: id }, 0);
      await store.set(this.#config.keys.connected, false, { durable: false });
    }
    this.#outage.failures++;
    log.debug(() => `${this.#driver.description}: ${what} failed (${errorMessage(err)})${delay !== null ? `; next attempt in ${delay} ms` : ''}`, delay !== null ? { retryInMs: delay } : undefined);
    if (delay !== null) this.#schedule(delay);
  }

  #nextDelay(): number {
    const delay = this.#backoff.next();
    this.#metrics.retryDelay.set({ plugin: this.#ctx.id }, delay / 1000);
    return delay;
  }
}

function onOff(on: boolean): string {
  return on ? 'ON' : 'OFF';
}
