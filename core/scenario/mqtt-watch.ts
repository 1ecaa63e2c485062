// Watches an MQTT broker during a scenario: subscribes to the given filters and records what the
// gateway's bridge published there (loaded only when a scenario names a broker).
import type { Clock } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { Published } from './expect.ts';

export interface MqttWatchOptions {
  url: string;
  topics: string[];
  username?: string;
  password?: string;
}

// Messages kept for assertions, and the largest payload parsed as text/JSON (bigger ones count only).
const KEEP = 50_000;
const MAX_PARSED = 64 * 1024;

export interface MqttWatch {
  messages: Published[];
  close(): Promise<void>;
}

export async function watchMqtt(options: MqttWatchOptions, clock: Clock): Promise<MqttWatch> {
  const { connectAsync } = await import('mqtt');
  let client;
  try {
    client = await connectAsync(options.url, {
      username: options.username,
      password: options.password,
      clientId: `fieldgate-scenario-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 500,
      connectTimeout: 5000,
    });
  } catch (err) {
    throw new Error(`cannot connect to the scenario's MQTT broker ${options.url}: ${errorMessage(err)}`, { cause: err });
  }
  const messages: Published[] = [];
  client.on('message', (topic, payload) => {
    messages.push({ at: clock.monotonic(), topic, payload: decode(payload) });
    if (messages.length > KEEP) messages.splice(0, messages.length - KEEP);
  });
  await client.subscribeAsync(options.topics, { qos: 1 });
  return {
    messages,
    close: async () => {
      await client.endAsync(true).catch(() => {});
    },
  };
}

/** JSON when it parses, else UTF-8 text, else (binary, e.g. Sparkplug protobuf) a byte count. */
function decode(payload: Uint8Array): unknown {
  if (payload.byteLength > MAX_PARSED) return { bytes: payload.byteLength };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(payload);
  try {
    return JSON.parse(text);
  } catch {
    // eslint-disable-next-line no-control-regex
    return /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text) ? { bytes: payload.byteLength } : text;
  }
}
