// GET /api/state and durable POST /api/command, side by side in one run: fieldgate running the real
// plc-remote-lab manifest on its simulators (20 live keys) against the seed's design (Flask + sqlite3
// WAL, bench/baselines/seed_state_server.py) serving the same state. Load comes from autocannon in a
// separate process, 32 keep-alive connections on loopback; every answer must be 2xx or the run fails.
// Usage: node --import tsx bench/api-vs-seed.ts [seconds] [--deno] [--dist] [--unit-flags]
//   --dist: run fieldgate from `dist/` (npm run build first), as installed on a device.
//   --unit-flags: with the systemd unit's V8 flags (core/cli/v8-flags.ts), as the unit runs it.
//   --deno: run fieldgate on Deno (node_modules/.bin/deno) instead of Node.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { V8_FLAGS } from '../core/cli/v8-flags.ts';

const args = process.argv.slice(2);
const SECONDS = Number(args.find((a) => /^\d+$/.test(a)) ?? 8);
const ON_DENO = args.includes('--deno');
const FROM_DIST = args.includes('--dist');
const FLAGS: readonly string[] = args.includes('--unit-flags') ? V8_FLAGS : [];
const ROOT = resolve(import.meta.dirname ?? '.', '..');
const PYTHON = process.env.FIELDGATE_PYTHON ?? '/usr/bin/python3';
const KEY = 'bench-key';

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    }).on('error', rej);
  });
}

async function waitFor(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before answering`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${url} within 30 s`);
}

interface Load { rps: number; p50: number; p99: number; total: number; non2xx: number; errors: number }

