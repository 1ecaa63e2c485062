// Soak: manifests/plc-remote-lab.json and manifests/cea-can-pipeline.json on their simulators, each on
// a FakeClock driven through simulated days (commands through the real API, CAN at 100 frames/s, audit,
// trend and history retention), printing memory, store size and history disk use every simulated hour,
// then a verdict: flat after the first day. `--only both` (the default) runs each manifest in its own
// child process (bench/soak-children.ts) so that each has its own heap, RSS and CPU.
// Usage: node --expose-gc --import tsx bench/soak.ts [--only lab|cea|both] [--days 7] [--can-fps 100]
//          [--max-real-min 0] [--command-every-s 5] [--history-retention-h 24] [--segment-min 10] [--keep] [--heap-snapshot-hours 2,8]
//          [--node-defaults]   (children run with the systemd unit's V8 flags, core/cli/v8-flags.ts, unless this)
//        (or: deno run -A --v8-flags=--expose-gc bench/soak.ts ...)
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock-fake.ts';
import { createRuntime, type Runtime } from '../core/host/runtime.ts';
import { LogRoot } from '../core/log.ts';
import { loadManifest } from '../core/manifest/load.ts';
import type { Manifest } from '../core/manifest/types.ts';
import { adapterCatalog } from '../adapters/catalog.ts';
import { pluginCatalog } from '../plugins/catalog.ts';
import { AUDIT_SERIES } from '../plugins/http-api/audit-retention.ts';
import { V8_FLAGS } from '../core/cli/v8-flags.ts';
import { runChildren } from './soak-children.ts';
import { parseSoakArgs, type Sample, verdict } from './soak-verdict.ts';

const HOUR = 3_600_000;
const MB = 1024 * 1024;
const repoRoot = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const args = parseSoakArgs(process.argv.slice(2));

/** Greenhouse rounds carry 16 frames (5 per room box and 1 for the lab). */
const FRAMES_PER_ROUND = 16;

async function dirBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return { bytes, files };
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = await dirBytes(p);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      try {
        bytes += (await stat(p)).size;
        files++;
      } catch {
        // pruned between readdir and stat
      }
    }
  }
  return { bytes, files };
}

/** Awaits `p` while moving the clock in small steps: durable history appends commit on the clock. */
async function driven<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => (done = true));
  for (let i = 0; i < 10_000 && !done; i++) await clock.advance(5);
  return settled;
}

function tune(manifest: Manifest, name: string): void {
  manifest.history = { segmentMs: args.segmentMin * 60_000, retentionMs: args.historyRetentionH * HOUR };
  for (const p of manifest.plugins) {
    // The soak's operator sends hundreds of commands per real minute (time runs ~300x faster).
    if (p.use === 'http-api') (p.config as Record<string, unknown>).rateLimit = { max: 1_000_000, timeWindowMs: 60_000 };
  }
  if (name === 'cea') {
    const can = manifest.adapters.find((a) => a.kind === 'can')!;
    const sim = (can.options as { sim: { periodMs: number } }).sim;
    sim.periodMs = Math.max(1, Math.round((1000 * FRAMES_PER_ROUND) / args.canFps));
  }
}

async function open(file: string, name: string, clock: FakeClock, dataDir: string): Promise<Runtime> {
  const [plugins, adapters] = await Promise.all([Promise.all(pluginCatalog.map((p) => p.load())), Promise.all(adapterCatalog.map((a) => a.load()))]);
  const env = { API_PORT: '0', PLC_SIM_PORT: '0', CAN_DBC: `${repoRoot}/manifests/cea.dbc`, MQTT_URL: '' };
  const { manifest } = await loadManifest(`${repoRoot}/manifests/${file}`, { plugins, adapters, env });
  tune(manifest, name);
  // Warnings and errors go to stderr (the first 200): a soak must not hold its own log in memory.
  let printed = 0;
  const root = new LogRoot({ level: 'warn', write: (line) => {
    if (printed++ < 200) process.stderr.write(`${name} ${line}\n`);
  } });
  const runtime = await createRuntime({ manifest, plugins, adapters, logRoot: root, dataDir, clock, sim: true });
  await driven(clock, runtime.start());
  for (const [id, s] of Object.entries(runtime.supervisor.statuses())) {
    if (s.status !== 'running') throw new Error(`${name}: plugin ${id} is ${s.status}: ${s.lastError}`);
  }
  return runtime;
}

