// Namespaced JSON-lines logger for journald: lazy debug messages cost nothing when the level is off,
// and registered secret values are masked in every line.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];

/** `json`: one JSON object a line (journald, log shippers); `pretty`: `time LEVEL ns: message k=v` for a terminal. */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json'];

export type LogMessage = string | (() => string);
export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly namespace: string;
  trace(msg: LogMessage, fields?: LogFields): void;
  debug(msg: LogMessage, fields?: LogFields): void;
  info(msg: LogMessage, fields?: LogFields): void;
  warn(msg: LogMessage, fields?: LogFields): void;
  error(msg: LogMessage, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  child(namespace: string): Logger;
}

export interface LogSinkOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. */
  write?: (line: string) => void;
  /** Clock for timestamps. */
  now?: () => number;
  /** Line format; default json. */
  format?: LogFormat;
}

const SECRET_FIELD = /pass(word)?|secret|token|api[-_]?key|credential|authorization|cookie/i;
const MASK = '***';

/** Shared root: level, sink and the set of secret values to mask. */
export class LogRoot {
  level: LogLevel;
  readonly #write: (line: string) => void;
  readonly #now: () => number;
  readonly #format: LogFormat;
  readonly #secrets = new Set<string>();

  constructor(options: LogSinkOptions = {}) {
    this.level = options.level ?? 'info';
    this.#write = options.write ?? ((line) => process.stdout.write(line + '\n'));
    this.#now = options.now ?? Date.now;
    this.#format = options.format ?? 'json';
  }

  /** Registers a value that must never appear in a log line (passwords, API keys). */
  addSecret(value: string): void {
    if (value.length >= 3) this.#secrets.add(value);
  }

  logger(namespace: string): Logger {
    return new NamespacedLogger(this, namespace);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(this.level) && this.level !== 'silent';
  }

  emit(level: LogLevel, namespace: string, msg: LogMessage, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const text = typeof msg === 'function' ? msg() : msg;
    const record: LogFields = { time: new Date(this.#now()).toISOString(), level, ns: namespace, msg: text };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) record[k] = SECRET_FIELD.test(k) ? MASK : normalise(v);
    }
    this.#write(this.mask(this.#format === 'pretty' ? prettyLine(record) : JSON.stringify(record)));
  }

  /** Replaces every registered secret in `text` (also exposed for error messages shown to users). */
  mask(text: string): string {
    let out = text;
    for (const s of this.#secrets) {
      if (out.includes(s)) out = out.split(s).join(MASK);
      const json = JSON.stringify(s).slice(1, -1);
      if (json !== s && out.includes(json)) out = out.split(json).join(MASK);
    }
    return out;
  }
}

/** `14:02:03.123 WARN  plugin:plc: message key=value`: local time, level padded, fields as k=v (JSON values). */
function prettyLine(record: LogFields): string {
  const { time, level, ns, msg, ...fields } = record;
  const d = new Date(String(time));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${clock} ${String(level).toUpperCase().padEnd(5)} ${String(ns)}: ${String(msg)}${extra.length ? ` ${extra.join(' ')}` : ''}`;
}

function normalise(v: unknown): unknown {
  if (v instanceof Error) {
    const cause = (v as { cause?: unknown }).cause;
    return { name: v.name, message: v.message, ...(cause !== undefined ? { cause: normalise(cause) } : {}) };
  }
  return v;
}

class NamespacedLogger implements Logger {
  constructor(readonly root: LogRoot, readonly namespace: string) {}
  trace(msg: LogMessage, fields?: LogFields): void {
    this.root.emit('trace', this.namespace, msg, fields);
  }
  debug(msg: LogMessage, fields?: LogFields): void {
    this.root.emit('debug', this.namespace, msg, fields);
  }
  info(msg: LogMessage, fields?: LogFields): void {
    this.root.emit('info', this.namespace, msg, fields);
  }
  warn(msg: LogMessage, fields?: LogFields): void {
    this.root.emit('warn', this.namespace, msg, fields);
  }
  error(msg: LogMessage, fields?: LogFields): void {
    this.root.emit('error', this.namespace, msg, fields);
  }
  enabled(level: LogLevel): boolean {
    return this.root.enabled(level);
  }
  child(namespace: string): Logger {
    return new NamespacedLogger(this.root, `${this.namespace}:${namespace}`);
  }
}

/** A logger that collects records in memory, for tests. */
export function memoryLog(level: LogLevel = 'trace'): { root: LogRoot; lines: LogFields[] } {
  const lines: LogFields[] = [];
  const root = new LogRoot({ level, write: (line) => lines.push(JSON.parse(line) as LogFields) });
  return { root, lines };
}
