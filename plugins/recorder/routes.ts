// The recorder's REST routes (contributed to http-api) and its two dashboard panels: machine states
// with this hour's figures, and units per hour for the last hours.
import type { RouteContribution } from '../../core/http-routes.ts';
import type { Clock } from '../../core/clock.ts';
import type { RecorderConfig } from './config.ts';
import { computeOee, HOUR_MS, hourStartOf, periodOee } from './hourly.ts';
import { productionRow, type Recorder, round } from './recorder.ts';
import type { RecorderRepo } from './store.ts';

interface Req {
  query: Record<string, string | undefined>;
}
interface Reply {
  code(status: number): Reply;
}

export interface RouteEnv {
  config: RecorderConfig;
  recorder: Recorder;
  repo: RecorderRepo;
  clock: Clock;
}

const TAGS = ['recorder'];
const TIME = { type: 'string', description: 'Epoch seconds or an ISO 8601 time.' };
const PERIOD = {
  type: 'object',
  additionalProperties: false,
  properties: { machine: { type: 'string' }, from: TIME, to: TIME },
};

/** Epoch s or ISO → ms; undefined when absent, NaN when unreadable. */
export function parseTime(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
}

export function recorderRoutes(env: RouteEnv): RouteContribution[] {
  const { config, recorder, repo, clock } = env;
  const machineById = new Map(config.machines.map((m) => [m.id, m]));

  /** The period of a request, or an error answer. Default: the last 24 h (hours starting in [from, to)). */
  const period = (req: Req, reply: Reply) => {
    const { machine } = req.query;
    if (machine !== undefined && !machineById.has(machine)) {
      reply.code(404);
      return { error: { error: 'not found', message: `unknown machine "${machine}"; known: ${[...machineById.keys()].join(', ')}` } };
    }
    const to = parseTime(req.query.to) ?? clock.now() + 1;
    const from = parseTime(req.query.from) ?? to - 24 * HOUR_MS;
    if (Number.isNaN(from) || Number.isNaN(to) || from > to) {
      reply.code(400);
      return { error: { error: 'bad request', message: 'from/to must be epoch seconds or ISO times with from <= to', fields: { from: String(req.query.from), to: String(req.query.to) } } };
    }
    // An hour belongs to the period when it overlaps it.
    return { machine, from: hourStartOf(from), to };
  };
  const oeeOpts = (machine: string) => ({ rejectsMapped: recorder.rejectsMapped(machine), utcOffsetMinutes: config.utcOffsetMinutes });

  return [
    {
      method: 'GET',
      url: '/api/recorder/machines',
      schema: { summary: 'Machines with their current state', tags: TAGS },
      handler: () => config.machines.map((m) => ({ ...m, state: recorder.state(m.id) ?? null, rejectsMapped: recorder.rejectsMapped(m.id) })),
    },
    {
      method: 'GET',
      url: '/api/recorder/sensors',
      schema: { summary: 'Sensors, their pins and how each is read or counted', tags: TAGS },
      handler: () => recorder.channels.map((c) => ({ ...c.sensor, source: c.mapping.source, device: c.source.description, address: c.mapping.address, method: c.method })),
    },
    {
      method: 'GET',
      url: '/api/recorder/signals/latest',
      schema: { summary: 'The latest sample of every sensor (value null and ok false while unread)', tags: TAGS },
      handler: () => recorder.latest(),
    },
    {
      method: 'GET',
      url: '/api/recorder/production',
      schema: { summary: 'Hourly production records (the current hour included, closed: false)', tags: TAGS, querystring: PERIOD },
      handler: (req, reply) => {
        const p = period(req as Req, reply as Reply);
        if ('error' in p) return p.error;
        return repo.production(p).map((b) => productionRow(b, computeOee(b, machineById.get(b.machine)!, oeeOpts(b.machine))));
      },
    },
    {
      method: 'GET',
      url: '/api/recorder/oee',
      schema: { summary: 'OEE per machine over a period (availability × performance × quality)', tags: TAGS, querystring: PERIOD },
      handler: (req, reply) => {
        const p = period(req as Req, reply as Reply);
        if ('error' in p) return p.error;
        const rows = repo.production(p);
        return config.machines.filter((m) => !p.machine || m.id === p.machine).map((m) => {
          const { hours, sum, oee } = periodOee(rows.filter((b) => b.machine === m.id), m, oeeOpts(m.id));
          const r = (v: number | null) => (v === null ? null : round(v, 4));
          return {
            machine: m.id, from: p.from / 1000, to: p.to / 1000, hours,
            units: sum.units, rejects: sum.rejects, runningSeconds: round(sum.runningS, 1), plannedSeconds: round(oee.plannedS, 1), gapSeconds: round(sum.gapS, 1), energyKWh: round(sum.energyKWh, 4),
            availability: r(oee.availability), performance: r(oee.performance), quality: r(oee.quality), oee: r(oee.oee),
          };
        });
      },
    },
    {
      method: 'GET',
      url: '/api/recorder/panel/machines',
      schema: { summary: 'Machine states and this hour', tags: [...TAGS, 'dashboard'] },
      panel: {
        wide: true,
        hint: 'OEE = availability × performance × quality, each a ratio 0..1 for this hour (quality is 1 without a reject signal). Performance above 1 means the configured ideal cycle time is longer than the machine\'s real one.',
      },
      handler: () => {
        const h = hourStartOf(clock.now());
        const rows = repo.production({ from: h - HOUR_MS, to: h + HOUR_MS });
        return config.machines.map((m) => {
          const cur = rows.find((b) => b.machine === m.id && b.hourStart === h);
          const prev = rows.find((b) => b.machine === m.id && b.hourStart === h - HOUR_MS);
          const o = cur ? computeOee(cur, m, oeeOpts(m.id)) : null;
          const ratio = (v: number | null | undefined) => (v === null || v === undefined ? null : round(v, 2));
          const s = recorder.state(m.id);
          // OEE and its components as ratios (0..1), not percentages: a performance above 1 then reads
          // as what it is (the configured ideal cycle is slower than the machine), not as "1678.9 %".
          return {
            machine: m.name, state: s === 'gap' ? 'offline' : s ?? 'unknown', units_this_hour: cur?.units ?? 0, units_last_hour: prev?.units ?? 0,
            availability: ratio(o?.availability), performance: ratio(o?.performance), quality: ratio(o?.quality), oee: ratio(o?.oee),
            energy_kwh_this_hour: cur ? round(cur.energyKWh, 3) : 0,
          };
        });
      },
    },
    {
      method: 'GET',
      url: '/api/recorder/panel/units-per-hour',
      schema: { summary: 'Units per hour, last 8 hours', tags: [...TAGS, 'dashboard'] },
      panel: { kind: 'bars', bars: { label: 'hour', values: config.machines.map((m) => m.id), names: Object.fromEntries(config.machines.map((m) => [m.id, m.name])), unit: 'units' } },
      handler: () => {
        const h = hourStartOf(clock.now());
        const rows = repo.production({ from: h - 7 * HOUR_MS, to: h + HOUR_MS });
        const hours = [...new Set(rows.map((b) => b.hourStart))].sort((a, b) => b - a);
        return hours.map((start) => ({
          hour: new Date(start).toISOString().slice(0, 13) + ':00Z',
          ...Object.fromEntries(config.machines.map((m) => [m.id, rows.find((b) => b.machine === m.id && b.hourStart === start)?.units ?? 0])),
        }));
      },
    },
  ];
}
