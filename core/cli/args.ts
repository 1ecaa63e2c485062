// Command-line parsing for `fieldgate`: small and strict, so a typo in a flag is an error.
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log.ts';
import { didYouMean } from './suggest.ts';

export interface RunArgs {
  command: 'run';
  manifest: string;
  sim: boolean;
  real: string[];
  dataDir?: string;
  logLevel?: LogLevel;
  /** `json` lines (journald) or `pretty` lines for a terminal; default: pretty on a TTY, else json. */
  logFormat?: LogFormat;
}

/** `fieldgate systemd`: prints (or writes) a unit for running this manifest on a device. */
export interface SystemdArgs {
  command: 'systemd';
  manifest: string;
  user: string;
  write?: string;
  dataDir?: string;
  sim: boolean;
  real: string[];
  /** Absolute paths in ExecStart; default the running node and this build's dist entry. */
  node?: string;
  entry?: string;
  watchdogSec: number;
}

/** `fieldgate doctor`: checks that the hardware and endpoints the manifest's real adapters name are there. */
export interface DoctorArgs {
  command: 'doctor';
  manifest: string;
  sim: boolean;
  real: string[];
  dataDir?: string;
  timeoutMs: number;
  /** Whose access to judge (default: the `fieldgate` service user if it exists, else the current user). */
  user?: string;
}

/** `fieldgate migrate sqlite-to-postgres`: the seed's SQLite `can_messages` into PostgreSQL. */
export interface MigrateArgs {
  command: 'migrate';
  action: 'sqlite-to-postgres';
  sqliteFile: string;
  url: string;
  /** Rows per INSERT (default 1000). */
  batch: number;
  /** Target table in PostgreSQL (default can_messages). */
  table: string;
  /** Table read from the SQLite file (default can_messages). */
  sourceTable: string;
}

/** `fieldgate monitor live|can <api-url>`: live views of a running gateway's WebSocket feed. */
export interface MonitorArgs {
  command: 'monitor';
  action: 'live' | 'can';
  url: string;
  /** live: glob over key names (`*` wildcard), default all. */
  keys?: string;
  apiKey?: string;
  /** live: redraw period; can: how often the per-type counts line is printed. */
  intervalMs: number;
}

/** `fieldgate test <scenario.json>...`: runs scenarios on simulators and reports TAP or JUnit. */
export interface TestArgs {
  command: 'test';
  scenarios: string[];
  reporter: 'tap' | 'junit';
  /** Write the report here; progress lines then go to stdout. */
  out?: string;
  /** Echo the gateway's log at this level to stderr (default: none; failures show the last warnings). */
  logLevel?: LogLevel;
  /** Real-time budget per scenario in seconds (default 600). */
  timeoutS: number;
}

