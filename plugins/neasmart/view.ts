// Decoded reads of the Neasmart register map from a RegisterSpace: what the REST routes and the
// bus events show. Temperatures are DPT 9.001 (invalid markers → null); flags are "== 1".
import type { RegisterSpace } from '../../adapters/modbus/register-space.ts';
import { decodeDpt9 } from './dpt9001.ts';
import {
  dehumidifierAddress,
  GLOBAL,
  MIXED_GROUP,
  mixedGroupAddress,
  MODE_NAMES,
  pumpAddress,
  STATE_NAMES,
  ZONE,
  zoneAddress,
} from './registers.ts';

export interface ZoneView {
  state: number;
  state_name: string | null;
  setpoint: number | null;
  temperature: number | null;
  relative_humidity: number;
}

export class NeasmartView {
  constructor(readonly space: RegisterSpace, readonly unit: number) {}

  #hr(address: number, count = 1): number[] {
    return this.space.read(this.unit, 'holding', address, count);
  }

  zone(base: number, zone: number): ZoneView {
    const r = this.#hr(zoneAddress(base, zone), ZONE.humidity + 1);
    return {
      state: r[ZONE.state],
      state_name: STATE_NAMES[r[ZONE.state]] ?? null,
      setpoint: decodeDpt9(r[ZONE.setpoint]),
      temperature: decodeDpt9(r[ZONE.temperature]),
      relative_humidity: r[ZONE.humidity],
    };
  }

  mixedGroup(group: number) {
    const r = this.#hr(mixedGroupAddress(group), 4);
    return {
      pump_running: r[MIXED_GROUP.pump] === 1,
      mixing_valve_opening_percentage: r[MIXED_GROUP.valve],
      flow_temperature: decodeDpt9(r[MIXED_GROUP.flowTemperature]),
      return_temperature: decodeDpt9(r[MIXED_GROUP.returnTemperature]),
    };
  }

  outsideTemperature() {
    const [outside, filtered] = this.#hr(GLOBAL.outsideTemperature, 2);
    return { outside_temperature: decodeDpt9(outside), filtered_outside_temperature: decodeDpt9(filtered) };
  }

  notifications() {
    const r = this.#hr(0, GLOBAL.hints + 1);
    return { hints_present: r[GLOBAL.hints] === 1, warnings_present: r[GLOBAL.warnings] === 1, error_present: r[GLOBAL.errors] === 1 };
  }

  mode() {
    const [mode] = this.#hr(GLOBAL.mode);
    return { mode, mode_name: MODE_NAMES[mode] ?? null };
  }

  state() {
    const [state] = this.#hr(GLOBAL.state);
    return { state, state_name: STATE_NAMES[state] ?? null };
  }

  dehumidifier(id: number) {
    return { dehumidifier_running: this.#hr(dehumidifierAddress(id))[0] === 1 };
  }

  /** `dehumidifier_running` repeats `pump_running`: the original gateway answered /pumps with that key. */
  pump(id: number) {
    const running = this.#hr(pumpAddress(id))[0] === 1;
    return { pump_running: running, dehumidifier_running: running };
  }
}
