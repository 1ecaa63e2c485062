export type RegisterTableName = 'holding' | 'input' | 'coil' | 'discrete';
export interface RegisterChange { server: string; unit: number; table: RegisterTableName; address: number; values: number[]; previous: number[]; source: 'master' | 'local' | 'broadcast'; ts: number /* epoch ms */ }
/** What the modbus-server plugin offers under the service name `modbus-server:<pluginId>`. */
export interface RegisterSpace {
  readonly units: number[];                // configured unit ids
  /** Current values (coils/discretes as 0/1). Throws RangeError naming the range if outside the configured size. */
  read(unit: number, table: RegisterTableName, address: number, count: number): number[];
  /** Local write (REST etc.): applied in memory at once, published, persisted durably; resolves when durable (or {durable:false} while the disk fails). */
  write(unit: number, table: RegisterTableName, address: number, values: number[]): Promise<{ durable: boolean }>;
  /** Epoch ms of the last write to this register by anyone, or null. */
  lastWrite(unit: number, table: RegisterTableName, address: number): number | null;
  /** Seconds since the last Modbus request from a master (null if none yet) and whether that exceeds staleAfterS. */
  traffic(): { lastRequestAgeS: number | null; stale: boolean };
}
export const registerSpaceService = (pluginId: string) => `modbus-server:${pluginId}`;
