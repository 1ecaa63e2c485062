// Runs one scenario: the manifest in this process on its simulators (store and history on real
// files behind fault-injectable disks), a virtual clock pumped as fast as the gateway keeps up,
// then the steps in order. Stops at the first failed step; the rest are reported as skipped.
import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Bus } from '../bus.ts';
import { type Clock, systemClock } from '../clock.ts';
import { FakeClock } from '../clock-fake.ts';
import { errorMessage, ManifestError, UnreadableFileError } from '../errors.ts';
import { FaultyDisk as HistoryFaultyDisk } from '../history/disk-fault.ts';
import { openHistory } from '../history/open.ts';
import { Runtime } from '../host/runtime.ts';
import { LogRoot, type LogFields, type LogLevel } from '../log.ts';
import { loadManifest } from '../manifest/load.ts';
import type { AnyAdapterDefinition, AnyPluginDefinition } from '../plugin.ts';
import { nodeDisk } from '../store/disk.ts';
import { FaultyDisk as StoreFaultyDisk } from '../store/disk-faulty.ts';
import { openStore } from '../store/open.ts';
import { evaluate, request, show, type ExpectContext, type LoggedLine, type Published } from './expect.ts';
import { DeviceFaults, type DeviceFaultStep } from './faults.ts';
import { loadScenario, ScenarioError } from './load.ts';
import { ClockPump } from './pump.ts';
import { interpolate } from '../manifest/interpolate.ts';
import type { MqttWatch } from './mqtt-watch.ts';
import type { Scenario, Step } from './schema.ts';
import { describeStep } from './describe.ts';

export interface StepResult {
  index: number;
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  /** Virtual seconds since the gateway was ready, when the step started. */
  at: number;
  virtualMs: number;
  realMs: number;
  /** What a fault step did, in the simulator's terms. */
  note?: string;
  /** Filled when failed. */
  failure?: { message: string; expected?: string; seen?: string; log?: string[] };
}

export interface ScenarioResult {
  file: string;
  name: string;
  ok: boolean;
  steps: StepResult[];
  /** Set when the scenario could not run at all (invalid file, manifest, start-up failure). */
  setupError?: { message: string; issues: string[] };
  realMs: number;
}

export interface RunOptions {
  plugins: AnyPluginDefinition[];
  adapters: AnyAdapterDefinition[];
  env: Record<string, string | undefined>;
  /** Gateway log lines at or above this level are echoed to `echoLog` (default: kept, shown on failure). */
  logLevel?: LogLevel;
  echoLog?: (line: string) => void;
  /** Real-time budget for the whole scenario, ms (default 600 000). */
  timeoutMs?: number;
  onStart?: (info: { name: string; file: string; steps: number }) => void;
  onStep?: (result: StepResult, total: number) => void;
}

// Poll period of `expect` in virtual ms: every plugin here polls at 100 ms or slower.
const POLL_MS = 100;
// Assertions that go through the HTTP API poll more gently, and never faster than REAL_FLOOR_MS in
// real time: the API's rate limit counts real time, and a scenario must not trip it by itself.
const HTTP_POLL_MS = 500;
const REAL_FLOOR_MS = 150;
const KEEP_LOG_LINES = 200;
const KEEP_MESSAGES = 50_000;

// Data directories of scenarios still running, so an interrupted `fieldgate test` leaves none behind.
const liveDirs = new Set<string>();
let dirSeq = 0;

