// The lab's own ESP32 firmware (kiinging/PLC-Remote-Control-Web): POST /relay {"on": bool},
// GET /status → {relay, uptime, free_heap, wifi_rssi}; the adapter adds X-API-Key.
import type { HttpDevice } from '../../../adapters/http/types.ts';
import { unexpectedReply, type RelayDriver, type RelayStatus } from './types.ts';

interface LabStatus {
  relay?: unknown;
  uptime?: unknown;
  free_heap?: unknown;
  wifi_rssi?: unknown;
}

export class Esp32LabDriver implements RelayDriver {
  constructor(readonly http: HttpDevice) {}

  get description(): string {
    return `esp32-lab relay at ${this.http.description}`;
  }

  async set(on: boolean): Promise<RelayStatus> {
    const reply = await this.http.json<LabStatus | null>({ method: 'POST', path: '/relay', body: { on } });
    // Firmware versions that answer the POST with an empty body are confirmed by a status read.
    if (reply && typeof reply.relay === 'boolean') return this.#status(reply, 'POST /relay');
    return this.read();
  }

  async read(): Promise<RelayStatus> {
    return this.#status(await this.http.json<LabStatus>({ path: '/status' }), 'GET /status');
  }

  #status(reply: LabStatus | null, what: string): RelayStatus {
    if (!reply || typeof reply.relay !== 'boolean') throw unexpectedReply(this.description, what, reply);
    const { relay, ...details } = reply;
    return { on: relay, details, ...(typeof reply.uptime === 'number' ? { uptimeS: reply.uptime } : {}) };
  }
}
