// The common fault hooks (faults.ts) over the seed simulators that named behaviours start, so the
// scenario runner drives the lab PLC and relay like any profile device.
import type { Nj301Simulator } from '../nj301.ts';
import type { Esp32RelaySimulator } from '../esp32-relay.ts';
import type { Cj2mSimulator } from '../cj2m.ts';
import type { Clock } from '../../core/clock.ts';
import type { DeviceFaults } from './faults.ts';

export function nj301Faults(plc: Nj301Simulator): DeviceFaults {
  let injected = 0;
  const calm = () => {
    plc.resume();
    plc.slow(0);
    plc.clearFaults();
    injected = 0;
  };
  return {
    offline: () => plc.stop(),
    hang: () => plc.hang(),
    slow: (ms) => plc.slow(Math.max(0, ms)),
    exception: (code, target = {}) => {
      plc.fault({ kind: 'exception', code, address: target.address, fc: target.fc });
      injected++;
    },
    powerCycle: async (options = {}) => {
      calm();
      // The NJ301's own words: `defaults` is the program's initial values.
      await plc.powerCycle({ offMs: options.offMs, memory: options.memory === 'initial' ? 'defaults' : 'zero' });
    },
    recover: async () => {
      calm();
      await plc.start();
    },
    state: () => ({ offline: !plc.running, hung: plc.server.hung, slowMs: plc.server.responseDelayMs, exceptions: injected }),
  };
}

/** The relay's own faults are HTTP-shaped: `hang` is a reply that never comes, `exception` only 500. */
export function esp32Faults(relay: Esp32RelaySimulator): DeviceFaults {
  const HANG_MS = 2_147_483_647; // the longest timer: the reply never comes while the socket stays open
  return {
    offline: () => relay.setOffline(true),
    hang: () => {
      relay.faults.delayMs = HANG_MS;
    },
    slow: (ms) => {
      relay.faults.delayMs = Math.max(0, ms);
    },
    exception: (code) => {
      if (code !== 500) throw new Error(`the ${relay.device} relay simulator can only answer 500, not ${code}`);
      relay.faults.error500 = true;
    },
    powerCycle: (options = {}) => relay.reboot({ offMs: options.offMs }),
    recover: () => relay.reset(),
    state: () => ({
      offline: relay.offline,
      hung: relay.faults.delayMs === HANG_MS,
      slowMs: relay.faults.delayMs === HANG_MS ? 0 : relay.faults.delayMs,
      exceptions: relay.faults.error500 ? 1 : 0,
    }),
  };
}

/**
 * The CJ2M's DM, W and H are battery-backed: a power cycle keeps them unless `memory: "zero"` (a flat
 * battery). Either way the batch in the mixer is lost and the CPU comes back in MONITOR mode.
 */
export function cj2mFaults(plc: Cj2mSimulator, clock: Clock): DeviceFaults {
  let injected = 0;
  const calm = () => {
    plc.clearFaults();
    injected = 0;
  };
  return {
    offline: () => plc.stop(),
    hang: () => {
      plc.hung = true;
    },
    slow: (ms) => {
      plc.responseDelayMs = Math.max(0, ms);
    },
    exception: (code, target = {}) => {
      plc.refuse({ endCode: code, area: target.area, address: target.address });
      injected++;
    },
    powerCycle: async (options = {}) => {
      const off = (options.offMs ?? 0) > 0 ? clock.sleep(options.offMs ?? 0) : Promise.resolve();
      await plc.close();
      await off;
      calm();
      if (options.memory === 'zero') plc.clearMemory();
      plc.mode = 'monitor';
      await plc.start();
    },
    recover: async () => {
      calm();
      await plc.start();
    },
    state: () => ({ offline: !plc.listening, hung: plc.hung, slowMs: plc.responseDelayMs, exceptions: injected }),
  };
}
