// Picks the device preset for the configured driver and checks that the matching binding is there.
import type { GpioLine } from '../../../adapters/gpio/types.ts';
import type { HttpDevice } from '../../../adapters/http/types.ts';
import { RELAY_DRIVERS, type RelayConfig } from '../config.ts';
import type { RelayDriver } from './types.ts';

/**
 * The relay talks to exactly one adapter: `device` (http) for the HTTP presets, or `line` (gpio)
 * for a relay board on a pin. Both bindings are optional in the manifest; this says which is missing.
 */
export async function createDriver(pluginId: string, config: RelayConfig, adapters: Record<string, unknown>): Promise<RelayDriver> {
  const device = adapters.device as HttpDevice | undefined;
  const line = adapters.line as GpioLine | undefined;
  const where = `relay "${pluginId}" (driver "${config.driver}")`;
  if (device && line) throw new Error(`${where}: bind either "device" (http adapter) or "line" (gpio adapter), not both`);
  const need = (binding: 'device' | 'line', kind: string): never => {
    const other = binding === 'device' ? (line ? '; "line" is bound, which only the gpio driver uses' : '') : device ? '; "device" is bound, which only the HTTP presets use' : '';
    throw new Error(`${where} needs the adapter binding "${binding}" (an adapter of kind "${kind}") in the manifest's plugin entry${other}`);
  };
  switch (config.driver) {
    case 'esp32-lab': {
      if (!device) need('device', 'http');
      const { Esp32LabDriver } = await import('./esp32-lab.ts');
      return new Esp32LabDriver(device!);
    }
    case 'tasmota': {
      if (!device) need('device', 'http');
      const { TasmotaDriver } = await import('./tasmota.ts');
      return new TasmotaDriver(device!, config.channel ?? 1);
    }
    case 'shelly-gen2': {
      if (!device) need('device', 'http');
      const { ShellyGen2Driver } = await import('./shelly-gen2.ts');
      return new ShellyGen2Driver(device!, config.channel ?? 0);
    }
    case 'gpio': {
      if (!line) need('line', 'gpio');
      const { GpioRelayDriver } = await import('./gpio.ts');
      return new GpioRelayDriver(line!);
    }
    default:
      throw new Error(`${where}: unknown driver; valid drivers: ${RELAY_DRIVERS.join(', ')}`);
  }
}
