// The recorder's loop: fast polls of edge-counted inputs, a sample tick every `sampleMs` that reads
// power and counters, stores raw signals, classifies machine states, integrates energy, closes
// finished hours and persists everything a tick changed in one durable mutation.
import type { OwnedBus } from '../../core/bus.ts';
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { HealthModel } from '../../core/health.ts';
import type { HistoryRecord, HistoryStore } from '../../core/history/types.ts';
import type { PluginScope } from '../../core/host/scope.ts';
import type { Logger } from '../../core/log.ts';
import type { StateStore } from '../../core/store/types.ts';
import { kwFactor, type MachineConfig, type MappingConfig, type RecorderConfig, type SensorConfig } from './config.ts';
import { CounterTracker, EdgeCounter } from './counting.ts';
import { computeOee, HOUR_MS, type HourBucket, HourlyAggregator, type MachineState } from './hourly.ts';
import type { PinValue, SignalSource } from './sources.ts';
import type { MachineCursor, RecorderRepo } from './store.ts';

export const SIGNAL_SERIES = 'signaldatas';
/** A restart after a longer outage than this fills no gap rows (they would be empty hours anyway). */
const MAX_GAP_FILL_MS = 48 * HOUR_MS;

export type Method = 'sample' | 'edge-poll' | 'edge-interrupt' | 'counter';

export interface Channel {
  sensor: SensorConfig;
  mapping: MappingConfig;
  machine: MachineConfig;
  source: SignalSource;
  method: Method;
  edge?: EdgeCounter;
  counter?: CounterTracker;
}

export interface LatestSignal {
  machine: string;
  sensor: string;
  type: SensorConfig['type'];
  value: number | null;
  unit: string;
  /** Epoch s of the reading. */
  ts: number | null;
  ok: boolean;
  method: Method;
}

export interface RecorderDeps {
  id: string;
  config: RecorderConfig;
  sources: Map<string, SignalSource>;
  repo: RecorderRepo;
  store: StateStore;
  history: HistoryStore;
  bus: OwnedBus;
  health: HealthModel;
  scope: PluginScope;
  clock: Clock;
  log: Logger;
}

const num = (v: PinValue): number => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

export class Recorder {
  readonly #d: RecorderDeps;
  readonly channels: Channel[];
  readonly #aggregators = new Map<string, HourlyAggregator>();
  readonly #cursors = new Map<string, MachineCursor>();
  readonly #latest = new Map<string, LatestSignal>();
  readonly #states = new Map<string, MachineState>();
  /** Bindings whose reads failed since the last tick (their machines' interval is a gap). */
  readonly #failedSinceTick = new Set<string>();
  readonly #down = new Map<string, { error: string; since: number }>();
  /** The last outage per binding, once over: how long edge counting was blind (pulses then are lost). */
  readonly #lastBlind = new Map<string, { seconds: number; endedAt: number }>();
  readonly #dirtyCounters = new Map<string, number>();
  readonly #saving = new Set<Promise<void>>();
  #notDurableSaid = false;

  constructor(deps: RecorderDeps) {
    this.#d = deps;
    const { config } = deps;
    const counters = deps.repo.counters();
    this.channels = config.mappings.map((mapping) => {
      const sensor = config.sensors.find((s) => s.id === mapping.sensor)!;
      const machine = config.machines.find((m) => m.id === sensor.machine)!;
      const source = deps.sources.get(mapping.source)!;
      const counting = sensor.type !== 'power';
      const mode = mapping.mode ?? 'edge';
      const method: Method = !counting ? 'sample' : mode === 'counter' ? 'counter' : source.watchRising ? 'edge-interrupt' : 'edge-poll';
      return {
        sensor, mapping, machine, source, method,
        ...(method === 'edge-poll' || method === 'edge-interrupt' ? { edge: new EdgeCounter(mapping.debounceMs ?? config.debounceMs) } : {}),
        ...(method === 'counter' ? { counter: new CounterTracker(mapping.counterWrap ?? config.counterWrap, counters.get(sensor.id)) } : {}),
      };
    });
  }

  get heartbeatKey(): string {
    return `${this.#d.id}_last_sample_ts`;
  }

  /**
   * Counters never read before get their baseline at start, so the units of the first sample
   * period count (a PLC that does not answer yet takes its baseline at its first reading).
   */
  async baseline(): Promise<void> {
    const fresh = this.channels.filter((c) => c.counter && c.counter.last === undefined);
    for (const [binding, group] of groupBy(fresh, (c) => c.mapping.source)) {
      const values = await this.#read(binding, group.map((c) => c.mapping.address));
      if (!values) continue;
      for (const c of group) {
        const v = values[c.mapping.address];
        if (v === undefined) continue;
        c.counter!.update(num(v));
        this.#dirtyCounters.set(c.sensor.id, c.counter!.last!);
      }
    }
    this.#failedSinceTick.clear();
  }

