// The seed's stream entry (`id <hex id> data <hex> ts <epoch ms> dlc <n>`) both ways, and the
// `can_messages` row a decoded frame becomes (the can-decoder's row plus `stream_id`).
import type { CanFrame } from '../../adapters/can/types.ts';
import { hexBytes, hexId } from '../../adapters/can/types.ts';
import type { DbcDecoder } from '../can-decoder/dbc/decode.ts';
import type { CanMessageRow } from '../can-decoder/history.ts';
import { decodedData } from '../can-decoder/pipeline.ts';

/** XADD field/value pairs for a data frame. */
export function frameFields(frame: CanFrame): string[] {
  return ['id', hexId(frame), 'data', hexBytes(frame.data, ''), 'ts', String(frame.ts), 'dlc', String(frame.data.length)];
}

/** A frame from an entry's flat field list; null when the entry is not one we wrote. */
export function fieldsFrame(fields: string[]): CanFrame | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const m = /^0x([0-9A-Fa-f]{1,8})$/.exec(f.id ?? '');
  const ts = Number(f.ts);
  const hex = f.data ?? '';
  if (!m || !Number.isFinite(ts) || hex.length % 2 !== 0 || hex.length > 16 || !/^[0-9A-Fa-f]*$/.test(hex)) return null;
  const data = new Uint8Array(hex.length / 2);
  for (let i = 0; i < data.length; i++) data[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  // hexId pads extended ids to 8 digits and standard ones to 3.
  return { id: parseInt(m[1], 16), ext: m[1].length === 8, data, ts };
}

export type BridgeRow = CanMessageRow & { stream_id: string | null };

/** The row for a frame, or null when the DBC does not decode it (unknown id, wrong DLC). */
export function frameRow(decoder: DbcDecoder, frame: CanFrame, streamId: string | null): BridgeRow | null {
  const r = decoder.decode(frame);
  if (!r.ok) return null;
  const decoded = decodedData(r.values, r.labels, r.outOfRange);
  return {
    timestamp: frame.ts,
    can_id: hexId(frame),
    node_id: r.message.transmitter,
    message_type: r.message.name,
    dlc: frame.data.length,
    raw_data: hexBytes(frame.data),
    decoded_data: JSON.stringify(decoded),
    stream_id: streamId,
  };
}

/** Orders stream ids (`<ms>-<seq>`); negative when a < b. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : (as ?? 0) - (bs ?? 0);
}
