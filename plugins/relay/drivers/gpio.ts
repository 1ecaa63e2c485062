// A relay board on a GPIO line: logical 1 = relay on (the adapter's activeLow handles inverted boards).
import type { GpioLine } from '../../../adapters/gpio/types.ts';
import type { RelayDriver, RelayStatus } from './types.ts';

export class GpioRelayDriver implements RelayDriver {
  constructor(readonly line: GpioLine) {}

  get description(): string {
    return `gpio relay on ${this.line.description}`;
  }

  async set(on: boolean): Promise<RelayStatus> {
    await this.line.write(on ? 1 : 0);
    return this.read();
  }

  async read(): Promise<RelayStatus> {
    return { on: (await this.line.read()) === 1 };
  }
}
