// Scenario faults mapped onto the fault hooks simulators already have, found by shape on the object
// a sim adapter registered as `sim:<adapter id>` (core knows no simulator class), plus disk faults.
import type { Clock } from '../clock.ts';
import type { SimWorld } from '../sim-world.ts';
import { errorMessage } from '../errors.ts';

export type DeviceFault = 'offline' | 'hang' | 'slow' | 'power-cycle' | 'recover' | 'silent';

export interface DeviceFaultStep {
  fault: DeviceFault;
  device: string;
  ms?: number;
  offMs?: number;
  memory?: 'zero' | 'defaults';
  box?: string;
}

type Fn = (...args: unknown[]) => unknown;
type Sim = Record<string, unknown>;

const fn = (o: unknown, name: string): Fn | null => (o && typeof (o as Sim)[name] === 'function' ? ((o as Sim)[name] as Fn).bind(o) : null);
const hasNumber = (o: unknown, name: string): boolean => Boolean(o) && typeof (o as Sim)[name] === 'number';
const hasBoolean = (o: unknown, name: string): boolean => Boolean(o) && typeof (o as Sim)[name] === 'boolean';

/** How one simulator does each fault, or null where it has no hook for it. */
interface Hooks {
  offline: ((on: boolean) => Promise<unknown>) | null;
  hang: ((on: boolean) => Promise<unknown>) | null;
  slow: ((ms: number) => Promise<unknown>) | null;
  powerCycle: ((offMs: number, memory: 'zero' | 'defaults') => Promise<unknown>) | null;
  silent: ((box: string, on: boolean) => Promise<unknown>) | null;
  /** What power-cycle does on this simulator, for the report. */
  powerCycleNote: string;
}

function hooksOf(sim: unknown, clock: Clock): Hooks {
  const call = async (f: Fn | null, ...args: unknown[]) => f!(...args);
  const server = (sim as Sim).server;
  const setOffline = fn(sim, 'setOffline');
  const setDown = fn(sim, 'setDown');
  const setDisconnected = fn(sim, 'setDisconnected');
  const start = fn(sim, 'start');
  const stop = fn(sim, 'stop');
  const offline = setOffline ? (on: boolean) => call(setOffline, on)
    : setDown ? (on: boolean) => call(setDown, on)
    : setDisconnected ? (on: boolean) => call(setDisconnected, on)
    : start && stop ? (on: boolean) => (on ? call(stop) : call(start))
    : null;
  const hangFn = fn(sim, 'hang');
  const resume = fn(sim, 'resume');
  const hangTarget = hasBoolean(sim, 'hung') ? sim : hasBoolean(server, 'hung') ? server : null;
  // The Modbus and S7 servers' request faults: `timeout` is "never answer" until clearFaults().
  const faultFn = fn(sim, 'fault');
  const clearFaults = fn(sim, 'clearFaults');
  const hang = hangFn && resume ? (on: boolean) => (on ? call(hangFn) : call(resume))
    : hangTarget ? async (on: boolean) => void ((hangTarget as Sim).hung = on)
    : faultFn && clearFaults ? (on: boolean) => (on ? call(faultFn, { kind: 'timeout' }) : call(clearFaults))
    : null;
  const slowFn = fn(sim, 'slow');
  const faults = (sim as Sim).faults;
  const delayTarget = hasNumber(sim, 'responseDelayMs') ? sim : hasNumber(server, 'responseDelayMs') ? server : null;
  const slow = slowFn ? (ms: number) => call(slowFn, ms)
    : hasNumber(faults, 'delayMs') ? async (ms: number) => void ((faults as Sim).delayMs = ms)
    : delayTarget ? async (ms: number) => void ((delayTarget as Sim).responseDelayMs = ms)
    : null;
  const powerCycleFn = fn(sim, 'powerCycle');
  const reboot = fn(sim, 'reboot');
  const powerCycle = powerCycleFn ? (offMs: number, memory: string) => call(powerCycleFn, { offMs, memory })
    : reboot ? (offMs: number) => call(reboot, { offMs })
    : offline ? async (offMs: number) => {
      await offline(true);
      await clock.sleep(offMs);
      await offline(false);
    }
    : null;
  const powerCycleNote = powerCycleFn ? 'restarts with its memory lost' : reboot ? 'reboots (its outputs come back off)' : 'goes off and back on (this simulator keeps its memory)';
  const silence = fn(sim, 'silence');
  const silent = silence ? (box: string, on: boolean) => call(silence, box, on) : null;
  return { offline, hang, slow, powerCycle, silent, powerCycleNote };
}

