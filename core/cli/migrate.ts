// `fieldgate migrate sqlite-to-postgres`: the command's wiring only. The migration itself needs the
// pg-history table definition, so it lives in plugins/pg-history/migrate.ts and reaches the CLI
// through CliEnvironment.tools (bin/fieldgate.ts passes it in); core imports no plugin.
import type { MigrateArgs } from './args.ts';

export interface MigrateProgress {
  done: number;
  total: number;
  /** Epoch ms when this run started copying. */
  startedAt: number;
}

export interface MigrateIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Called after each batch and once with `final` at the end; drawn as a bar on a TTY, periodic lines otherwise. */
  progress: (p: MigrateProgress, final?: boolean) => void;
}

export type SqliteToPostgres = (args: MigrateArgs, io: MigrateIo) => Promise<number>;

export interface MigrateTools {
  /** Loads the implementation (lazily, so `pg` and sql.js load only for this command). */
  sqliteToPostgres?: () => Promise<SqliteToPostgres>;
}

/** `[#########...........]  45.0%  4,500/10,000 rows  12,345 rows/s` (pure; width is the bar's). */
export function formatProgress(p: MigrateProgress, now: number, width = 30): string {
  const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(ratio * width);
  const secs = Math.max(0.001, (now - p.startedAt) / 1000);
  const rate = Math.round(p.done / secs);
  const n = (x: number) => x.toLocaleString('en-US');
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(1).padStart(5)}%  ${n(p.done)}/${n(p.total)} rows  ${n(rate)} rows/s`;
}

/**
 * A progress sink: on a TTY one line redrawn in place (\r), at most every 100 ms; otherwise a plain
 * line at most every `plainEveryMs` and one at the end.
 */
export function progressReporter(write: (text: string) => void, isTty: boolean, clock: () => number = Date.now, plainEveryMs = 2000): MigrateIo['progress'] {
  let last = 0;
  return (p, final = false) => {
    const now = clock();
    if (isTty) {
      if (!final && now - last < 100) return;
      last = now;
      write(`\r\x1b[2K${formatProgress(p, now)}${final ? '\n' : ''}`);
      return;
    }
    if (!final && now - last < plainEveryMs) return;
    last = now;
    write(`migrate: ${formatProgress(p, now)}\n`);
  };
}

export async function migrateCommand(args: MigrateArgs, tools: MigrateTools | undefined, io: { out: (l: string) => void; err: (l: string) => void; stderrIsTty?: boolean; writeErr?: (t: string) => void }): Promise<number> {
  const load = tools?.sqliteToPostgres;
  if (!load) {
    io.err('fieldgate: migrate sqlite-to-postgres is not available in this build (the pg-history plugin is not bundled)');
    return 2;
  }
  const impl = await load();
  const writeErr = io.writeErr ?? ((t: string) => void process.stderr.write(t));
  return await impl(args, { out: io.out, err: io.err, progress: progressReporter(writeErr, io.stderrIsTty ?? Boolean(process.stderr.isTTY)) });
}
