// Hourly production per machine: units, rejects, time per state, energy integrated from power
// samples (trapezoid, split at hour boundaries) and OEE. Pure arithmetic on timestamps (ms).
import type { MachineConfig } from './config.ts';

export const HOUR_MS = 3_600_000;

export type MachineState = 'running' | 'idle' | 'stopped' | 'gap';

/** One machine-hour as accumulated (the store row). */
export interface HourBucket {
  machine: string;
  /** Epoch ms of the hour's start (UTC-aligned). */
  hourStart: number;
  units: number;
  rejects: number;
  runningS: number;
  idleS: number;
  stoppedS: number;
  /** Seconds without readings (device unreachable, gateway down): units there may be unknown. */
  gapS: number;
  energyKWh: number;
  /** True once the hour is over and the row final. */
  closed: boolean;
}

export interface Oee {
  /** Observed seconds of planned production (gaps excluded), 0 in unplanned hours. */
  plannedS: number;
  availability: number | null;
  performance: number | null;
  /** Null when no reject signal is mapped for the machine (OEE then takes quality as 1). */
  quality: number | null;
  oee: number | null;
}

export function hourStartOf(t: number): number {
  return Math.floor(t / HOUR_MS) * HOUR_MS;
}

export function emptyBucket(machine: string, hourStart: number): HourBucket {
  return { machine, hourStart, units: 0, rejects: 0, runningS: 0, idleS: 0, stoppedS: 0, gapS: 0, energyKWh: 0, closed: false };
}

/** Energy (kWh) of a linear power ramp p0 → p1 (kW) over `ms`: the trapezoid rule. */
export function trapezoidKWh(p0: number, p1: number, ms: number): number {
  return ((p0 + p1) / 2) * (ms / HOUR_MS);
}

/** Splits [from, to) at hour boundaries: [segmentStart, segmentEnd) pairs. */
export function splitByHour(from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let a = from; a < to;) {
    const b = Math.min(to, hourStartOf(a) + HOUR_MS);
    out.push([a, b]);
    a = b;
  }
  return out;
}

export function isPlannedHour(machine: MachineConfig, hourStart: number, utcOffsetMinutes: number): boolean {
  if (!machine.plannedHours) return true;
  const local = new Date(hourStart + utcOffsetMinutes * 60_000).getUTCHours();
  return machine.plannedHours.includes(local);
}

/**
 * OEE = availability × performance × quality, over the observed planned time:
 * availability = running / (running + idle + stopped); performance = units × idealCycleS / running;
 * quality = (units − rejects) / units. Equivalently good units × idealCycleS / planned time.
 */
export function computeOee(b: HourBucket, machine: MachineConfig, options: { rejectsMapped: boolean; utcOffsetMinutes: number }): Oee {
  const observed = b.runningS + b.idleS + b.stoppedS;
  const plannedS = isPlannedHour(machine, b.hourStart, options.utcOffsetMinutes) ? observed : 0;
  if (plannedS <= 0) return { plannedS, availability: null, performance: null, quality: null, oee: null };
  const availability = b.runningS / plannedS;
  const performance = b.runningS > 0 ? (b.units * machine.idealCycleS) / b.runningS : null;
  const quality = options.rejectsMapped ? (b.units > 0 ? Math.max(0, b.units - b.rejects) / b.units : null) : null;
  const oee = performance === null ? 0 : availability * performance * (quality ?? 1);
  return { plannedS, availability, performance, quality, oee };
}

/** One machine's open hours. Feed it units, state intervals and power samples in time order. */
export class HourlyAggregator {
  readonly #buckets = new Map<number, HourBucket>();
  #power: { t: number; kw: number } | undefined;

  constructor(readonly machine: string, options: { restored?: HourBucket[]; lastPower?: { t: number; kw: number } } = {}) {
    for (const b of options.restored ?? []) this.#buckets.set(b.hourStart, { ...b });
    this.#power = options.lastPower;
  }

  #bucket(t: number): HourBucket {
    const h = hourStartOf(t);
    let b = this.#buckets.get(h);
    if (!b) this.#buckets.set(h, (b = emptyBucket(this.machine, h)));
    return b;
  }

  addUnits(t: number, units: number, rejects = 0): void {
    if (!units && !rejects) return;
    const b = this.#bucket(t);
    b.units += units;
    b.rejects += rejects;
  }

  /** Attributes [from, to) to a state, split across hours. */
  addState(from: number, to: number, state: MachineState): void {
    for (const [a, b] of splitByHour(from, to)) {
      const bucket = this.#bucket(a);
      const s = (b - a) / 1000;
      if (state === 'running') bucket.runningS += s;
      else if (state === 'idle') bucket.idleS += s;
      else if (state === 'stopped') bucket.stoppedS += s;
      else bucket.gapS += s;
    }
  }

  /**
   * A power sample (kW) at `t`: integrates from the previous sample unless they are more than
   * `maxGapMs` apart (then the energy in between is unknown and not invented). The power at an
   * hour boundary is interpolated so each hour gets its own share.
   */
  addPower(t: number, kw: number, maxGapMs: number): void {
    const prev = this.#power;
    this.#power = { t, kw };
    if (!prev || t <= prev.t || t - prev.t > maxGapMs) return;
    const at = (x: number) => prev.kw + ((kw - prev.kw) * (x - prev.t)) / (t - prev.t);
    for (const [a, b] of splitByHour(prev.t, t)) this.#bucket(a).energyKWh += trapezoidKWh(at(a), at(b), b - a);
  }

  get lastPower(): { t: number; kw: number } | undefined {
    return this.#power;
  }

  /** Readings stopped: the next power sample starts a new integration. */
  forgetPower(): void {
    this.#power = undefined;
  }

  /** Hours that ended at or before `t`, marked closed and removed from the open set. */
  closeBefore(t: number): HourBucket[] {
    const done: HourBucket[] = [];
    for (const [h, b] of this.#buckets) {
      if (h + HOUR_MS <= t) {
        b.closed = true;
        done.push(b);
        this.#buckets.delete(h);
      }
    }
    return done.sort((x, y) => x.hourStart - y.hourStart);
  }

  open(): HourBucket[] {
    return [...this.#buckets.values()].sort((x, y) => x.hourStart - y.hourStart);
  }

  current(t: number): HourBucket {
    return this.#buckets.get(hourStartOf(t)) ?? emptyBucket(this.machine, hourStartOf(t));
  }
}

/**
 * OEE over a period: the planned hours' sums (so an hour with more planned time weighs more),
 * unplanned hours left out. Returns the summed figures and the OEE of the sums.
 */
export function periodOee(buckets: HourBucket[], machine: MachineConfig, options: { rejectsMapped: boolean; utcOffsetMinutes: number }) {
  const planned = buckets.filter((b) => isPlannedHour(machine, b.hourStart, options.utcOffsetMinutes));
  const sum = emptyBucket(machine.id, planned[0]?.hourStart ?? 0);
  for (const b of planned) {
    sum.units += b.units;
    sum.rejects += b.rejects;
    sum.runningS += b.runningS;
    sum.idleS += b.idleS;
    sum.stoppedS += b.stoppedS;
    sum.gapS += b.gapS;
    sum.energyKWh += b.energyKWh;
  }
  // The sum is judged as one always-planned span.
  const oee = computeOee(sum, { ...machine, plannedHours: undefined }, options);
  return { hours: planned.length, sum, oee };
}
