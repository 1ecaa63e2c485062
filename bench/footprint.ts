// Footprint on the device, side by side in one run: time to ready, peak RSS during start (VmHWM),
// RSS at fixed times after ready and the private part of the last one (smaps_rollup: pages no other
// process maps; the node binary's ~46 MB of code count as shared here only because other node
// processes, this benchmark among them, map it too; Deno's binary is private), for Node-RED with no flows
// (installed into a temp folder by this benchmark) and fieldgate's built output on each seed manifest
// with its simulators: the bundled build (`npm run build`) and, for comparison, the unbundled one
// (`--no-bundle`), on Node with and without the V8 flags of the systemd unit, and on Deno (sources and bundle).
//   node --import tsx bench/footprint.ts            (FOOTPRINT_SECONDS=60 by default; ONLY=lab,node-red)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { V8_FLAGS } from '../core/cli/v8-flags.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(process.env.FOOTPRINT_SECONDS ?? 60);
const only = process.env.ONLY?.split(',');
const deno = join(root, 'node_modules', '.bin', 'deno');

interface Target {
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  ready: RegExp;
}

/** RSS minus the pages this process shares (Private_Clean + Private_Dirty), in MB. */
function privateMb(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return (kb('Private_Clean') + kb('Private_Dirty')) / 1024;
  } catch {
    return NaN;
  }
}

function vm(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** RSS of the process and its children (deno task / npm wrappers are not used, but be safe). */
async function measure(t: Target): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fg-footprint-'));
  const started = performance.now();
  const child = spawn(t.cmd, t.args, {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', API_PORT: '0', MODBUS_TCP_PORT: '0', FIELDGATE_DATA_DIR: dataDir, ...t.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const readyAt = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${t.name}: not ready within 30 s:\n${out.slice(-2000)}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (t.ready.test(out)) {
        clearTimeout(timer);
        resolve(performance.now());
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${t.name}: exited with ${code} before ready:\n${out.slice(-2000)}`)));
  });
  const pid = child.pid!;
  const samples: Record<string, number> = {};
  const marks = [5, 20, 45, 60].filter((s) => s <= seconds);
  let peakAfterStart = NaN;
  let privateLast = NaN;
  for (const mark of marks) {
    await new Promise((r) => setTimeout(r, Math.max(0, readyAt + mark * 1000 - performance.now())));
    samples[`${mark}s`] = vm(pid, 'VmRSS');
    if (mark === 5) peakAfterStart = vm(pid, 'VmHWM');
    privateLast = privateMb(pid);
  }
  child.removeAllListeners('exit');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('close', r));
  rmSync(dataDir, { recursive: true, force: true });
  return {
    process: t.name,
    ready: `${((readyAt - started) / 1000).toFixed(2)} s`,
    'peak (start)': `${peakAfterStart.toFixed(0)} MB`,
    ...Object.fromEntries(marks.map((m) => [`RSS ${m} s`, `${samples[`${m}s`].toFixed(0)} MB`])),
    [`private ${marks.at(-1)} s`]: `${privateLast.toFixed(0)} MB`,
  };
}

function nodeRed(): Target | null {
  const dir = join(tmpdir(), 'fg-footprint-node-red');
  const red = join(dir, 'node_modules', 'node-red', 'red.js');
  if (!existsSync(red)) {
    console.log(`installing node-red into ${dir} ...`);
    mkdirSync(dir, { recursive: true });
    const r = spawnSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', 'node-red'], { stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(red)) return null;
  }
  const userDir = mkdtempSync(join(tmpdir(), 'fg-footprint-nr-user-'));
  const version = JSON.parse(readFileSync(join(dir, 'node_modules', 'node-red', 'package.json'), 'utf8')).version as string;
  return { name: `Node-RED ${version}, no flows`, cmd: process.execPath, args: [red, '-u', userDir, '-p', '0'], ready: /Server now running at|Started flows/ };
}

if (!existsSync(join(root, 'dist', 'bin', 'fieldgate.js'))) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
// The unbundled build for comparison, laid out like an install (dist/ beside node_modules/).
const plainDir = mkdtempSync(join(tmpdir(), 'fg-footprint-plain-'));
symlinkSync(join(root, 'node_modules'), join(plainDir, 'node_modules'), 'dir');
spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--no-bundle', '--out', join(plainDir, 'dist')], { stdio: 'inherit' });
process.on('exit', () => rmSync(plainDir, { recursive: true, force: true }));
const dist = (manifest: string, flags: readonly string[] = [], entry = 'dist/bin/fieldgate.js'): string[] => [...flags, entry, 'run', `manifests/${manifest}.json`, '--sim'];
const plain = join(plainDir, 'dist', 'bin', 'fieldgate.js');
const oldFlags = ['--max-semi-space-size=1'];
const ready = /"msg":"ready: /;
const targets: Array<Target | null> = [
  nodeRed(),
  { name: 'fieldgate unbundled dist, plc-remote-lab (--max-semi-space-size=1)', cmd: process.execPath, args: dist('plc-remote-lab', oldFlags, plain), ready },
  { name: 'fieldgate dist, plc-remote-lab (plain node)', cmd: process.execPath, args: dist('plc-remote-lab'), ready },
  { name: 'fieldgate dist, plc-remote-lab (--max-semi-space-size=1)', cmd: process.execPath, args: dist('plc-remote-lab', oldFlags), ready },
  { name: 'fieldgate dist, plc-remote-lab (unit V8 flags)', cmd: process.execPath, args: dist('plc-remote-lab', V8_FLAGS), ready },
  { name: 'fieldgate dist, example (unit V8 flags)', cmd: process.execPath, args: dist('example', V8_FLAGS), ready },
  { name: 'fieldgate dist, neasmart-gateway (unit V8 flags)', cmd: process.execPath, args: dist('neasmart-gateway', V8_FLAGS), ready, env: { MODBUS_TCP_HOST: '127.0.0.1' } },
  { name: 'fieldgate dist, signal-recorder (unit V8 flags)', cmd: process.execPath, args: dist('signal-recorder', V8_FLAGS), ready },
  { name: 'fieldgate dist, cea-can-pipeline (unit V8 flags)', cmd: process.execPath, args: dist('cea-can-pipeline', V8_FLAGS), ready },
  { name: 'fieldgate dist, odoo-batching (unit V8 flags)', cmd: process.execPath, args: dist('odoo-batching', V8_FLAGS), ready, env: { ODOO_PASSWORD: 'admin' } },
  { name: 'fieldgate Deno, plc-remote-lab', cmd: deno, args: ['run', '-A', '--no-check', `--v8-flags=${V8_FLAGS.join(',')}`, 'bin/fieldgate.ts', 'run', 'manifests/plc-remote-lab.json', '--sim'], ready },
  // The same bundle as on Node: no TypeScript to transpile, far fewer modules for Deno's loader.
  { name: 'fieldgate Deno dist, plc-remote-lab', cmd: deno, args: ['run', '-A', `--v8-flags=${V8_FLAGS.join(',')}`, ...dist('plc-remote-lab')], ready },
];

console.log(`footprint: ${cpus()[0]?.model ?? '?'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, samples up to ${seconds} s after ready`);
console.log(`unit V8 flags: ${V8_FLAGS.join(' ')}`);
const rows: Record<string, string>[] = [];
for (const t of targets) {
  if (!t || (only && !only.some((o) => t.name.includes(o)))) continue;
  try {
    const row = await measure(t);
    rows.push(row);
    console.log(JSON.stringify(row));
  } catch (err) {
    console.log(`${t.name}: FAILED: ${(err as Error).message}`);
  }
}
console.table(rows);
console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
