// Tasmota: GET /cm?cmnd=Power<N> On|Off; the reply is {"POWER":"ON"} (or POWER<N> on multi-relay devices).
import type { HttpDevice } from '../../../adapters/http/types.ts';
import { unexpectedReply, type RelayDriver, type RelayStatus } from './types.ts';

export class TasmotaDriver implements RelayDriver {
  /** `channel` 0 or 1 is the first relay (`Power`); 2.. are `Power2`... */
  constructor(readonly http: HttpDevice, readonly channel = 1) {}

  get description(): string {
    return `tasmota relay ${this.channel || 1} at ${this.http.description}`;
  }

  set(on: boolean): Promise<RelayStatus> {
    return this.#command(on ? 'On' : 'Off');
  }

  read(): Promise<RelayStatus> {
    return this.#command('');
  }

  async #command(action: string): Promise<RelayStatus> {
    const power = this.channel > 1 ? `Power${this.channel}` : 'Power';
    const cmnd = action ? `${power} ${action}` : power;
    const reply = await this.http.json<Record<string, unknown>>({ path: `/cm?cmnd=${encodeURIComponent(cmnd)}` });
    const value = reply?.[`POWER${this.channel > 1 ? this.channel : ''}`] ?? reply?.POWER1 ?? reply?.POWER;
    if (value !== 'ON' && value !== 'OFF') throw unexpectedReply(this.description, `cmnd=${cmnd}`, reply);
    return { on: value === 'ON' };
  }
}
