// A throwaway Redis for tests: Debian's `redis-server` (apt-get install redis-server) on 127.0.0.1
// and a free port, without persistence (--save '' --appendonly no), in a temp dir. kill() stops it
// abruptly (to test an outage), restart() brings it back on the same port, stop() tears it down.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';

export interface TestRedis {
  url: string;
  port: number;
  /** SIGKILLs the server (no shutdown, data lost) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const BIN = process.env.FIELDGATE_REDIS_SERVER ?? 'redis-server';

/** False when redis-server can run, else why not (for `test(..., { skip })`). */
export const redisSkip: string | false = (() => {
  const r = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? false : `redis-server not found (apt-get install -y redis-server, or set FIELDGATE_REDIS_SERVER): ${r.error?.message ?? r.stderr}`;
})();


/** Resolves once a PING on the port answers PONG; rejects after `ms`. */
async function waitPong(port: number, ms: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port });
      let buf = '';
      sock.setTimeout(500, () => sock.destroy());
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n')) {
          sock.destroy();
          resolve(buf.startsWith('+PONG'));
        }
      });
      sock.on('error', () => resolve(false));
      sock.on('close', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${ms} ms: ${log()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startRedis(): Promise<TestRedis> {
  if (redisSkip) throw new Error(redisSkip);
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  let output = '';
  const launch = async (): Promise<void> => {
    output = '';
    const c = spawn(BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d) => (output += d));
    c.stderr!.on('data', (d) => (output += d));
    child = c;
    await waitPong(port, 10_000, c, () => output.slice(-2000));
  };
  const kill = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await exited;
  };
  try {
    await launch();
  } catch (err) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: launch,
    async stop() {
      try {
        await kill();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
