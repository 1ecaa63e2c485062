// Shelly Gen2 RPC over HTTP GET: /rpc/Switch.Set?id=N&on=true, /rpc/Switch.GetStatus?id=N → {output, ...}.
import type { HttpDevice } from '../../../adapters/http/types.ts';
import { unexpectedReply, type RelayDriver, type RelayStatus } from './types.ts';

export class ShellyGen2Driver implements RelayDriver {
  constructor(readonly http: HttpDevice, readonly switchId = 0) {}

  get description(): string {
    return `shelly-gen2 switch ${this.switchId} at ${this.http.description}`;
  }

  async set(on: boolean): Promise<RelayStatus> {
    const reply = await this.http.json<{ was_on?: unknown }>({ path: `/rpc/Switch.Set?id=${this.switchId}&on=${on}` });
    if (!reply || typeof reply.was_on !== 'boolean') throw unexpectedReply(this.description, 'Switch.Set', reply);
    // Switch.Set answers only the previous state (`was_on`); success means the output is now `on`.
    return { on };
  }

  async read(): Promise<RelayStatus> {
    const reply = await this.http.json<Record<string, unknown>>({ path: `/rpc/Switch.GetStatus?id=${this.switchId}` });
    if (!reply || typeof reply.output !== 'boolean') throw unexpectedReply(this.description, 'Switch.GetStatus', reply);
    const { output, ...details } = reply;
    return { on: output as boolean, details };
  }
}
