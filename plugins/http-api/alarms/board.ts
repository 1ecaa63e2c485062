// The alarm board behind GET /api/alarms: conditions read from the health report (stale heartbeats,
// plugins not running, failing checks) and from value limits in the manifest, each raised once with
// the time it was raised, acknowledged by an operator, and cleared when its condition goes away.
import type { HealthReport } from '../../../core/health.ts';

export type AlarmSeverity = 'warning' | 'critical';

export interface Alarm {
  /** Stable per condition: `stale:<key>`, `plugin:<id>`, `check:<name>`, `limit:<key>`. */
  id: string;
  severity: AlarmSeverity;
  message: string;
  /** Epoch seconds. */
  raisedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  /** Set once the condition went away (the alarm is then in the recent list only). */
  clearedAt: number | null;
}

export interface ValueLimit {
  min?: number;
  max?: number;
  /** From the manifest's display section: the alarm names the key and its unit as the operator knows them. */
  label?: string;
  unit?: string;
  decimals?: number;
}

/** One change for the bus/WebSocket: `alarm/<id>` with the alarm and what happened to it. */
export interface AlarmEvent {
  event: 'raised' | 'acknowledged' | 'cleared';
  alarm: Alarm;
}

interface Condition {
  id: string;
  severity: AlarmSeverity;
  message: string;
}

/** What is wrong right now, from one health report and the current values of limited keys. */
export function conditionsOf(report: HealthReport, values: Record<string, unknown>, limits: Record<string, ValueLimit>): Condition[] {
  const out: Condition[] = [];
  for (const hb of Object.values(report.heartbeats)) {
    if (hb.stale) out.push({ id: `stale:${hb.key}`, severity: 'warning', message: hb.ageS === null ? `${hb.key}: never updated` : `${hb.key}: no update for ${Math.round(hb.ageS)} s (limit ${hb.maxAgeS} s)` });
  }
  for (const p of Object.values(report.plugins)) {
    if (p.status === 'failed' || p.status === 'backing-off') {
      out.push({ id: `plugin:${p.id}`, severity: 'critical', message: `plugin ${p.id} ${p.status}${p.lastError ? `: ${p.lastError}` : ''}` });
    }
  }
  if (report.store && !report.store.ok) out.push({ id: 'store', severity: 'critical', message: `store ${report.store.mode}: ${report.store.lastError ?? 'not ok'}` });
  for (const [name, c] of Object.entries(report.checks)) {
    if (!c.ok) out.push({ id: `check:${name}`, severity: c.severity ?? 'warning', message: `${name}: ${c.detail ?? 'failing'}` });
  }
  for (const [key, limit] of Object.entries(limits)) {
    const v = values[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const unit = limit.unit ? ` ${limit.unit}` : '';
    const name = limit.label ?? key;
    const shown = `${limit.decimals !== undefined ? v.toFixed(limit.decimals) : v}${unit}`;
    if (limit.min !== undefined && v < limit.min) out.push({ id: `limit:${key}`, severity: 'critical', message: `${name} = ${shown} below its limit ${limit.min}${unit}` });
    else if (limit.max !== undefined && v > limit.max) out.push({ id: `limit:${key}`, severity: 'critical', message: `${name} = ${shown} above its limit ${limit.max}${unit}` });
  }
  return out;
}

export class AlarmBoard {
  readonly #active = new Map<string, Alarm>();
  readonly #recent: Alarm[] = [];

  constructor(private readonly options: { keepRecent: number }) {}

  /** Applies what is wrong now at `nowS`; returns the events (raised, cleared) in order. */
  update(conditions: Condition[], nowS: number): AlarmEvent[] {
    const events: AlarmEvent[] = [];
    const seen = new Set<string>();
    for (const c of conditions) {
      seen.add(c.id);
      const existing = this.#active.get(c.id);
      if (existing) {
        existing.message = c.message; // the figures move (age, value); the alarm stays the same one
        existing.severity = c.severity; // and may escalate (a store nearing its budget, then over it)
        continue;
      }
      const alarm: Alarm = { id: c.id, severity: c.severity, message: c.message, raisedAt: nowS, acknowledgedAt: null, acknowledgedBy: null, clearedAt: null };
      this.#active.set(c.id, alarm);
      events.push({ event: 'raised', alarm: { ...alarm } });
    }
    for (const [id, alarm] of this.#active) {
      if (seen.has(id)) continue;
      this.#active.delete(id);
      alarm.clearedAt = nowS;
      this.#recent.unshift(alarm);
      if (this.#recent.length > this.options.keepRecent) this.#recent.length = this.options.keepRecent;
      events.push({ event: 'cleared', alarm: { ...alarm } });
    }
    return events;
  }

  /** Marks an active alarm acknowledged; null when there is no such active alarm. */
  acknowledge(id: string, by: string, nowS: number): AlarmEvent | null {
    const alarm = this.#active.get(id);
    if (!alarm) return null;
    if (alarm.acknowledgedAt === null) {
      alarm.acknowledgedAt = nowS;
      alarm.acknowledgedBy = by;
    }
    return { event: 'acknowledged', alarm: { ...alarm } };
  }

  active(): Alarm[] {
    return [...this.#active.values()].map((a) => ({ ...a })).sort((a, b) => a.raisedAt - b.raisedAt || (a.id < b.id ? -1 : 1));
  }

  recent(): Alarm[] {
    return this.#recent.map((a) => ({ ...a }));
  }
}
