// Where the recorder's signals come from: S7 PLCs, Modbus devices and GPIO inputs behind one small
// interface — a batched read of named pins, plus edge interrupts where the hardware has them.
import type { S7Client } from '../../adapters/s7/types.ts';
import type { ModbusClient } from '../../adapters/modbus/types.ts';
import type { GpioLine } from '../../adapters/gpio/types.ts';
import type { SourceKind } from './config.ts';

export type PinValue = number | boolean;

export interface SignalSource {
  readonly kind: SourceKind;
  /** The device, for log lines (`s7 127.0.0.1:102 rack 0 slot 1`). */
  readonly description: string;
  /** Reads every address in one go where the protocol allows; rejects when the device cannot be read. */
  read(addresses: readonly string[]): Promise<Record<string, PinValue>>;
  /**
   * Sources with edge interrupts (GPIO) call `listener` on every rising edge of `address` and
   * return the function that stops watching; the others have no `watchRising`.
   */
  watchRising?(address: string, listener: () => void): () => void;
}

const MODBUS_TABLES = { hr: 'holding', ir: 'input', coil: 'coil', di: 'discrete' } as const;

/** `HR:05` → `hr:5`; throws with the accepted forms when the address is not a Modbus pin. */
export function normaliseModbusAddress(address: string): string {
  const m = /^\s*(hr|ir|coil|di):(\d{1,5})\s*$/i.exec(address);
  if (!m || Number(m[2]) > 65535) throw new Error(`"${address}" is not a Modbus address; use hr:<n>, ir:<n>, coil:<n> or di:<n> with n 0..65535`);
  return `${m[1].toLowerCase()}:${Number(m[2])}`;
}

export function s7Source(client: S7Client): SignalSource {
  return {
    kind: 's7',
    description: client.description,
    async read(addresses) {
      if (!client.connected) await client.connect();
      return await client.read(addresses);
    },
  };
}

/** Modbus pins as `hr:<n>@<unit>` are read one request per unit and table, covering the span. */
export function modbusSource(client: ModbusClient, units: ReadonlyMap<string, number>): SignalSource {
  return {
    kind: 'modbus',
    description: client.description,
    async read(addresses) {
      if (!client.connected) await client.connect();
      const groups = new Map<string, Array<{ address: string; n: number }>>();
      for (const address of addresses) {
        const [table, n] = normaliseModbusAddress(address).split(':');
        const key = `${table}@${units.get(address) ?? 1}`;
        (groups.get(key) ?? groups.set(key, []).get(key)!).push({ address, n: Number(n) });
      }
      const out: Record<string, PinValue> = {};
      for (const [key, pins] of groups) {
        const [table, unit] = key.split('@') as [keyof typeof MODBUS_TABLES, string];
        const t = MODBUS_TABLES[table];
        const lo = Math.min(...pins.map((p) => p.n));
        const hi = Math.max(...pins.map((p) => p.n));
        // One request when the span is small, else one per pin.
        const spans = hi - lo < (t === 'holding' || t === 'input' ? 100 : 1000) ? [[lo, hi - lo + 1]] : pins.map((p) => [p.n, 1]);
        for (const [start, count] of spans) {
          const values = t === 'holding' || t === 'input'
            ? await client.readRegisters(t, Number(unit), start, count)
            : await client.readBits(t, Number(unit), start, count);
          for (const p of pins) if (p.n >= start && p.n < start + count) out[p.address] = values[p.n - start];
        }
      }
      return out;
    },
  };
}

/** One GPIO line (its adapter is the line); the address is informative only. */
export function gpioSource(line: GpioLine): SignalSource {
  return {
    kind: 'gpio',
    description: line.description,
    async read(addresses) {
      const v = (await line.read()) === 1;
      return Object.fromEntries(addresses.map((a) => [a, v]));
    },
    watchRising(_address, listener) {
      return line.watch('rising', () => listener());
    },
  };
}

/** The source behind a binding, by the kind the binding name stands for. */
export function sourceFor(kind: SourceKind, adapter: unknown, units: ReadonlyMap<string, number>): SignalSource {
  if (kind === 's7') return s7Source(adapter as S7Client);
  if (kind === 'modbus') return modbusSource(adapter as ModbusClient, units);
  return gpioSource(adapter as GpioLine);
}