/** Which scenario faults a simulator supports (docs and error messages). */
export function supportedFaults(sim: unknown, clock: Clock): DeviceFault[] {
  const h = hooksOf(sim, clock);
  const out: DeviceFault[] = [];
  if (h.offline) out.push('offline');
  if (h.hang) out.push('hang');
  if (h.slow) out.push('slow');
  if (h.powerCycle) out.push('power-cycle');
  if (h.silent) out.push('silent');
  out.push('recover');
  return out;
}

/** Applies device faults and remembers them, so `recover` undoes exactly what was done. */
export class DeviceFaults {
  readonly #world: SimWorld;
  readonly #clock: Clock;
  readonly #active = new Map<string, { offline?: boolean; hang?: boolean; slow?: boolean; silent: Set<string> }>();

  constructor(world: SimWorld, clock: Clock) {
    this.#world = world;
    this.#clock = clock;
  }

  /** Applies the fault; resolves with a sentence saying what the simulator did. Throws with what it supports otherwise. */
  async apply(step: DeviceFaultStep): Promise<string> {
    const name = `sim:${step.device}`;
    if (!this.#world.has(name)) {
      throw new Error(`no simulator for device "${step.device}": give the id of an adapter that runs on its simulator and that a plugin uses`);
    }
    const sim = this.#world.require<unknown>(name);
    const kind = (sim as object).constructor?.name ?? 'simulator';
    const hooks = hooksOf(sim, this.#clock);
    const state = this.#active.get(step.device) ?? { silent: new Set<string>() };
    this.#active.set(step.device, state);
    const unsupported = () => new Error(`device "${step.device}" (${kind}) has no "${step.fault}" fault; it supports: ${supportedFaults(sim, this.#clock).join(', ')}`);
    try {
      switch (step.fault) {
        case 'offline':
          if (!hooks.offline) throw unsupported();
          await hooks.offline(true);
          state.offline = true;
          return `${step.device} (${kind}) is offline`;
        case 'hang':
          if (!hooks.hang) throw unsupported();
          await hooks.hang(true);
          state.hang = true;
          return `${step.device} (${kind}) takes requests but never answers`;
        case 'slow':
          if (!hooks.slow) throw unsupported();
          await hooks.slow(step.ms ?? 0);
          state.slow = (step.ms ?? 0) > 0;
          return `${step.device} (${kind}) answers after ${step.ms} ms`;
        case 'power-cycle': {
          if (!hooks.powerCycle) throw unsupported();
          const offMs = step.offMs ?? 300;
          await hooks.powerCycle(offMs, step.memory ?? 'zero');
          return `${step.device} (${kind}) was off for ${offMs} ms and ${hooks.powerCycleNote}`;
        }
        case 'silent':
          if (!hooks.silent) throw unsupported();
          await hooks.silent(step.box!, true);
          state.silent.add(step.box!);
          return `${step.device} (${kind}): ${step.box} stopped sending`;
        case 'recover': {
          const undone: string[] = [];
          if (state.offline && hooks.offline) {
            await hooks.offline(false);
            undone.push('back online');
          }
          if (state.hang && hooks.hang) {
            await hooks.hang(false);
            undone.push('answering');
          }
          if (state.slow && hooks.slow) {
            await hooks.slow(0);
            undone.push('answering at once');
          }
          for (const box of state.silent) {
            await hooks.silent?.(box, false);
            undone.push(`${box} sending`);
          }
          this.#active.delete(step.device);
          return `${step.device} (${kind}) recovered${undone.length ? `: ${undone.join(', ')}` : ' (no fault was active)'}`;
        }
      }
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(`device "${step.device}"`)) throw err;
      throw new Error(`device "${step.device}" (${kind}): ${step.fault} failed: ${errorMessage(err)}`, { cause: err });
    }
  }
}
