// The WebSocket wire format: what clients send, what the server answers, and how a bus event
// becomes a delta `{topic, key, value, ts}`.
import type { StateChange } from '../../../core/bus.ts';

export interface Delta {
  type: 'delta';
  topic: string;
  key: string;
  value: unknown;
  /** Epoch seconds. */
  ts: number;
}

export type ClientMessage =
  | { type: 'subscribe'; topics: string[] }
  | { type: 'unsubscribe'; topics: string[] }
  | { type: 'ping' };

export const MAX_PATTERNS = 64;

/**
 * Normalises a subscription pattern: `*` as a level means `+` (so `state/*` = `state/+`). Returns
 * an error message for a pattern the bus would refuse.
 */
export function normalisePattern(raw: unknown): { pattern: string } | { error: string } {
  if (typeof raw !== 'string' || raw === '' || raw.length > 256) return { error: `topic pattern must be a non-empty string of at most 256 characters` };
  const levels = raw.split('/').map((l) => (l === '*' ? '+' : l));
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l === '#' && i !== levels.length - 1) return { error: `"${raw}": "#" must be the last level` };
    if (l !== '#' && l !== '+' && /[#+*]/.test(l)) return { error: `"${raw}": wildcards (+, *, #) must fill a whole level` };
  }
  return { pattern: levels.join('/') };
}

export function parseClientMessage(text: string): ClientMessage | { error: string } {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { error: 'message is not JSON; send {"type":"subscribe","topics":["state/*"]}' };
  }
  const m = msg as { type?: unknown; topics?: unknown };
  if (m?.type === 'ping') return { type: 'ping' };
  if (m?.type === 'subscribe' || m?.type === 'unsubscribe') {
    if (!Array.isArray(m.topics) || m.topics.length === 0) return { error: `${m.type}: "topics" must be a non-empty array of patterns` };
    return { type: m.type, topics: m.topics as string[] };
  }
  return { error: 'unknown message type; use "subscribe", "unsubscribe" or "ping"' };
}

/** A bus event as a delta: state changes map directly; other payloads use their key/name/value/ts when present. */
export function toDelta(topic: string, payload: unknown, nowS: number): Delta {
  if (topic.startsWith('state/') && isStateChange(payload)) {
    return { type: 'delta', topic, key: payload.key, value: payload.value, ts: payload.updatedAt };
  }
  const p = payload as Record<string, unknown> | null;
  const obj = p !== null && typeof p === 'object' && !Array.isArray(p);
  const key = obj && typeof p.key === 'string' ? p.key : obj && typeof p.name === 'string' ? p.name : topic.slice(topic.lastIndexOf('/') + 1);
  const value = obj && 'value' in p ? p.value : payload;
  const ts = obj && typeof p.ts === 'number' ? p.ts : obj && typeof p.updatedAt === 'number' ? p.updatedAt : nowS;
  return { type: 'delta', topic, key, value, ts };
}

function isStateChange(p: unknown): p is StateChange {
  return p !== null && typeof p === 'object' && typeof (p as StateChange).key === 'string' && 'value' in p;
}