/** An operator nudging the lab: setpoint moves, the heater toggles now and then; resolves to the HTTP status. */
async function sendCommand(api: string, step: number): Promise<number> {
  const body = step % 12 === 0 ? { power_on_requested: step % 24 !== 0 } : { setpoint: 40 + (step % 40) };
  const res = await fetch(`${api}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** Anonymous resident memory (heap, malloc arenas, thread stacks; not the binary's code), Linux only. */
function anonMB(): string {
  try {
    const kB = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kB ? (Number(kB) / 1024).toFixed(0) : '-';
  } catch {
    return '-';
  }
}

/** With `node --expose-gc` (or `deno run --v8-flags=--expose-gc`) each sample follows a full GC. */
const gc = (globalThis as { gc?: () => void }).gc;

/** Runs one manifest (`lab` or `cea`) on its own FakeClock in this process; resolves to the exit code. */
async function soakOne(name: 'lab' | 'cea'): Promise<number> {
  const clock = new FakeClock(Date.UTC(2026, 0, 5));
  const dataDir = await mkdtemp(join(tmpdir(), `fieldgate-soak-${name}-`));
  const runtimes: Runtime[] = [];
  console.log(`soak ${name}: ${args.days} simulated day(s), CAN ${args.canFps} frames/s, a command every ${args.commandEveryS} s, history retention ${args.historyRetentionH} h in ${args.segmentMin} min segments; ${gc ? 'GC forced before each sample' : 'no --expose-gc: samples where the GC left them'}; ${process.versions.deno ? `Deno ${process.versions.deno}` : `Node ${process.version}`}; ${cpus().length} x ${cpus()[0]?.model ?? '?'}; data in ${dataDir}`);
  try {
    const lab = name === 'lab' ? await open('plc-remote-lab.json', 'lab', clock, dataDir) : undefined;
    const cea = name === 'cea' ? await open('cea-can-pipeline.json', 'cea', clock, dataDir) : undefined;
    runtimes.push((lab ?? cea)!);
    const budget = (lab ?? cea)!.storeHousekeeping.settings.budgetBytes;

    const samples: Sample[] = [];
    const t0 = performance.now();
    const steps = Math.round((args.days * 24 * HOUR) / (args.commandEveryS * 1000));
    const perHour = Math.round(HOUR / (args.commandEveryS * 1000));
    let refused = 0;
    let commands = 0;
    let days = args.days;
    let archive = { bytes: 0, files: 0 };
    console.log('sim_h  real_s   rss_MB heap_MB  lab_store_KiB cea_store_KiB  audit_rows trend_rows  history_MB files  can_frames  heap_tot ext_MB anon_MB');
    for (let step = 1; step <= steps; step++) {
      // The operator's command and the dashboard's look go out as simulated time runs on: waiting
      // for each answer with the clock stopped (a 2 ms real group-commit window, fsync, scheduling on
      // a busy machine) took a third of the real time per simulated hour and changed nothing simulated.
      const command = lab ? sendCommand(lab.routes.address!, step) : undefined;
      const look = cea && step % 60 === 0 ? fetch(`${cea.routes.address!}/api/state`).then((r) => r.arrayBuffer()) : undefined; // a dashboard looking in
      await clock.advance(args.commandEveryS * 1000);
      if (command) {
        commands++;
        if ((await command) !== 200) refused++;
      }
      await look;
      if (step % perHour !== 0) continue;

      const hour = step / perHour;
      gc?.(); // retained memory, not where the last GC cycle happened to leave the heap
      if (args.heapSnapshotHours.includes(hour)) {
        const { writeHeapSnapshot } = await import('node:v8');
        console.log(`heap snapshot: ${writeHeapSnapshot(join(tmpdir(), `fieldgate-soak-${name}-h${hour}.heapsnapshot`))}`);
      }
      const mem = process.memoryUsage();
      const labBytes = lab?.store.size().usedBytes ?? 0;
      const ceaBytes = cea?.store.size().usedBytes ?? 0;
      // The audit archive keeps a year (audit.archiveDays) by design: reported apart, not judged here.
      const all = await dirBytes(join(dataDir, 'history'));
      archive = await dirBytes(join(dataDir, 'history', AUDIT_SERIES));
      const hist = { bytes: all.bytes - archive.bytes, files: all.files - archive.files };
      const audit = lab?.store.query<{ n: number }>('SELECT count(*) AS n FROM http_api_audit')[0]?.n ?? 0;
      const trend = lab?.store.query<{ n: number }>('SELECT count(*) AS n FROM trend')[0]?.n ?? 0;
      const can = (cea?.world.get('sim:canbus', () => null) as { framesSent?: number } | null | undefined)?.framesSent ?? 0;
      const s: Sample = {
        hour, realS: (performance.now() - t0) / 1000, rssMB: mem.rss / MB, heapMB: mem.heapUsed / MB,
        storeBytes: Math.max(labBytes, ceaBytes), historyBytes: hist.bytes, historyFiles: hist.files,
      };
      samples.push(s);
      console.log([
        String(hour).padStart(5), s.realS.toFixed(0).padStart(7), s.rssMB.toFixed(0).padStart(8), s.heapMB.toFixed(0).padStart(7),
        (labBytes / 1024).toFixed(0).padStart(14), (ceaBytes / 1024).toFixed(0).padStart(13),
        String(audit).padStart(11), String(trend).padStart(10), (s.historyBytes / MB).toFixed(1).padStart(11), String(s.historyFiles).padStart(5), String(can).padStart(11),
        // Where the RSS is: V8's committed heap, memory outside it (buffers, wasm), anonymous pages.
        (mem.heapTotal / MB).toFixed(0).padStart(9), (mem.external / MB).toFixed(0).padStart(6), anonMB().padStart(7),
      ].join(' '));
      if (args.maxRealMin > 0 && s.realS >= args.maxRealMin * 60 && step < steps) {
        days = hour / 24;
        console.log(`stopped after simulated hour ${hour} of ${args.days * 24}: the real-time limit (--max-real-min ${args.maxRealMin}) came first`);
        break;
      }
    }

    const v = verdict(samples, { budgetBytes: budget, historyRetentionH: args.historyRetentionH, segmentMin: args.segmentMin });
    console.log(`\n${commands} commands (${refused} not 200) in ${((performance.now() - t0) / 1000).toFixed(0)} s real for ${+days.toFixed(2)} simulated day(s)`);
    for (const line of v.lines) console.log(line);
    if (archive.files) {
      const hours = samples.at(-1)?.hour ?? 0;
      console.log(`audit archive (history series ${AUDIT_SERIES}, kept audit.archiveDays = 365 days by design; not in history_MB, not judged): ${(archive.bytes / MB).toFixed(1)} MB in ${archive.files} files after ${hours} h, ${((archive.bytes / MB / Math.max(1, hours)) * 24).toFixed(1)} MB per simulated day at ${3600 / args.commandEveryS} commands/h`);
    }
    console.log(v.flat ? 'VERDICT: flat after day 1' : 'VERDICT: NOT flat (see above)');
    const rt = (lab ?? cea)!;
    const health = (await (await fetch(`${rt.routes.address!}/health`)).json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    const failing = Object.entries(health.checks).filter(([, c]) => !c.ok).map(([k, c]) => `${k}: ${c.detail ?? 'not ok'}`);
    console.log(`${name} /health: ${health.status}; store-size: ${health.checks['store-size']?.detail}${failing.length ? `; failing: ${failing.join('; ')}` : ''}`);
    return v.flat && refused === 0 ? 0 : 1;
  } finally {
    for (const r of runtimes.reverse()) await driven(clock, r.stop());
    if (!args.keep) await rm(dataDir, { recursive: true, force: true });
  }
}

process.exitCode = args.only === 'both' ? await runChildren(process.argv.slice(2), args.nodeDefaults ? [] : V8_FLAGS) : await soakOne(args.only);