function load(url: string, post?: { body: string; key?: string }): Load {
  const cli = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
  const a = ['-c', '32', '-d', String(SECONDS), '-j'];
  if (post) {
    a.push('-m', 'POST', '-H', 'content-type=application/json', '-b', post.body);
    if (post.key) a.push('-H', `x-api-key=${post.key}`);
  }
  const r = spawnSync(process.execPath, [cli, ...a, url], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`autocannon failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number; timeouts: number };
  return { rps: j.requests.average, p50: j.latency.p50, p99: j.latency.p99, total: j.requests.total, non2xx: j.non2xx, errors: j.errors + j.timeouts };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((res) => {
    child.once('close', () => res());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

const work = mkdtempSync(join(tmpdir(), 'fg-bench-api-'));
const children: ChildProcess[] = [];
let failed = false;
try {
  // The lab manifest as shipped, with only the rate limit lifted (600/min would answer 429s).
  const manifest = JSON.parse(readFileSync(join(ROOT, 'manifests', 'plc-remote-lab.json'), 'utf8')) as { plugins: { use: string; config: Record<string, unknown> }[] };
  const api = manifest.plugins.find((p) => p.use === 'http-api')!;
  api.config.rateLimit = { max: 1_000_000_000, timeWindowMs: 60_000 };
  const manifestFile = join(work, 'plc-remote-lab.json');
  writeFileSync(manifestFile, JSON.stringify(manifest));

  const fgPort = await freePort();
  const env = { ...process.env, API_HOST: '127.0.0.1', API_PORT: String(fgPort), API_KEY: KEY };
  const runArgs = ['run', manifestFile, '--sim', '--data-dir', join(work, 'fg-data'), '--log-level', 'warn'];
  let cmd: string[];
  if (ON_DENO) cmd = [join(ROOT, 'node_modules', '.bin', 'deno'), 'run', '-A', ...(FLAGS.length ? [`--v8-flags=${FLAGS.join(',')}`] : []), join(ROOT, 'bin', 'fieldgate.ts'), ...runArgs];
  else if (FROM_DIST) {
    if (!existsSync(join(ROOT, 'dist', 'bin', 'fieldgate.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    cmd = [process.execPath, ...FLAGS, join(ROOT, 'dist', 'bin', 'fieldgate.js'), ...runArgs];
  } else cmd = [process.execPath, ...FLAGS, '--import', 'tsx', join(ROOT, 'bin', 'fieldgate.ts'), ...runArgs];
  const fg = spawn(cmd[0]!, cmd.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(fg);
  const fgBase = `http://127.0.0.1:${fgPort}`;
  await waitFor(`${fgBase}/api/state`, fg, 'fieldgate');
  // Let the simulators fill the state (the PLC and the sensor publish within a few seconds).
  let state: Record<string, unknown> = {};
  for (let i = 0; i < 50 && Object.keys(state).length < 15; i++) {
    state = await (await fetch(`${fgBase}/api/state`, { headers: { 'x-api-key': KEY } })).json() as Record<string, unknown>;
    if (Object.keys(state).length < 15) await new Promise((r) => setTimeout(r, 200));
  }
  const keys = Object.keys(state).length;
  if (keys < 15) throw new Error(`fieldgate's state has only ${keys} keys: the lab is not running`);
  const stateBytes = JSON.stringify(state).length;

  // The seed serves the same values from its table.
  const seedFile = join(work, 'seed-state.json');
  writeFileSync(seedFile, JSON.stringify(state));
  const seedPort = await freePort();
  const seed = spawn(PYTHON, [join(ROOT, 'bench', 'baselines', 'seed_state_server.py'), join(work, 'seed.db'), String(seedPort), seedFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(seed);
  const seedBase = `http://127.0.0.1:${seedPort}`;
  await waitFor(`${seedBase}/api/state`, seed, 'the seed baseline (python3-flask installed?)');
  const seedState = await (await fetch(`${seedBase}/api/state`)).json() as Record<string, unknown>;
  if (Object.keys(seedState).length !== keys) throw new Error(`the seed serves ${Object.keys(seedState).length} keys, fieldgate ${keys}`);

  const runtime = `${ON_DENO ? 'Deno' : `Node ${process.version}${FROM_DIST ? ' (dist/)' : ' (tsx)'}`}, V8 flags: ${FLAGS.join(' ') || 'none'}`;
  console.log(`# GET /api/state and durable POST /api/command, ${SECONDS} s each, 32 connections, autocannon in its own process`);
  console.log(`# fieldgate: plc-remote-lab --sim on ${runtime}, ${keys} keys (${stateBytes} B); seed: Flask ${seedVersion()} + sqlite3 WAL, same values`);
  console.log(`# ${cpus().length} x ${cpus()[0]?.model ?? '?'}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
  const body = JSON.stringify({ setpoint: 42 });
  const rows: [string, Load, Load][] = [];
  rows.push(['GET /api/state', load(`${seedBase}/api/state`), load(`${fgBase}/api/state`)]);
  rows.push(['POST /api/command (durable)', load(`${seedBase}/api/command`, { body }), load(`${fgBase}/api/command`, { body, key: KEY })]);
  console.log(`${'case'.padEnd(28)} ${'seed req/s'.padStart(10)} ${'p99'.padStart(7)} | ${'fieldgate'.padStart(10)} ${'p50'.padStart(6)} ${'p99'.padStart(6)} | ratio`);
  for (const [name, s, f] of rows) {
    console.log(`${name.padEnd(28)} ${s.rps.toFixed(0).padStart(10)} ${(s.p99 + ' ms').padStart(7)} | ${f.rps.toFixed(0).padStart(10)} ${(f.p50 + ' ms').padStart(6)} ${(f.p99 + ' ms').padStart(6)} | ${(f.rps / s.rps).toFixed(1)}x`);
    for (const [who, l] of [['seed', s], ['fieldgate', f]] as const) {
      if (l.non2xx > 0 || l.errors > 0 || l.total === 0) {
        failed = true;
        console.log(`  NOT A MEASUREMENT: ${who} answered ${l.non2xx} non-2xx and ${l.errors} errors/timeouts of ${l.total}`);
      }
    }
  }
  const after = await (await fetch(`${fgBase}/api/state`, { headers: { 'x-api-key': KEY } })).json() as Record<string, unknown>;
  if (after.setpoint !== 42) {
    failed = true;
    console.log(`  fieldgate's setpoint is ${JSON.stringify(after.setpoint)} after the POST run, not 42`);
  }
} finally {
  await Promise.all(children.map(stop));
  rmSync(work, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;

function seedVersion(): string {
  const r = spawnSync(PYTHON, ['-c', 'import flask, importlib.metadata as m; print(m.version("flask"))'], { encoding: 'utf8' });
  return r.stdout.trim() || '?';
}
