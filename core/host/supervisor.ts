// Runs each plugin on its own: a plugin that throws, rejects or reports failure is torn down and
// restarted alone with capped, jittered exponential backoff while everything else keeps running.
import { type Clock, type TimerHandle, withDeadline } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SupervisorSettings } from '../manifest/types.ts';
import type { PluginInstance } from '../plugin.ts';
import { Backoff } from '../retry.ts';
import { PluginScope } from './scope.ts';

export type PluginStatus = 'starting' | 'running' | 'backing-off' | 'failed' | 'stopping' | 'stopped';

export interface PluginStatusReport {
  id: string;
  type: string;
  status: PluginStatus;
  restarts: number;
  lastError: string | null;
  nextRestartAt: number | null;
  since: number;
}

/** One supervised plugin as the host describes it. */
export interface SupervisedUnit {
  id: string;
  type: string;
  /** Creates a fresh instance for one run, bound to that run's scope. */
  create(scope: PluginScope): Promise<PluginInstance>;
  /** Removes what the run registered outside its scope (bus listeners, health watches, routes). */
  cleanup(): void;
}

export interface SupervisorOptions {
  clock: Clock;
  log: Logger;
  settings: SupervisorSettings;
  random?: () => number;
  onStatus?: (report: PluginStatusReport) => void;
  onRestart?: (id: string) => void;
}

/** Resolves with the promise's outcome, or rejects after `ms` on the given clock. */
export function withTimeout<T>(clock: Clock, promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withDeadline(clock, promise, ms, () => new Error(`${what} did not finish within ${ms} ms`));
}

class Runner {
  status: PluginStatus = 'stopped';
  restarts = 0;
  lastError: string | null = null;
  nextRestartAt: number | null = null;
  since: number;
  #run = 0;
  #scope: PluginScope | null = null;
  #instance: PluginInstance | null = null;
  #restartTimer: TimerHandle | undefined;
  #stableTimer: TimerHandle | undefined;
  #teardown: Promise<void> | null = null;
  #stopping = false;
  readonly #backoff: Backoff;
  readonly #log: Logger;

  constructor(readonly unit: SupervisedUnit, readonly options: SupervisorOptions) {
    const s = options.settings;
    this.#backoff = new Backoff({ initialMs: s.initialBackoffMs, maxMs: s.maxBackoffMs, factor: s.factor, jitter: s.jitter, random: options.random });
    this.#log = options.log.child(unit.id);
    this.since = options.clock.now();
  }

  report(): PluginStatusReport {
    const { id, type } = this.unit;
    return { id, type, status: this.status, restarts: this.restarts, lastError: this.lastError, nextRestartAt: this.nextRestartAt, since: this.since };
  }

