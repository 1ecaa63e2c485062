// Sparkplug B payload encoding with protobufjs: the Tahu 3.0 `Payload` and `Metric` messages declared
// in code with the field numbers of sparkplug_b.proto (beside this file), and the value conversions
// between JavaScript values and the datatype-specific oneof fields.
import protobuf from 'protobufjs';

/** Tahu `DataType` values fieldgate uses. */
export const DataType = {
  Int8: 1, Int16: 2, Int32: 3, Int64: 4, UInt8: 5, UInt16: 6, UInt32: 7, UInt64: 8,
  Float: 9, Double: 10, Boolean: 11, String: 12, DateTime: 13, Text: 14,
} as const;

export interface Metric {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype?: number;
  isHistorical?: boolean;
  isNull?: boolean;
  value?: number | boolean | string | null;
}

export interface Payload {
  timestamp: number;
  seq?: number;
  metrics: Metric[];
}

// Only the fields fieldgate writes or reads; anything else in a received payload is skipped.
const root = protobuf.Root.fromJSON({
  nested: {
    org: { nested: { eclipse: { nested: { tahu: { nested: { protobuf: { nested: {
      Payload: {
        // proto2: optional fields have presence, so seq 0 (NBIRTH) is on the wire.
        edition: 'proto2',
        fields: {
          timestamp: { type: 'uint64', id: 1 },
          metrics: { rule: 'repeated', type: 'Metric', id: 2 },
          seq: { type: 'uint64', id: 3 },
          uuid: { type: 'string', id: 4 },
          body: { type: 'bytes', id: 5 },
        },
        nested: {
          Metric: {
            edition: 'proto2',
            oneofs: { value: { oneof: ['intValue', 'longValue', 'floatValue', 'doubleValue', 'booleanValue', 'stringValue', 'bytesValue'] } },
            fields: {
              name: { type: 'string', id: 1 },
              alias: { type: 'uint64', id: 2 },
              timestamp: { type: 'uint64', id: 3 },
              datatype: { type: 'uint32', id: 4 },
              isHistorical: { type: 'bool', id: 5 },
              isTransient: { type: 'bool', id: 6 },
              isNull: { type: 'bool', id: 7 },
              intValue: { type: 'uint32', id: 10 },
              longValue: { type: 'uint64', id: 11 },
              floatValue: { type: 'float', id: 12 },
              doubleValue: { type: 'double', id: 13 },
              booleanValue: { type: 'bool', id: 14 },
              stringValue: { type: 'string', id: 15 },
              bytesValue: { type: 'bytes', id: 16 },
            },
          },
        },
      },
    } } } } } } } },
  },
});
const PayloadType = root.lookupType('org.eclipse.tahu.protobuf.Payload');

type WireMetric = Record<string, unknown>;

function wireMetric(m: Metric): WireMetric {
  const w: WireMetric = {};
  if (m.name !== undefined) w.name = m.name;
  if (m.alias !== undefined) w.alias = m.alias;
  if (m.timestamp !== undefined) w.timestamp = m.timestamp;
  if (m.datatype !== undefined) w.datatype = m.datatype;
  if (m.isHistorical) w.isHistorical = true;
  if (m.value === null || m.value === undefined) {
    if (m.isNull || m.value === null) w.isNull = true;
    return w;
  }
  const v = m.value;
  switch (m.datatype) {
    case DataType.Int8: case DataType.Int16: case DataType.Int32:
      w.intValue = (Number(v) | 0) >>> 0; // two's complement in the uint32 field, as Tahu does
      break;
    case DataType.UInt8: case DataType.UInt16: case DataType.UInt32:
      w.intValue = Number(v) >>> 0;
      break;
    case DataType.Int64: case DataType.UInt64: case DataType.DateTime:
      w.longValue = Math.trunc(Number(v)); // negative Int64: two's complement in the uint64 field
      break;
    case DataType.Float:
      w.floatValue = Number(v);
      break;
    case DataType.Double:
      w.doubleValue = Number(v);
      break;
    case DataType.Boolean:
      w.booleanValue = Boolean(v);
      break;
    default:
      w.stringValue = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return w;
}

export function encodePayload(p: Payload): Uint8Array {
  const msg = PayloadType.fromObject({
    timestamp: p.timestamp,
    ...(p.seq !== undefined ? { seq: p.seq } : {}),
    metrics: p.metrics.map(wireMetric),
  });
  return PayloadType.encode(msg).finish();
}

/** Decodes a received payload (NCMD/DCMD); throws with the protobuf error on a malformed one. */
export function decodePayload(bytes: Uint8Array): Payload {
  const o = PayloadType.toObject(PayloadType.decode(bytes), { longs: Number, defaults: false }) as { timestamp?: number; seq?: number; metrics?: WireMetric[] };
  return {
    timestamp: o.timestamp ?? 0,
    ...(o.seq !== undefined ? { seq: o.seq } : {}),
    metrics: (o.metrics ?? []).map((w) => {
      const datatype = w.datatype as number | undefined;
      let value: Metric['value'] = null;
      if (w.intValue !== undefined) {
        const u = w.intValue as number;
        value = datatype === DataType.Int8 ? (u << 24) >> 24 : datatype === DataType.Int16 ? (u << 16) >> 16 : datatype === DataType.Int32 ? u | 0 : u;
      } else if (w.longValue !== undefined) value = w.longValue as number;
      else if (w.floatValue !== undefined) value = w.floatValue as number;
      else if (w.doubleValue !== undefined) value = w.doubleValue as number;
      else if (w.booleanValue !== undefined) value = w.booleanValue as boolean;
      else if (w.stringValue !== undefined) value = w.stringValue as string;
      return {
        ...(w.name !== undefined ? { name: w.name as string } : {}),
        ...(w.alias !== undefined ? { alias: w.alias as number } : {}),
        ...(w.timestamp !== undefined ? { timestamp: w.timestamp as number } : {}),
        ...(datatype !== undefined ? { datatype } : {}),
        ...(w.isNull ? { isNull: true } : {}),
        value,
      };
    }),
  };
}