/** Removes the data directories of running scenarios (a signal handler calls this before exiting). */
export function removeLiveDataDirs(): void {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

export async function runScenario(file: string, options: RunOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const fail = (name: string, message: string, issues: string[] = []): ScenarioResult => ({
    file, name, ok: false, steps: [], setupError: { message, issues }, realMs: performance.now() - started,
  });
  let scenario: Scenario;
  try {
    scenario = await loadScenario(file);
  } catch (err) {
    if (err instanceof ScenarioError) return fail(file, `${file}: invalid scenario`, err.issues);
    if (err instanceof UnreadableFileError) return fail(file, err.message);
    throw err;
  }
  const name = scenario.name ?? file;
  options.onStart?.({ name, file, steps: scenario.steps.length });

  const manifestFile = resolve(dirname(file), scenario.manifest);
  // The API on loopback and a port of its own, unless the scenario says otherwise.
  const env = { API_HOST: '127.0.0.1', API_PORT: '0', ...options.env, ...scenario.env };
  let loaded;
  try {
    loaded = await loadManifest(manifestFile, { plugins: options.plugins, adapters: options.adapters, env });
  } catch (err) {
    if (err instanceof ManifestError) return fail(name, `${manifestFile}: invalid manifest`, err.issues);
    if (err instanceof UnreadableFileError) return fail(name, err.message);
    throw err;
  }
  const { manifest } = loaded;

  const fake = scenario.clock === 'real' ? null : new FakeClock(Math.floor(Date.now() / 1000) * 1000);
  const clock: Clock = fake ?? systemClock;
  const logTail: LogFields[] = [];
  const logs: LoggedLine[] = [];
  const logRoot = new LogRoot({
    level: options.logLevel ?? 'info',
    format: 'json',
    now: () => clock.now(),
    write: (line) => {
      const rec = JSON.parse(line) as LogFields;
      logs.push({ at: clock.monotonic(), level: String(rec.level), ns: String(rec.ns), msg: String(rec.msg) });
      if (logs.length > KEEP_MESSAGES) logs.splice(0, logs.length - KEEP_MESSAGES);
      if (rec.level === 'warn' || rec.level === 'error' || rec.level === 'fatal') {
        logTail.push(rec);
        if (logTail.length > KEEP_LOG_LINES) logTail.shift();
      }
      options.echoLog?.(line);
    },
  });
  for (const s of loaded.secrets) logRoot.addSecret(s);

  const pump = fake ? new ClockPump(fake, { maxSpeed: scenario.maxSpeed }) : null;
  pump?.start();

  // Registered before it exists: a signal while mkdir is in flight still finds it.
  const dataDir = join(tmpdir(), `fieldgate-scenario-${process.pid}-${++dirSeq}-${Math.random().toString(36).slice(2, 8)}`);
  liveDirs.add(dataDir);
  await mkdir(dataDir, { mode: 0o700 });
  const storeDisk = new StoreFaultyDisk(nodeDisk);
  const historyDisk = new HistoryFaultyDisk();
  const bus = new Bus();
  let runtime: Runtime | null = null;
  let mqtt: MqttWatch | null = null;
  const steps: StepResult[] = [];
  try {
    try {
      const store = await openStore({ dataDir, clock, log: logRoot.logger('store'), bus, ...manifest.store, disk: storeDisk });
      const history = await openHistory({ dataDir, clock, log: logRoot.logger('history'), segmentMs: manifest.history.segmentMs, retentionMs: manifest.history.retentionMs, disk: historyDisk });
      runtime = new Runtime({
        manifest,
        plugins: [...options.plugins, ...(loaded.external?.plugins ?? [])],
        adapters: [...options.adapters, ...(loaded.external?.adapters ?? [])],
        logRoot, dataDir, clock, sim: true,
      }, store, history, bus);
      await runtime.start();
    } catch (err) {
      return fail(name, `cannot start ${manifest.name}: ${logRoot.mask(errorMessage(err))}`);
    }

    if (scenario.mqtt) {
      const resolved = interpolate(scenario.mqtt, env);
      if (resolved.issues.length) return fail(name, `mqtt: ${resolved.issues.join('; ')}`);
      try {
        const { watchMqtt } = await import('./mqtt-watch.ts');
        mqtt = await watchMqtt(resolved.value as NonNullable<Scenario['mqtt']>, clock);
      } catch (err) {
        return fail(name, errorMessage(err));
      }
    }
    const published: Published[] = [];
    bus.subscribe('#', (payload, topic) => {
      published.push({ at: clock.monotonic(), topic, payload });
      if (published.length > KEEP_MESSAGES) published.splice(0, published.length - KEEP_MESSAGES);
    });
    const ctx: ExpectContext = { runtime, clock, api: runtime.routes.address ?? null, apiKey: scenario.apiKey, published, mqtt: mqtt?.messages ?? null, logs, windowStart: clock.monotonic() };
    let previousStart = clock.monotonic();
    const faults = new DeviceFaults(runtime.world, clock);
    const t0 = clock.monotonic();
    const deadline = started + (options.timeoutMs ?? 600_000);
    let failed = false;

    for (const [i, step] of scenario.steps.entries()) {
      const title = step.name ?? describeStep(step);
      const result: StepResult = { index: i, title, status: 'skipped', at: (clock.monotonic() - t0) / 1000, virtualMs: 0, realMs: 0 };
      if (!failed) {
        const realStart = performance.now();
        const virtualStart = clock.monotonic();
        ctx.windowStart = previousStart;
        previousStart = virtualStart;
        const logMark = logTail.length;
        try {
          const failure = await withBudget(execute(step, { ctx, faults, clock, storeDisk, historyDisk, note: (n) => (result.note = n) }), deadline - performance.now());
          if (!failure && pump?.error) throw new Error(`a timer callback threw: ${errorMessage(pump.error)}`);
          result.status = failure ? 'failed' : 'passed';
          if (failure) result.failure = failure;
        } catch (err) {
          result.status = 'failed';
          result.failure = { message: logRoot.mask(errorMessage(err)) };
        }
        if (result.failure) {
          // The warnings since the step began, or the last few before it when it brought none.
          const since = logTail.slice(Math.min(logMark, logTail.length));
          const lines = since.length ? since.slice(-10) : logTail.slice(-3);
          result.failure.log = lines.map((l) => `${l.level} ${l.ns}: ${String(l.msg)}`);
          failed = true;
        }
        result.virtualMs = clock.monotonic() - virtualStart;
        result.realMs = performance.now() - realStart;
      }
      steps.push(result);
      options.onStep?.(result, scenario.steps.length);
    }
    return { file, name, ok: !failed, steps, realMs: performance.now() - started };
  } finally {
    await mqtt?.close();
    await runtime?.stop().catch(() => {});
    await pump?.stop();
    await rm(dataDir, { recursive: true, force: true });
    liveDirs.delete(dataDir);
  }
}

interface StepDeps {
  ctx: ExpectContext;
  faults: DeviceFaults;
  clock: Clock;
  storeDisk: StoreFaultyDisk;
  historyDisk: HistoryFaultyDisk;
  note: (text: string) => void;
}

type Failure = NonNullable<StepResult['failure']>;

async function execute(step: Step, d: StepDeps): Promise<Failure | null> {
  if ('wait' in step) {
    await d.clock.sleep(step.wait * 1000);
    return null;
  }
  if ('command' in step || 'http' in step) {
    const [method, path, body, headers] = 'command' in step
      ? ['POST', '/api/command', step.command, undefined]
      : [step.http.method ?? 'GET', step.http.path, step.http.body, step.http.headers];
    const r = await request(d.ctx, method, path, body, headers);
    const want = step.status ?? ('command' in step ? 200 : null);
    const expected = `${method} ${path} → ${want ?? '2xx'}`;
    if ('error' in r) return { message: r.error, expected, seen: 'no answer' };
    const ok = want === null ? r.status >= 200 && r.status < 300 : r.status === want;
    return ok ? null : { message: `${method} ${path} answered ${r.status}`, expected, seen: `${r.status} ${r.text.slice(0, 300)}` };
  }
  if ('fault' in step) {
    if ('disk' in step) {
      const disks = step.disk === 'both' ? ['store', 'history'] : [step.disk];
      const code = step.fault === 'full' ? 'ENOSPC' : 'EROFS';
      for (const disk of disks) {
        if (step.fault === 'recover') {
          if (disk === 'store') d.storeDisk.heal();
          else d.historyDisk.clearFault();
        } else if (disk === 'store') d.storeDisk.fail(code);
        else d.historyDisk.setFault(code);
      }
      d.note(step.fault === 'recover' ? `${disks.join(' and ')} disk writable again` : `every write to the ${disks.join(' and ')} disk fails with ${code}`);
      return null;
    }
    d.note(await d.faults.apply(step as DeviceFaultStep));
    return null;
  }
  const { expect: assertion, within = 0, for: holdFor = 0 } = step;
  const overHttp = 'get' in assertion || 'alarm' in assertion;
  const pause = async (left: number) => {
    const virtual = d.clock.sleep(Math.min(overHttp ? HTTP_POLL_MS : POLL_MS, left));
    if (overHttp) await Promise.all([virtual, new Promise((r) => setTimeout(r, REAL_FLOOR_MS))]);
    else await virtual;
  };
  const until = d.clock.monotonic() + within * 1000;
  let verdict = await evaluate(assertion, d.ctx);
  while (!verdict.ok && d.clock.monotonic() < until) {
    await pause(until - d.clock.monotonic());
    verdict = await evaluate(assertion, d.ctx);
  }
  if (!verdict.ok) {
    return { message: `not met${within ? ` within ${within} s` : ''}: expected ${verdict.expected}; saw ${verdict.seen}`, expected: verdict.expected, seen: verdict.seen };
  }
  const heldFrom = d.clock.monotonic();
  const holdUntil = heldFrom + holdFor * 1000;
  while (d.clock.monotonic() < holdUntil) {
    await pause(holdUntil - d.clock.monotonic());
    verdict = await evaluate(assertion, d.ctx);
    if (!verdict.ok) {
      const after = ((d.clock.monotonic() - heldFrom) / 1000).toFixed(1);
      return { message: `held for ${after} s of ${holdFor} s: expected ${verdict.expected}; saw ${verdict.seen}`, expected: verdict.expected, seen: verdict.seen };
    }
  }
  return null;
}

/** Rejects when the scenario's real-time budget runs out first (a gateway that stopped keeping up). */
function withBudget<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the scenario ran out of real time (budget ${show(Math.round(ms / 1000))} s left at this step; raise --timeout)`)), Math.max(0, ms));
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}
