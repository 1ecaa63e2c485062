// The seed's stream entry (`id 0x123 data "AA FF 04 10" ts <epoch ms> dlc 4`) both ways, and the
// `can_messages` row a decoded frame becomes (the can-decoder's row plus `stream_id`).
import type { CanFrame } from '../../adapters/can/types.ts';
import { hexBytes, hexId } from '../../adapters/can/types.ts';
import type { DbcDecoder } from '../../adapters/can/dbc/decode.ts';
import type { CanMessageRow } from '../can-decoder/history.ts';
import { decodedData } from '../can-decoder/pipeline.ts';

/** XADD field/value pairs for a data frame, in the seed's format: `data` as `AA FF 04 10`. */
export function frameFields(frame: CanFrame): string[] {
  return ['id', hexId(frame), 'data', hexBytes(frame.data), 'ts', String(frame.ts), 'dlc', String(frame.data.length)];
}

const MAX_BYTES = 64;

/**
 * A frame from an entry's flat field list, or why not. `data` may be the seed's `AA FF 04 10` or
 * unseparated `AAFF0410` (what fieldgate wrote before); `ts` is epoch ms (seconds are recognised
 * below 1e11); without `ts` the entry id's time is used; `dlc`, when present, must match the bytes.
 */
export function fieldsFrame(fields: string[], entryId?: string): CanFrame | string {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const m = /^0x([0-9A-Fa-f]{1,8})$/.exec((f.id ?? '').trim());
  if (!m) return f.id === undefined ? 'no id field' : `id ${JSON.stringify(f.id.slice(0, 40))} is not 0x<hex>`;
  const id = parseInt(m[1], 16);
  // hexId pads extended ids to 8 digits; a shorter id above 0x7FF can only be extended too.
  const ext = m[1].length === 8 || id > 0x7ff;
  if (ext && id > 0x1fffffff) return `id ${f.id} is above the 29-bit range`;
  const text = (f.data ?? '').trim();
  if (f.data === undefined) return 'no data field';
  const hex = /\s/.test(text) ? text.split(/\s+/) : text.match(/.{1,2}/g) ?? [];
  if (hex.length > MAX_BYTES || !hex.every((b) => /^[0-9A-Fa-f]{2}$/.test(b))) return `data ${JSON.stringify(text.slice(0, 60))} is not hex bytes ("AA FF 04 10")`;
  const data = Uint8Array.from(hex, (b) => parseInt(b, 16));
  if (f.dlc !== undefined && Number(f.dlc) !== data.length) return `dlc ${f.dlc} does not match the ${data.length} data bytes`;
  let ts = f.ts === undefined ? Number(entryId?.split('-')[0]) : Number(f.ts);
  if (!Number.isFinite(ts)) return f.ts === undefined ? 'no ts field' : `ts ${JSON.stringify(f.ts.slice(0, 40))} is not a number`;
  if (ts < 1e11) ts *= 1000;
  return { id, ext, data, ts };
}

export type BridgeRow = CanMessageRow & { stream_id: string | null };

const REASONS: Record<string, string> = { 'unknown-id': 'id not in the DBC', dlc: 'length does not match the DBC', 'error-frame': 'error frame', remote: 'remote frame' };

/** The row for a frame, or why the DBC does not decode it (unknown id, wrong DLC). */
export function frameRow(decoder: DbcDecoder, frame: CanFrame, streamId: string | null): BridgeRow | string {
  const r = decoder.decode(frame);
  if (!r.ok) return `${hexId(frame)}: ${REASONS[r.reason] ?? r.reason}${r.reason === 'dlc' && r.message ? ` (${r.message.name} has ${r.message.dlc} bytes, the frame ${frame.data.length})` : ''}`;
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