export type CliArgs =
  | RunArgs
  | TestArgs
  | SystemdArgs
  | DoctorArgs
  | MigrateArgs
  | MonitorArgs
  | { command: 'validate'; manifests: string[] }
  | { command: 'version' }
  | { command: 'help'; topic?: string };

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage:
  fieldgate run <manifest.json> [--sim] [--real <adapter-id>]... [--data-dir DIR] [--log-level LEVEL]
                [--log-format pretty|json]
  fieldgate validate <manifest.json>...
  fieldgate test <scenario.json>... [--reporter tap|junit] [--out FILE] [--log-level LEVEL] [--timeout S]
  fieldgate doctor <manifest.json> [--sim] [--real <adapter-id>]... [--data-dir DIR] [--user NAME] [--timeout MS]
  fieldgate systemd <manifest.json> [--user NAME] [--write PATH] [--data-dir DIR] [--node PATH] [--entry PATH]
                    [--watchdog-sec S] [--sim] [--real <adapter-id>]...
  fieldgate migrate sqlite-to-postgres <sqlite-file> <postgres-url> [--batch N] [--table NAME] [--source-table NAME]
  fieldgate monitor live <api-url> [--keys PATTERN] [--api-key K] [--interval MS]
  fieldgate monitor can <api-url> [--api-key K] [--interval MS]
  fieldgate --version

  --sim               run every adapter on its bundled simulator (started in this process)
  --real <id>         with --sim, keep adapter <id> on real hardware (repeatable)
  --data-dir DIR      where the store and history live (default: FIELDGATE_DATA_DIR, the manifest's
                      "dataDir", or ./data/<manifest name>)
  --log-level LEVEL   ${LOG_LEVELS.join(' | ')} (default: the manifest's log.level, or info)
  --log-format F      pretty (time, level, namespace, message) or json (one JSON object a line, for
                      journald); default: pretty when stdout is a terminal, else json

  test                starts each scenario's manifest on simulators with a fast virtual clock, runs its
                      steps (commands, device faults, waits, expectations) and reports (exit 1 if any fails)
  --reporter R        test: tap (default, streamed to stdout) or junit (XML)
  --out FILE          test: write the report to FILE and print progress lines instead
  --timeout S         test: real seconds a scenario may take (default 600)
  doctor              checks every real adapter's device node, GPIO line, serial port or TCP endpoint,
                      the data dir and the clock; prints a table with a fix per failure (exit 1 if any)
  --timeout MS        doctor: TCP connect timeout (default 2000)
  systemd             prints a systemd unit (Type=notify, watchdog, restart always) for this manifest
  --user NAME         systemd: the service user (default fieldgate); doctor: whose access to judge
                      (default: the fieldgate user if it exists, else the current user)
  --write PATH        systemd: write the unit to PATH instead of printing it
  migrate             copies the SQLite can_messages rows into PostgreSQL in batches, resumable, then
                      checks row counts and a content checksum on both sides (exit 1 if they differ)
  --batch N           migrate: rows per INSERT (default 1000)
  --table NAME        migrate: PostgreSQL table (default can_messages); --source-table: the SQLite one
  monitor live        a table of live keys (WebSocket state/#), redrawn every --interval (default 1000)
  monitor can         a colored tail of can/signal with counts per message type every --interval (5000)
  --api-key K         monitor: the gateway's API key, when it requires one for reads (or FIELDGATE_API_KEY)

exit codes: 0 ok, 1 invalid manifest or failed run, 2 unreadable file or bad usage`;

const COMMANDS = ['run', 'validate', 'test', 'doctor', 'systemd', 'migrate', 'monitor', 'help', '--version'] as const;

/** The usage lines and option lines that concern one command (`fieldgate run --help`). */
export function usageFor(command: string | undefined): string {
  if (!command || !(COMMANDS as readonly string[]).includes(command) || command === 'help' || command === '--version') return USAGE;
  const [head, ...body] = USAGE.split('\n\n');
  const usageLines = head.split('\n').slice(1);
  const mine: string[] = [];
  for (let i = 0; i < usageLines.length; i++) {
    if (usageLines[i].startsWith(`  fieldgate ${command} `)) {
      mine.push(usageLines[i]);
      while (usageLines[i + 1]?.startsWith('     ')) mine.push(usageLines[++i]);
    }
  }
  const flags = new Set(mine.join(' ').match(/--[a-z-]+/g) ?? []);
  const options: string[] = [];
  const optionLines = body.slice(0, -1).join('\n').split('\n');
  for (let i = 0; i < optionLines.length; i++) {
    const m = /^ {2}(\S+)/.exec(optionLines[i]);
    if (!m) continue;
    const name = m[1];
    // An option shared by name (--timeout) is described per command: `test: ...`, `doctor: ...`.
    const owner = /^ {2}\S+(?: \S+)? +([a-z]+): /.exec(optionLines[i])?.[1];
    let text = optionLines[i];
    for (let j = i + 1; optionLines[j]?.startsWith('      '); j++) text += optionLines[j];
    const foreign = owner !== undefined && owner !== command && (COMMANDS as readonly string[]).includes(owner) && !text.includes(`${command}:`);
    const relevant = !foreign && (flags.has(name) || name === command || optionLines[i].includes(`${command}:`));
    if (!relevant) continue;
    options.push(optionLines[i]);
    while (optionLines[i + 1]?.startsWith('      ')) options.push(optionLines[++i]);
  }
  return ['usage:', ...mine, '', ...options, '', body.at(-1)].join('\n');
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help', topic: command === 'help' ? rest[0] : undefined };
  if (rest.includes('--help') || rest.includes('-h')) return { command: 'help', topic: command };
  if (command === '--version' || command === '-v' || command === 'version') return { command: 'version' };
  if (command === 'validate') {
    const positional = rest.filter((a) => !a.startsWith('-'));
    const flags = rest.filter((a) => a.startsWith('-'));
    if (flags.length) throw new UsageError(`validate: unknown option ${flags[0]} (validate takes only manifest files)`);
    if (positional.length === 0) throw new UsageError('validate: give at least one manifest file');
    return { command: 'validate', manifests: positional };
  }
  if (command === 'run') return parseRun(rest);
  if (command === 'test') return parseTest(rest);
  if (command === 'doctor') return parseDoctor(rest);
  if (command === 'systemd') return parseSystemd(rest);
  if (command === 'migrate') return parseMigrate(rest);
  if (command === 'monitor') return parseMonitor(rest);
  throw new UsageError(`unknown command "${command}"${didYouMean(command, COMMANDS)} (known: run, validate, test, doctor, systemd, migrate, monitor, --version; \`fieldgate <command> --help\` for its options)`);
}

function parseRun(rest: readonly string[]): RunArgs {
  const out: RunArgs = { command: 'run', manifest: '', sim: false, real: [] };
  out.manifest = parseFlags('run', rest, {
    '--sim': () => (out.sim = true),
    '--real': (v) => out.real.push(v()),
    '--data-dir': (v) => (out.dataDir = v()),
    '--log-level': (v) => {
      const level = v();
      if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`run: --log-level must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
      out.logLevel = level as LogLevel;
    },
    '--log-format': (v) => {
      const format = v();
      if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`run: --log-format must be one of ${LOG_FORMATS.join(', ')} (got "${format}")${didYouMean(format, LOG_FORMATS)}`);
      out.logFormat = format as LogFormat;
    },
  });
  return out;
}

function parseTest(rest: readonly string[]): TestArgs {
  const out: TestArgs = { command: 'test', scenarios: [], reporter: 'tap', timeoutS: 600 };
  out.scenarios = parseFlagsN('test', rest, {
    '--reporter': (v) => {
      const r = v();
      if (r !== 'tap' && r !== 'junit') throw new UsageError(`test: --reporter must be tap or junit (got "${r}")${didYouMean(r, ['tap', 'junit'])}`);
      out.reporter = r;
    },
    '--out': (v) => (out.out = v()),
    '--log-level': (v) => {
      const level = v();
      if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`test: --log-level must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
      out.logLevel = level as LogLevel;
    },
    '--timeout': (v) => (out.timeoutS = positiveInt('test', '--timeout', v())),
  });
  if (out.scenarios.length === 0) throw new UsageError('test: give at least one scenario file');
  return out;
}

type FlagHandler = (value: () => string) => void;

// Shared by run, doctor and systemd: --flag value, --flag=value, and exactly one positional manifest.
function parseFlags(command: string, rest: readonly string[], flags: Record<string, FlagHandler>): string {
  const positional = parseFlagsN(command, rest, flags);
  if (positional.length !== 1) throw new UsageError(`${command}: give exactly one manifest file`);
  return positional[0];
}

// --flag value, --flag=value; returns the positional arguments.
function parseFlagsN(command: string, rest: readonly string[], flags: Record<string, FlagHandler>): string[] {
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? rest[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${command}: ${flag} needs a value`);
      return v;
    };
    const handler = flags[flag];
    if (handler) handler(value);
    else if (a.startsWith('-')) throw new UsageError(`${command}: unknown option ${flag}${didYouMean(flag, Object.keys(flags))} (\`fieldgate ${command.split(' ')[0]} --help\` lists them)`);
    else positional.push(a);
  }
  return positional;
}

function positiveInt(command: string, flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${command}: ${flag} must be a positive integer (got "${text}")`);
  return n;
}

function parseDoctor(rest: readonly string[]): DoctorArgs {
  const out: DoctorArgs = { command: 'doctor', manifest: '', sim: false, real: [], timeoutMs: 2000 };
  out.manifest = parseFlags('doctor', rest, {
    '--sim': () => (out.sim = true),
    '--real': (v) => out.real.push(v()),
    '--data-dir': (v) => (out.dataDir = v()),
    '--timeout': (v) => (out.timeoutMs = positiveInt('doctor', '--timeout', v())),
    '--user': (v) => (out.user = v()),
  });
  return out;
}

function parseSystemd(rest: readonly string[]): SystemdArgs {
  const out: SystemdArgs = { command: 'systemd', manifest: '', user: 'fieldgate', sim: false, real: [], watchdogSec: 30 };
  out.manifest = parseFlags('systemd', rest, {
    '--user': (v) => (out.user = v()),
    '--write': (v) => (out.write = v()),
    '--data-dir': (v) => (out.dataDir = v()),
    '--node': (v) => (out.node = v()),
    '--entry': (v) => (out.entry = v()),
    '--watchdog-sec': (v) => (out.watchdogSec = positiveInt('systemd', '--watchdog-sec', v())),
    '--sim': () => (out.sim = true),
    '--real': (v) => out.real.push(v()),
  });
  if (!/^[a-z_][a-z0-9_-]*\$?$/i.test(out.user)) throw new UsageError(`systemd: --user must be a user name (got "${out.user}")`);
  return out;
}

const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function parseMigrate(rest: readonly string[]): MigrateArgs {
  const [action, ...more] = rest;
  if (action !== 'sqlite-to-postgres') throw new UsageError(`migrate: unknown migration "${action ?? ''}" (known: sqlite-to-postgres)`);
  const out: MigrateArgs = { command: 'migrate', action, sqliteFile: '', url: '', batch: 1000, table: 'can_messages', sourceTable: 'can_messages' };
  const positional = parseFlagsN('migrate', more, {
    '--batch': (v) => (out.batch = positiveInt('migrate', '--batch', v())),
    '--table': (v) => (out.table = v()),
    '--source-table': (v) => (out.sourceTable = v()),
  });
  if (positional.length !== 2) throw new UsageError('migrate: give the SQLite file and the PostgreSQL connection string');
  [out.sqliteFile, out.url] = positional;
  if (!/^postgres(ql)?:\/\//.test(out.url)) throw new UsageError('migrate: the second argument must be a postgres:// or postgresql:// connection string');
  if (out.batch > 50_000) throw new UsageError('migrate: --batch must be at most 50000');
  for (const [flag, name] of [['--table', out.table], ['--source-table', out.sourceTable]]) {
    if (!SQL_IDENTIFIER.test(name)) throw new UsageError(`migrate: ${flag} must be a plain lower-case SQL identifier (got "${name}")`);
  }
  return out;
}

function parseMonitor(rest: readonly string[]): MonitorArgs {
  const [action, ...more] = rest;
  if (action !== 'live' && action !== 'can') throw new UsageError(`monitor: unknown view "${action ?? ''}" (known: live, can)`);
  const out: MonitorArgs = { command: 'monitor', action, url: '', intervalMs: action === 'live' ? 1000 : 5000 };
  const flags: Record<string, FlagHandler> = {
    '--api-key': (v) => (out.apiKey = v()),
    '--interval': (v) => (out.intervalMs = positiveInt('monitor', '--interval', v())),
  };
  if (action === 'live') flags['--keys'] = (v) => (out.keys = v());
  const positional = parseFlagsN('monitor', more, flags);
  if (positional.length !== 1) throw new UsageError(`monitor ${action}: give the URL of a running fieldgate API (http://host:port)`);
  out.url = positional[0];
  if (!/^(https?|wss?):\/\//.test(out.url)) throw new UsageError(`monitor ${action}: the URL must start with http://, https://, ws:// or wss:// (got "${out.url}")`);
  return out;
}
