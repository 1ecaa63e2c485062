// One frame's way through the decoder plugin: DBC decode → per-sensor calibration and validation →
// live keys, a `can_messages` row and a `can/signal` bus message. Synchronous and allocation-light,
// so a replayed log runs at tens of thousands of frames per second.
import type { CanFrame } from '../../adapters/can/types.ts';
import { hexBytes, hexId } from '../../adapters/can/types.ts';
import type { DbcDecoder } from '../../adapters/can/dbc/decode.ts';
import type { Dbc } from '../../adapters/can/dbc/parse.ts';
import type { SensorMapping } from './config.ts';
import type { HistoryBatcher } from './history.ts';
import type { LiveSensors } from './live.ts';

export interface CanSignalMessage {
  message: string;
  node: string;
  ts: number;
  values: Record<string, number>;
  /** VAL_ labels of enum signals (their numbers stay in `values`); null when none. */
  labels: Record<string, string> | null;
  /** Mapped sensors whose calibrated value was outside their min/max: name → value. */
  invalid: Record<string, number> | null;
}

export interface PipelineCounts {
  frames: number;
  rows: number;
  valid: number;
  flagged: number;
}

/** Resolves each sensor mapping against the DBC; throws listing every mapping that names nothing. */
export function bindSensors(dbc: Dbc, sensors: readonly SensorMapping[], source: string): Map<string, SensorMapping[]> {
  const byMessage = new Map<string, SensorMapping[]>();
  const problems: string[] = [];
  sensors.forEach((s, i) => {
    const msg = dbc.messages.find((m) => m.name === s.message);
    if (!msg) problems.push(`sensors[${i}] (${s.name}): no message "${s.message}" in ${source}`);
    else if (!msg.signals.some((g) => g.name === s.signal)) {
      problems.push(`sensors[${i}] (${s.name}): message ${s.message} has no signal "${s.signal}" (it has ${msg.signals.map((g) => g.name).join(', ')})`);
    } else byMessage.set(s.message, [...(byMessage.get(s.message) ?? []), s]);
  });
  if (problems.length) throw new Error(`can-decoder: the sensor map does not match the DBC:\n  ${problems.join('\n  ')}`);
  return byMessage;
}

export class CanPipeline {
  readonly counts: PipelineCounts = { frames: 0, rows: 0, valid: 0, flagged: 0 };
  /** The last flagged value per sensor, for health and logs. */
  readonly lastFlagged = new Map<string, number>();

  constructor(private readonly opts: {
    decoder: DbcDecoder;
    sensors: Map<string, SensorMapping[]>;
    live: LiveSensors;
    history: HistoryBatcher | null;
    publish: ((msg: CanSignalMessage) => void) | null;
  }) {}

  onFrame(frame: CanFrame): void {
    this.counts.frames++;
    const r = this.opts.decoder.decode(frame);
    if (!r.ok) return;
    const { message, values } = r;
    let invalid: Record<string, number> | null = null;
    const mapped = this.opts.sensors.get(message.name);
    if (mapped) {
      for (let i = 0; i < mapped.length; i++) {
        const s = mapped[i];
        const raw = values[s.signal];
        if (raw === undefined) continue; // a multiplexed signal of another channel
        const v = raw * s.gain + s.offset;
        const dbcBad = r.outOfRange !== null && r.outOfRange.includes(s.signal);
        if (dbcBad || !Number.isFinite(v) || (s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) {
          (invalid ??= {})[s.name] = v;
          this.counts.flagged++;
          this.lastFlagged.set(s.name, v);
          continue;
        }
        this.counts.valid++;
        this.opts.live.update(s.name, v, frame.ts);
      }
    }
    if (this.opts.history) {
      const decoded = decodedData(values, r.labels, invalid ? Object.keys(invalid) : null);
      this.opts.history.add({
        timestamp: frame.ts,
        can_id: hexId(frame),
        node_id: message.transmitter,
        message_type: message.name,
        dlc: frame.data.length,
        raw_data: hexBytes(frame.data),
        decoded_data: JSON.stringify(decoded),
      });
      this.counts.rows++;
    }
    this.opts.publish?.({ message: message.name, node: message.transmitter, ts: frame.ts, values, labels: r.labels, invalid });
  }
}

/** The `decoded_data` object: values, then `_labels` (enum labels) and `_invalid` (flagged signals) when any. */
export function decodedData(values: Record<string, number>, labels: Record<string, string> | null, invalid: string[] | null): Record<string, unknown> {
  if (!labels && !invalid) return values;
  const out: Record<string, unknown> = { ...values };
  if (labels) out._labels = labels;
  if (invalid) out._invalid = invalid;
  return out;
}
