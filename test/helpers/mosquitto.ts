// A throwaway MQTT broker for tests: Debian's `mosquitto` (apt-get install mosquitto) on 127.0.0.1
// and a free port, with a generated config in a temp dir (anonymous, no persistence). kill() stops it
// abruptly (an outage), restart() brings it back on the same port, stop() tears it down.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';

export interface TestMosquitto {
  url: string;
  port: number;
  /** SIGKILL by default (sessions lost); SIGTERM saves them when started with `persistent`. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const BIN = process.env.FIELDGATE_MOSQUITTO ?? (spawnSync('sh', ['-c', 'command -v mosquitto || ls /usr/sbin/mosquitto'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] || 'mosquitto');

/** False when mosquitto can run, else why not (for `test(..., { skip })`). */
export const mosquittoSkip: string | false = (() => {
  const r = spawnSync(BIN, ['-h'], { encoding: 'utf8' });
  // `mosquitto -h` prints its usage and exits 3; a missing binary has no output.
  return /mosquitto version/.test(`${r.stdout}${r.stderr}`) ? false : `mosquitto not found (apt-get install -y mosquitto, or set FIELDGATE_MOSQUITTO): ${r.error?.message ?? r.stderr}`;
})();

/** False when Debian's mosquitto_sub (package mosquitto-clients) runs, else why not. */
export const mosquittoSubSkip: string | false = (() => {
  const r = spawnSync('mosquitto_sub', ['--help'], { encoding: 'utf8' });
  return /mosquitto_sub/.test(`${r.stdout}${r.stderr}`) ? false : `mosquitto_sub not found (apt-get install -y mosquitto-clients): ${r.error?.message ?? r.stderr}`;
})();

/** Resolves once the port accepts a TCP connection; rejects after `ms`. */
async function waitListening(port: number, ms: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port });
      sock.setTimeout(500, () => sock.destroy());
      sock.on('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto on port ${port} did not listen within ${ms} ms: ${log()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface MosquittoOptions {
  maxPacketBytes?: number;
  /** Keep sessions across a SIGTERM restart (persistence file in the temp dir). */
  persistent?: boolean;
  /** PEM files: a TLS listener (mqtts://) that requires a client certificate signed by `ca`. */
  tls?: { ca: string; cert: string; key: string };
  /** Users and passwords (mosquitto_passwd); anonymous clients are then refused. */
  users?: Record<string, string>;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<TestMosquitto> {
  if (mosquittoSkip) throw new Error(mosquittoSkip);
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const passwd = join(dir, 'passwd');
  if (options.users) {
    writeFileSync(passwd, '');
    for (const [user, password] of Object.entries(options.users)) {
      const r = spawnSync('mosquitto_passwd', ['-b', passwd, user, password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
    }
  }
  writeFileSync(conf, [
    // Run as root (the test's user) so the broker can read files in the 0700 temp dir.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    `listener ${port} 127.0.0.1`,
    ...(options.tls ? [`cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`, 'require_certificate true'] : []),
    ...(options.users ? ['allow_anonymous false', `password_file ${passwd}`] : ['allow_anonymous true']),
    ...(options.persistent ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 0'] : ['persistence false']),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'max_queued_messages 1000000',
    `max_packet_size ${options.maxPacketBytes ?? 1048576}`,
    '',
  ].join('\n'));
  let child: ChildProcess | null = null;
  let output = '';
  const launch = async (): Promise<void> => {
    output = '';
    const c = spawn(BIN, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d) => (output += d));
    c.stderr!.on('data', (d) => (output += d));
    child = c;
    await waitListening(port, 10_000, c, () => output.slice(-2000));
  };
  const kill = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
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
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
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