  async start(): Promise<void> {
    if (this.#stopping) return;
    this.nextRestartAt = null;
    this.#setStatus('starting');
    const run = ++this.#run;
    const scope = new PluginScope(this.unit.id, this.options.clock, (err) => void this.#fail(err, run));
    this.#scope = scope;
    try {
      const instance = await this.unit.create(scope);
      if (run !== this.#run) return;
      this.#instance = instance;
      await instance.start(scope.signal);
      if (run !== this.#run || scope.disposed) return;
      this.#setStatus('running');
      this.#stableTimer = this.options.clock.setTimeout(() => {
        if (run === this.#run) this.#backoff.reset();
      }, this.options.settings.resetAfterMs);
    } catch (err) {
      // Wait for the teardown so a failed start settles in `backing-off`, not half-way.
      await this.#fail(err, run);
    }
  }

  /** A failure reported from outside the run's scope (e.g. a bus listener of this plugin). */
  failCurrent(err: unknown): void {
    void this.#fail(err, this.#run);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.options.clock.clearTimeout(this.#restartTimer);
    this.nextRestartAt = null;
    if (this.status === 'running' || this.status === 'starting') {
      this.#run++;
      this.#setStatus('stopping');
      await this.#tearDown();
    } else if (this.#teardown) {
      await this.#teardown;
    }
    this.#setStatus('stopped');
  }

  #fail(err: unknown, run: number): Promise<void> {
    if (run !== this.#run || this.#stopping) return Promise.resolve();
    if (this.status !== 'running' && this.status !== 'starting') return Promise.resolve();
    this.#run++;
    this.lastError = errorMessage(err);
    this.#setStatus('stopping');
    this.#log.error(`failed: ${this.lastError}; stopping it and restarting with backoff`, { error: err });
    return this.#tearDown().then(() => this.#scheduleRestart(), (e: unknown) => {
      this.#log.error(`teardown failed: ${errorMessage(e)}`);
      this.#scheduleRestart();
    });
  }

  #tearDown(): Promise<void> {
    const scope = this.#scope;
    const instance = this.#instance;
    this.#scope = null;
    this.#instance = null;
    this.options.clock.clearTimeout(this.#stableTimer);
    const work = (async () => {
      const timeout = this.options.settings.stopTimeoutMs;
      // Abort first so loops waiting on the signal end, then let the plugin close what it opened.
      const disposing = scope?.dispose() ?? Promise.resolve([]);
      if (instance?.stop) {
        try {
          await withTimeout(this.options.clock, Promise.resolve().then(() => instance.stop!()), timeout, `${this.unit.id}: stop()`);
        } catch (err) {
          this.#log.warn(`stop failed: ${errorMessage(err)}`);
        }
      }
      for (const e of await disposing) this.#log.warn(`cleanup failed: ${errorMessage(e)}`);
      this.unit.cleanup();
    })();
    this.#teardown = work.finally(() => {
      if (this.#teardown === tracked) this.#teardown = null;
    });
    const tracked = this.#teardown;
    return tracked;
  }

  #scheduleRestart(): void {
    if (this.#stopping) return;
    this.restarts++;
    this.options.onRestart?.(this.unit.id);
    const max = this.options.settings.maxRestarts;
    if (max > 0 && this.restarts > max) {
      this.#log.error(`gave up after ${max} restarts; last error: ${this.lastError}. Fix the cause and restart fieldgate.`);
      this.#setStatus('failed');
      return;
    }
    const delay = this.#backoff.next();
    this.nextRestartAt = this.options.clock.now() + delay;
    this.#setStatus('backing-off');
    this.#log.warn(`restarting in ${Math.round(delay)} ms (restart ${this.restarts})`);
    this.#restartTimer = this.options.clock.setTimeout(() => void this.start(), delay);
  }

  #setStatus(status: PluginStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.since = this.options.clock.now();
    this.options.onStatus?.(this.report());
  }
}

export class Supervisor {
  readonly #runners = new Map<string, Runner>();

  constructor(readonly options: SupervisorOptions) {}

  add(unit: SupervisedUnit): void {
    if (this.#runners.has(unit.id)) throw new Error(`plugin id "${unit.id}" is supervised twice`);
    this.#runners.set(unit.id, new Runner(unit, this.options));
  }

  /** Starts units one after another in the given order; a failing start does not stop the rest. */
  async startAll(order: readonly string[]): Promise<void> {
    for (const id of order) await this.#get(id).start();
  }

  /** Stops in reverse order; each stop is bounded by `stopTimeoutMs`. */
  async stopAll(order: readonly string[]): Promise<void> {
    for (const id of [...order].reverse()) await this.#get(id).stop();
  }

  /** Reports a failure of plugin `id` that happened outside its scope (a bus listener, say). */
  fail(id: string, err: unknown): void {
    this.#runners.get(id)?.failCurrent(err);
  }

  /** Marks a unit failed for good (e.g. its adapter could not be opened). */
  markFailed(unit: SupervisedUnit, error: string): void {
    const r = this.#runners.get(unit.id) ?? new Runner(unit, this.options);
    this.#runners.set(unit.id, r);
    r.lastError = error;
    r.status = 'failed';
    this.options.onStatus?.(r.report());
  }

  statuses(): Record<string, PluginStatusReport> {
    const out: Record<string, PluginStatusReport> = {};
    for (const [id, r] of this.#runners) out[id] = r.report();
    return out;
  }

  status(id: string): PluginStatusReport {
    return this.#get(id).report();
  }

  #get(id: string): Runner {
    const r = this.#runners.get(id);
    if (!r) throw new Error(`no supervised plugin "${id}"`);
    return r;
  }
}
