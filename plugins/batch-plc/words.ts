// The PLC's batch area as words addressed by D number, over FINS (D memory) or Modbus (holding
// registers at base + (D - 7000)). Refusals by the PLC come back as PlcRefusedError (the PLC
// answered: not an outage); a link that does not answer rejects with the transport's own error.
import { type FinsClient, describeAddress, FinsEndCodeError } from '../../adapters/fins/types.ts';
import { describeRange, type ModbusClient, ModbusExceptionError } from '../../adapters/modbus/types.ts';
import { BATCH_BASE } from '../odoo-sync/plc-layout.ts';

export interface PlcWords {
  /** The link, for messages. */
  readonly description: string;
  /** Most words one read may carry. */
  readonly maxRead: number;
  read(address: number, count: number): Promise<number[]>;
  write(address: number, values: readonly number[]): Promise<void>;
  /** `D7000..D7076` or `HR 0..76`: where a D range lives on this link. */
  where(address: number, count: number): string;
}

/** The PLC answered and refused the request (bad address, say): worth a warning, not a reconnect. */
export class PlcRefusedError extends Error {
  override name = 'PlcRefusedError';
}

export function finsWords(client: FinsClient): PlcWords {
  const refused = (err: unknown): never => {
    throw err instanceof FinsEndCodeError ? new PlcRefusedError(err.message, { cause: err }) : err;
  };
  return {
    description: client.description,
    maxRead: 999,
    read: (address, count) => client.readWords('DM', address, count).catch(refused),
    write: (address, values) => client.writeWords('DM', address, values).catch(refused),
    where: (address, count) => describeAddress('DM', address, count),
  };
}

// Exceptions that mean "this request is wrong" rather than "the device is in trouble".
const REQUEST_EXCEPTIONS = new Set([1, 2, 3]);

export function modbusWords(client: ModbusClient, map: { unit: number; base: number }): PlcWords {
  const hr = (address: number) => map.base + (address - BATCH_BASE);
  const refused = (err: unknown): never => {
    throw err instanceof ModbusExceptionError && REQUEST_EXCEPTIONS.has(err.code) ? new PlcRefusedError(err.message, { cause: err }) : err;
  };
  return {
    description: `modbus ${client.description} unit ${map.unit}`,
    maxRead: 125,
    read: (address, count) => client.readRegisters('holding', map.unit, hr(address), count).catch(refused),
    write: (address, values) => client.writeRegisters(map.unit, hr(address), [...values]).catch(refused),
    where: (address, count) => `${describeRange('holding', hr(address), count)} (D${address})`,
  };
}
