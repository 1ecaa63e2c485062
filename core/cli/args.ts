// Command-line parsing for `fieldgate`: small and strict, so a typo in a flag is an error.
import { LOG_LEVELS, type LogLevel } from '../log.ts';

export interface RunArgs {
  command: 'run';
  manifest: string;
  sim: boolean;
  real: string[];
  dataDir?: string;
  logLevel?: LogLevel;
}

export type CliArgs =
  | RunArgs
  | { command: 'validate'; manifest: string }
  | { command: 'version' }
  | { command: 'help' };

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage:
  fieldgate run <manifest.json> [--sim] [--real <adapter-id>]... [--data-dir DIR] [--log-level LEVEL]
  fieldgate validate <manifest.json>
  fieldgate --version

  --sim               run every adapter on its bundled simulator (started in this process)
  --real <id>         with --sim, keep adapter <id> on real hardware (repeatable)
  --data-dir DIR      where the store and history live (default: FIELDGATE_DATA_DIR, the manifest's
                      "dataDir", or ./data/<manifest name>)
  --log-level LEVEL   ${LOG_LEVELS.join(' | ')} (default: the manifest's log.level, or info)

exit codes: 0 ok, 1 invalid manifest or failed run, 2 unreadable file or bad usage`;

export function parseArgs(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command === '--version' || command === '-v' || command === 'version') return { command: 'version' };
  if (command === 'validate') {
    const positional = rest.filter((a) => !a.startsWith('-'));
    const flags = rest.filter((a) => a.startsWith('-'));
    if (flags.length) throw new UsageError(`validate: unknown option ${flags[0]}`);
    if (positional.length !== 1) throw new UsageError('validate: give exactly one manifest file');
    return { command: 'validate', manifest: positional[0] };
  }
  if (command === 'run') return parseRun(rest);
  throw new UsageError(`unknown command "${command}" (known: run, validate, --version)`);
}

function parseRun(rest: readonly string[]): RunArgs {
  const out: RunArgs = { command: 'run', manifest: '', sim: false, real: [] };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? rest[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`run: ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--sim':
        out.sim = true;
        break;
      case '--real':
        out.real.push(value());
        break;
      case '--data-dir':
        out.dataDir = value();
        break;
      case '--log-level': {
        const level = value();
        if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`run: --log-level must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
        out.logLevel = level as LogLevel;
        break;
      }
      default:
        if (a.startsWith('-')) throw new UsageError(`run: unknown option ${a}`);
        positional.push(a);
    }
  }
  if (positional.length !== 1) throw new UsageError('run: give exactly one manifest file');
  out.manifest = positional[0];
  return out;
}