  start(): void {
    const { config, scope, clock, log, health, repo } = this.#d;
    const now = clock.now();
    for (const m of config.machines) {
      const cursor = repo.cursor(m.id);
      const agg = new HourlyAggregator(m.id, { restored: repo.openBuckets(m.id), lastPower: undefined });
      if (cursor && cursor.lastTick < now) {
        // The gateway was not recording: the time since the last tick is a gap (units there are unknown in edge mode).
        agg.addState(Math.max(cursor.lastTick, now - MAX_GAP_FILL_MS), now, 'gap');
        log.info(`machine ${m.id}: resuming after ${((now - cursor.lastTick) / 1000).toFixed(1)} s without recording (marked as gap)`);
      }
      this.#aggregators.set(m.id, agg);
      this.#cursors.set(m.id, { lastTick: now, ...(cursor?.lastCycleAt !== undefined ? { lastCycleAt: cursor.lastCycleAt } : {}) });
    }
    for (const c of this.channels) log.info(this.#describe(c));
    scope.defer(health.watch({ key: this.heartbeatKey, maxAgeS: config.staleAfterS, owner: scope.owner }));
    scope.defer(health.setCheck(`recorder:${this.#d.id}`, () => {
      const now = clock.now();
      const down = [...this.#down.entries()].map(([b, d]) => `${b}: ${d.error}; counting blind for ${((now - d.since) / 1000).toFixed(1)} s`);
      const past = [...this.#lastBlind.entries()].filter(([b]) => !this.#down.has(b))
        .map(([b, o]) => `${b}: last outage left counting blind for ${o.seconds.toFixed(1)} s, until ${new Date(o.endedAt).toISOString()}`);
      const detail = [...down, ...past].join('; ');
      return down.length ? { ok: false, detail } : detail ? { ok: true, detail } : { ok: true };
    }, scope.owner));

    for (const c of this.channels) {
      if (c.method !== 'edge-interrupt') continue;
      scope.defer(c.source.watchRising!(c.mapping.address, () => this.#onUnit(c, clock.now(), c.edge!.rising(clock.now()))));
    }
    const polled = this.channels.filter((c) => c.method === 'edge-poll');
    if (polled.length) scope.every(config.pollMs, () => this.pollEdges(polled), { immediate: true });
    scope.every(config.sampleMs, () => this.tick());
  }

  #describe(c: Channel): string {
    const { config } = this.#d;
    const at = `${c.mapping.source} ${c.source.description} ${c.mapping.address}`;
    const who = `sensor ${c.sensor.id} (${c.sensor.type}, machine ${c.machine.id})`;
    if (c.method === 'sample') return `${who}: sampled every ${config.sampleMs} ms from ${at}`;
    if (c.method === 'counter') return `${who}: counting from the PLC counter at ${at} (wraps at ${c.counter!.wrap}), read every ${config.sampleMs} ms; no pulse is missed`;
    if (c.method === 'edge-interrupt') return `${who}: counting rising edges by interrupt on ${at} (debounce ${c.edge!.debounceMs} ms)`;
    const base = `${who}: counting rising edges by polling ${at} every ${config.pollMs} ms (debounce ${c.edge!.debounceMs} ms)`;
    const cpm = c.machine.maxCyclesPerMinute;
    if (!cpm) return `${base}; set maxCyclesPerMinute on the machine to check the poll rate`;
    const periodMs = 60_000 / cpm;
    const pulseMs = c.mapping.pulseMs ?? periodMs / 2;
    const narrowest = Math.min(pulseMs, periodMs - pulseMs);
    if (config.pollMs >= narrowest || c.edge!.debounceMs >= periodMs) {
      const warn = `${base}: TOO SLOW for ${cpm} cycles/min (pulses of ${pulseMs.toFixed(0)} ms, gaps of ${(periodMs - pulseMs).toFixed(0)} ms): pulses will be missed; poll faster than ${narrowest.toFixed(0)} ms, lower debounceMs below ${periodMs.toFixed(0)} ms, or map a PLC counter (mode "counter")`;
      this.#d.log.warn(warn);
      return warn;
    }
    return `${base}; sees every pulse up to ${cpm} cycles/min (narrowest level ${narrowest.toFixed(0)} ms)`;
  }

  /** Reads every edge-polled input once (one batched read per source). */
  async pollEdges(channels: Channel[]): Promise<void> {
    const { clock } = this.#d;
    for (const [binding, group] of groupBy(channels, (c) => c.mapping.source)) {
      const values = await this.#read(binding, group.map((c) => c.mapping.address));
      const t = clock.now();
      for (const c of group) {
        if (!values) c.edge!.forget();
        else this.#onUnit(c, t, c.edge!.update(Boolean(values[c.mapping.address]), t));
      }
    }
  }

  #onUnit(c: Channel, t: number, units: number): void {
    if (!units) return;
    const agg = this.#aggregators.get(c.machine.id)!;
    if (c.sensor.type === 'reject') agg.addUnits(t, 0, units);
    else {
      agg.addUnits(t, units);
      this.#cursors.get(c.machine.id)!.lastCycleAt = t;
    }
  }

  async #read(binding: string, addresses: string[]): Promise<Record<string, PinValue> | null> {
    const source = this.#d.sources.get(binding)!;
    try {
      const values = await source.read(addresses);
      const down = this.#down.get(binding);
      if (down) {
        const now = this.#d.clock.now();
        const seconds = (now - down.since) / 1000;
        this.#lastBlind.set(binding, { seconds, endedAt: now });
        this.#d.log.info(`${binding} (${source.description}): reading again after ${seconds.toFixed(1)} s blind (pulses in that window are not counted; the hours' gap seconds include it)`);
        this.#down.delete(binding);
      }
      return values;
    } catch (err) {
      this.#failedSinceTick.add(binding);
      if (!this.#down.has(binding)) this.#d.log.warn(`${binding} (${source.description}): ${errorMessage(err)}; the time until it answers is recorded as a gap`);
      const since = this.#down.get(binding)?.since ?? this.#d.clock.now();
      this.#down.set(binding, { error: errorMessage(err), since });
      return null;
    }
  }

  /** The sample tick: raw signals, counters, states, energy, hours; one durable write. */
  async tick(): Promise<void> {
    const { config, clock, history, bus, store, repo, scope } = this.#d;
    const t = clock.now();
    const signals: HistoryRecord[] = [];
    const values = new Map<Channel, PinValue | null>();
    for (const [binding, group] of groupBy(this.channels, (c) => c.mapping.source)) {
      const read = await this.#read(binding, group.map((c) => c.mapping.address));
      for (const c of group) values.set(c, read ? read[c.mapping.address] ?? null : null);
    }
    if (scope.disposed) return;
    const ts = t / 1000;
    for (const [c, raw] of values) {
      const value = raw === null ? null : typeof raw === 'boolean' ? num(raw) : raw * c.sensor.scale;
      this.#latest.set(c.sensor.id, { machine: c.machine.id, sensor: c.sensor.id, type: c.sensor.type, value, unit: c.sensor.unit, ts: raw === null ? this.#latest.get(c.sensor.id)?.ts ?? null : ts, ok: raw !== null, method: c.method });
      if (raw === null) continue;
      signals.push({ ts: t, data: { machine: c.machine.id, sensor: c.sensor.id, value, unit: c.sensor.unit } });
      bus.publish(`signal/${c.machine.id}/${c.sensor.id}`, { key: c.sensor.id, value, ts });
      if (c.counter) {
        this.#onUnit(c, t, c.counter.update(num(raw)));
        this.#dirtyCounters.set(c.sensor.id, c.counter.last!);
      }
    }

    const changed: HourBucket[] = [];
    const publishState: Record<string, unknown> = { [this.heartbeatKey]: ts };
    for (const m of config.machines) {
      const agg = this.#aggregators.get(m.id)!;
      const cursor = this.#cursors.get(m.id)!;
      const mine = this.channels.filter((c) => c.machine.id === m.id);
      const gap = mine.some((c) => this.#failedSinceTick.has(c.mapping.source));
      const power = mine.filter((c) => c.method === 'sample' && c.sensor.type === 'power');
      const kw = power.length && power.every((c) => values.get(c) !== null && values.get(c) !== undefined)
        ? power.reduce((sum, c) => sum + num(values.get(c)!) * c.sensor.scale * kwFactor(c.sensor.unit)!, 0)
        : null;
      const state: MachineState = gap ? 'gap' : classify(m, { t, kw, lastCycleAt: cursor.lastCycleAt, windowCycles: config.runningWindowCycles, sampleMs: config.sampleMs });
      agg.addState(cursor.lastTick, t, state);
      if (kw === null) agg.forgetPower();
      else agg.addPower(t, kw, 3 * config.sampleMs);
      cursor.lastTick = t;
      if (agg.lastPower) cursor.lastPower = agg.lastPower;
      else delete cursor.lastPower;
      changed.push(...agg.closeBefore(t), ...agg.open());
      this.#states.set(m.id, state);
      const hour = agg.current(t);
      const rejectsMapped = mine.some((c) => c.sensor.type === 'reject');
      const oee = computeOee(hour, m, { rejectsMapped, utcOffsetMinutes: config.utcOffsetMinutes });
      Object.assign(publishState, {
        [`machine_${m.id}_state`]: state === 'gap' ? 'offline' : state,
        [`machine_${m.id}_units_hour`]: hour.units,
        [`machine_${m.id}_power_kw`]: kw,
        [`machine_${m.id}_oee`]: oee.oee === null ? null : round(oee.oee, 4),
      });
      bus.publish(`production/${m.id}`, { key: m.id, value: productionRow(hour, oee), ts });
    }
    this.#failedSinceTick.clear();

    const counters = new Map(this.#dirtyCounters);
    this.#dirtyCounters.clear();
    // Applied in memory at once (one atomic mutation); the fsync is awaited in the background so a
    // slow SD card never delays the next tick.
    this.#track(repo.save({ buckets: changed, counters, cursors: this.#cursors, now: t }));
    if (changed.some((b) => b.closed)) await repo.prune(t, config.keepDays);
    if (signals.length) await history.append(SIGNAL_SERIES, signals, { durable: false });
    await store.setMany(publishState, { durable: false });
  }

  /**
   * Saves what the last tick has not (edge units counted since, dirty counters) without reading any
   * device: run when the plugin stops, so a clean restart loses nothing. The time since the last
   * tick becomes a gap at the next start.
   */
  async persist(): Promise<void> {
    const buckets = [...this.#aggregators.values()].flatMap((a) => a.open());
    const counters = new Map(this.#dirtyCounters);
    this.#dirtyCounters.clear();
    this.#track(this.#d.repo.save({ buckets, counters, cursors: this.#cursors, now: this.#d.clock.now() }));
    await Promise.all(this.#saving);
  }

  #track(write: Promise<{ durable: boolean }>): void {
    const p = write.then(
      (r) => {
        if (!r.durable && !this.#notDurableSaid && this.#d.store.status().dataDir !== null) this.#d.log.warn('production records are kept in memory only while the store cannot write to disk; they reach the disk when it returns');
        this.#notDurableSaid = !r.durable;
      },
      (err: unknown) => this.#d.log.error(`saving production records failed: ${errorMessage(err)}`),
    ).finally(() => this.#saving.delete(p));
    this.#saving.add(p);
  }

  latest(): LatestSignal[] {
    return this.channels.map((c) => this.#latest.get(c.sensor.id) ?? { machine: c.machine.id, sensor: c.sensor.id, type: c.sensor.type, value: null, unit: c.sensor.unit, ts: null, ok: false, method: c.method });
  }

  state(machine: string): MachineState | undefined {
    return this.#states.get(machine);
  }

  rejectsMapped(machine: string): boolean {
    return this.channels.some((c) => c.machine.id === machine && c.sensor.type === 'reject');
  }
}

/**
 * running: a cycle within `windowCycles` ideal cycles (at least one sample period), or power at or
 * above `runningKw`; idle: not running but power at or above `idleKw`; stopped: otherwise
 * (including a machine without a power sensor that is not cycling).
 */
export function classify(m: MachineConfig, s: { t: number; kw: number | null; lastCycleAt?: number; windowCycles: number; sampleMs: number }): Exclude<MachineState, 'gap'> {
  const windowMs = Math.max(s.windowCycles * m.idealCycleS * 1000, s.sampleMs);
  if (s.lastCycleAt !== undefined && s.t - s.lastCycleAt <= windowMs) return 'running';
  if (s.kw !== null && m.runningKw !== undefined && s.kw >= m.runningKw) return 'running';
  if (s.kw !== null && s.kw >= m.idleKw) return 'idle';
  return 'stopped';
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function productionRow(b: HourBucket, oee: ReturnType<typeof computeOee>) {
  const r = (v: number | null, d = 4) => (v === null ? null : round(v, d));
  return {
    machine: b.machine,
    hourStart: b.hourStart / 1000,
    hour: new Date(b.hourStart).toISOString(),
    units: b.units,
    rejects: b.rejects,
    runningSeconds: round(b.runningS, 1),
    idleSeconds: round(b.idleS, 1),
    stoppedSeconds: round(b.stoppedS, 1),
    gapSeconds: round(b.gapS, 1),
    energyKWh: round(b.energyKWh, 4),
    plannedSeconds: round(oee.plannedS, 1),
    availability: r(oee.availability),
    performance: r(oee.performance),
    quality: r(oee.quality),
    oee: r(oee.oee),
    closed: b.closed,
  };
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) (out.get(key(item)) ?? out.set(key(item), []).get(key(item))!).push(item);
  return out;
}

