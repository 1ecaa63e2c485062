// What the relay plugin needs from a device preset: switch it, and ask what it is doing.

export interface RelayStatus {
  on: boolean;
  /** Extra figures the device reports (uptime, RSSI, power), for debug logs. */
  details?: Record<string, unknown>;
  /** Seconds since the device booted, when it says: a smaller value than last time means it restarted. */
  uptimeS?: number;
}

export interface RelayDriver {
  /** `esp32-lab at http://192.168.1.50`, for log lines. */
  readonly description: string;
  /** Switches the relay; resolves with the state the device confirms. */
  set(on: boolean): Promise<RelayStatus>;
  read(): Promise<RelayStatus>;
}

/** A reply that does not have the shape the preset expects (wrong firmware selected, usually). */
export function unexpectedReply(driver: string, what: string, reply: unknown): Error {
  return new Error(`${driver}: unexpected reply to ${what}: ${JSON.stringify(reply)?.slice(0, 120)}; is the device running this firmware?`);
}
