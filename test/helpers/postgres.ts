// A throwaway PostgreSQL for tests: FIELDGATE_TEST_DATABASE_URL (a server CI started) gets a fresh
// database per call; otherwise Debian's binaries (apt-get install postgresql) run a cluster in a temp
// dir on 127.0.0.1 and a free port, as the `postgres` user when the tests run as root. Torn down by stop().
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';

export interface TestPostgres {
  /** Connection string of an empty database. */
  url: string;
  stop(): Promise<void>;
  /** Stops / starts the server again on the same port and data (local clusters only, not FIELDGATE_TEST_DATABASE_URL). */
  halt?(): void;
  resume?(): void;
}

const EXTERNAL = process.env.FIELDGATE_TEST_DATABASE_URL;

function binDir(): string | null {
  if (process.env.FIELDGATE_PG_BIN) return process.env.FIELDGATE_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function postgresUser(): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return r.status === 0 && g.status === 0 ? { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) } : null;
}

/** False when a PostgreSQL can be had, else why not (for `test(..., { skip })`). */
export const postgresSkip: string | false = (() => {
  if (EXTERNAL) return false;
  if (!binDir()) return 'PostgreSQL binaries not found (apt-get install -y postgresql, or set FIELDGATE_TEST_DATABASE_URL / FIELDGATE_PG_BIN)';
  if (isRoot && !postgresUser()) return 'running as root without a "postgres" user to run the server as (install Debian\'s postgresql package)';
  return false;
})();


function run(cmd: string, args: string[]): void {
  const [c, a] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(c, a, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout || r.error}`);
}

export async function startPostgres(): Promise<TestPostgres> {
  if (postgresSkip) throw new Error(postgresSkip);
  const pg = (await import('pg')).default;
  const name = `fieldgate_test_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  if (EXTERNAL) {
    const admin = new pg.Client({ connectionString: EXTERNAL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(EXTERNAL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async stop() {
        const c = new pg.Client({ connectionString: EXTERNAL });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const bin = binDir()!;
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-pg-'));
  if (isRoot) {
    const u = postgresUser()!;
    chownSync(dir, u.uid, u.gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const port = await freePort();
  // Durability off: a test cluster lives for seconds.
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  try {
    run(join(bin, 'initdb'), ['-D', data, '-U', 'fieldgate', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', '-t', '30', 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const url = `postgres://fieldgate@127.0.0.1:${port}/postgres`;
  return {
    url,
    halt: () => run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']),
    resume: () => run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', '-t', '30', 'start']),
    async stop() {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** One query on its own connection (tests reading what a plugin wrote). */
export async function pgQuery<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
