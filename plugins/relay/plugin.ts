// The `relay` plugin: switches the lab's heater power (or any relay) when `power_on_requested`
// changes, and reports what the device does. Device presets live in ./drivers.
import { definePlugin } from '../../core/plugin.ts';
import { relayConfig, relayConfigSchema, type RelayConfig } from './config.ts';
import { RelayController } from './controller.ts';
import { createDriver } from './drivers/index.ts';

export type { RelayConfig } from './config.ts';

export default definePlugin<RelayConfig>({
  type: 'relay',
  version: '0.1.0',
  description: 'Follows a requested on/off state key with a relay (ESP32 lab firmware, Tasmota, Shelly Gen2 or a GPIO line) and publishes the actual state.',
  adapters: {
    device: { kind: 'http', optional: true, description: 'The relay device (drivers esp32-lab, tasmota, shelly-gen2)' },
    line: { kind: 'gpio', optional: true, description: 'The relay output line (driver gpio)' },
  },
  configSchema: relayConfigSchema,
  async create(ctx) {
    const config = relayConfig(ctx.config);
    const driver = await createDriver(ctx.id, config, ctx.adapters);
    const controller = new RelayController(ctx, config, driver);
    return {
      start() {
        controller.start();
      },
      stop() {
        return controller.idle();
      },
    };
  },
});
