// The `fieldgate` command: validate a manifest, or run it (optionally on simulators) until a signal.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ManifestError, UnreadableFileError, errorMessage } from '../errors.ts';
import { LogRoot } from '../log.ts';
import { isExternalSpecifier } from '../manifest/external.ts';
import { loadManifest, type LoadedManifest } from '../manifest/load.ts';
import type { AnyAdapterDefinition, AnyPluginDefinition, CatalogEntry } from '../plugin.ts';
import { createRuntime, effectiveDriver, type Runtime } from '../host/runtime.ts';
import { createNotifier, storeLiveness } from '../notify.ts';
import { UsageError, parseArgs, usageFor, type RunArgs } from './args.ts';
import { doctor } from './doctor.ts';
import { systemdUnit } from './systemd.ts';
import { migrateCommand, type MigrateTools } from './migrate.ts';
import { monitorCommand } from './monitor.ts';
import { testCommand } from './test.ts';

export interface CliEnvironment {
  plugins: CatalogEntry<AnyPluginDefinition>[];
  adapters: CatalogEntry<AnyAdapterDefinition>[];
  version: string;
  env?: Record<string, string | undefined>;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Tools that live outside core (bin/fieldgate.ts passes plugins/pg-history/migrate.ts lazily). */
  tools?: MigrateTools;
  /** Called with the running runtime (tests); production waits for SIGINT/SIGTERM. */
  onRunning?: (runtime: Runtime) => void;
}

/** Runs the CLI and resolves with the process exit code. */
export async function runCli(argv: readonly string[], cli: CliEnvironment): Promise<number> {
  const out = cli.stdout ?? ((l: string) => process.stdout.write(l + '\n'));
  const err = cli.stderr ?? ((l: string) => process.stderr.write(l + '\n'));
  let args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`fieldgate: ${e.message}\n\n${usageFor(argv[0])}`);
    return 2;
  }
  switch (args.command) {
    case 'help':
      out(usageFor(args.topic));
      return 0;
    case 'version':
      out(`fieldgate ${cli.version}`);
      return 0;
    case 'validate': {
      // Several manifests: each is checked and reported; the exit code is the worst one.
      let worst = 0;
      for (const manifest of args.manifests) {
        const loaded = await load(manifest, cli, err);
        if (typeof loaded === 'number') {
          worst = Math.max(worst, loaded);
          continue;
        }
        const m = loaded.manifest;
        out(`${manifest}: valid (${m.plugins.length} plugin(s), ${m.adapters.length} adapter(s))`);
      }
      return worst;
    }
    case 'run':
      return await run(args, cli, err);
    case 'test':
      return await testCommand(args, {
        plugins: await Promise.all(cli.plugins.map((p) => p.load())),
        adapters: await Promise.all(cli.adapters.map((a) => a.load())),
        env: cli.env ?? process.env,
        out,
        err,
      });
    case 'systemd': {
      const loaded = await load(args.manifest, cli, err);
      if (typeof loaded === 'number') return loaded;
      return await systemdUnit(args, loaded, { out, err });
    }
    case 'doctor': {
      const loaded = await load(args.manifest, cli, err);
      if (typeof loaded === 'number') return loaded;
      return await doctor(args, loaded, { out, env: cli.env ?? process.env });
    }
    case 'migrate':
      return await migrateCommand(args, cli.tools, { out, err });
    case 'monitor':
      return await monitorCommand(args, { out, env: cli.env ?? process.env });
  }
}

/**
 * The catalogue entries a manifest names (its plugins' `use`, its adapters' `kind`), so a gateway
 * loads only the code (and compiles only the schema) it runs: each unused plugin costs memory on a
 * 512 MB board (bench/RESULTS.md, "Footprint"). Every entry when the file cannot be read or parsed or
 * names a type the catalogue lacks, so errors and did-you-mean hints are those of the whole catalogue.
 */
async function catalogFor(file: string, cli: CliEnvironment): Promise<{ plugins: AnyPluginDefinition[]; adapters: AnyAdapterDefinition[] }> {
  const everything = () => ({ plugins: cli.plugins, adapters: cli.adapters });
  const pick = async (): Promise<{ plugins: CatalogEntry<AnyPluginDefinition>[]; adapters: CatalogEntry<AnyAdapterDefinition>[] }> => {
    let doc: { plugins?: unknown; adapters?: unknown };
    try {
      doc = JSON.parse(await readFile(file, 'utf8')) as typeof doc;
    } catch {
      return everything();
    }
    const names = (list: unknown, field: string): string[] | null => {
      if (list === undefined) return [];
      if (!Array.isArray(list)) return null;
      const out: string[] = [];
      for (const item of list) {
        const name = (item as Record<string, unknown> | null)?.[field];
        if (typeof name !== 'string') return null;
        out.push(name);
      }
      return out;
    };
    const uses = names(doc?.plugins, 'use');
    const kinds = names(doc?.adapters, 'kind');
    if (!uses || !kinds) return everything();
    const bundledUses = uses.filter((u) => !isExternalSpecifier(u));
    const plugins = cli.plugins.filter((p) => bundledUses.includes(p.name));
    const adapters = cli.adapters.filter((a) => kinds.includes(a.name));
    if (new Set(bundledUses).size !== plugins.length || new Set(kinds).size !== adapters.length) return everything();
    return { plugins, adapters };
  };
  const chosen = await pick();
  const [plugins, adapters] = await Promise.all([
    Promise.all(chosen.plugins.map((p) => p.load())),
    Promise.all(chosen.adapters.map((a) => a.load())),
  ]);
  return { plugins, adapters };
}

async function load(file: string, cli: CliEnvironment, err: (l: string) => void): Promise<LoadedManifest | number> {
  const { plugins, adapters } = await catalogFor(file, cli);
  try {
    return await loadManifest(file, { plugins, adapters, env: cli.env ?? process.env });
  } catch (e) {
    if (e instanceof UnreadableFileError) {
      err(`fieldgate: ${e.message}`);
      return 2;
    }
    if (e instanceof ManifestError) {
      err(`${e.file}: invalid manifest (${e.issues.length} problem${e.issues.length === 1 ? '' : 's'}):`);
      for (const issue of e.issues) err(`  ${issue}`);
      return 1;
    }
    throw e;
  }
}

/** --data-dir, then FIELDGATE_DATA_DIR, then the manifest's dataDir (relative to the manifest), then ./data/<name>. */
export function resolveDataDir(args: RunArgs, loaded: LoadedManifest, env: Record<string, string | undefined>): string {
  if (args.dataDir) return resolve(args.dataDir);
  if (env.FIELDGATE_DATA_DIR) return resolve(env.FIELDGATE_DATA_DIR);
  if (loaded.manifest.dataDir) return resolve(dirname(loaded.file), loaded.manifest.dataDir);
  return resolve('data', loaded.manifest.name);
}

async function run(args: RunArgs, cli: CliEnvironment, err: (l: string) => void): Promise<number> {
  const loaded = await load(args.manifest, cli, err);
  if (typeof loaded === 'number') return loaded;
  const { manifest } = loaded;
  const env = cli.env ?? process.env;
  const envFormat = env.FIELDGATE_LOG_FORMAT === 'pretty' || env.FIELDGATE_LOG_FORMAT === 'json' ? env.FIELDGATE_LOG_FORMAT : undefined;
  const format = args.logFormat ?? envFormat ?? (!cli.stdout && process.stdout.isTTY ? 'pretty' : 'json');
  const logRoot = new LogRoot({ level: args.logLevel ?? manifest.log.level, write: cli.stdout, format });
  for (const s of loaded.secrets) logRoot.addSecret(s);
  const log = logRoot.logger('core');

  const adapterIds = manifest.adapters.map((a) => a.id);
  const unknown = args.real.filter((id) => !adapterIds.includes(id));
  if (unknown.length) {
    err(`fieldgate: --real ${unknown.join(', ')}: no such adapter in ${args.manifest} (adapters: ${adapterIds.join(', ') || 'none'})`);
    return 2;
  }
  if (args.real.length && !args.sim) log.warn('--real has no effect without --sim: adapters already use the driver the manifest gives them');

  const { plugins: bundledPlugins, adapters: bundledAdapters } = await catalogFor(args.manifest, cli);
  const plugins = [...bundledPlugins, ...(loaded.external?.plugins ?? [])];
  const adapters = [...bundledAdapters, ...(loaded.external?.adapters ?? [])];
  const dataDir = resolveDataDir(args, loaded, env);
  let runtime: Runtime;
  try {
    runtime = await createRuntime({ manifest, plugins, adapters, logRoot, dataDir, sim: args.sim, real: args.real });
  } catch (e) {
    err(`fieldgate: cannot start ${manifest.name}: ${logRoot.mask(errorMessage(e))}`);
    return 1;
  }
  const drivers = manifest.adapters.map((a) => `${a.id}=${effectiveDriver(a, args)}`).join(', ');
  log.info(`starting ${manifest.name} v${cli.version} (data in ${dataDir}; adapters: ${drivers || 'none'})`);

  // Under a Type=notify unit: WATCHDOG=1 from now on (start-up can be slow), READY=1 after the ready line.
  const notifier = createNotifier({ env, log: logRoot.logger('systemd') });
  // Wedged = writes older than a whole WatchdogSec beyond the store's own lazy flush period.
  const wedgedAfterMs = manifest.store.lazyFlushMs + 2 * (notifier?.watchdogIntervalMs ?? 15_000);
  notifier?.startWatchdog(storeLiveness(() => runtime.store.status(), wedgedAfterMs));

  const stopped = new Promise<number>((resolveExit) => {
    let stopping = false;
    let firstSignalAt = 0;
    const onSignal = (signal: string) => {
      // A wrapper (`deno task`, `npm start`, a terminal's process group) can deliver one Ctrl-C or
      // SIGTERM twice within a few milliseconds; only a second signal a human sent later means
      // "stop now, do not wait".
      if (stopping && Date.now() - firstSignalAt < 1000) return;
      if (stopping) {
        log.error(`${signal} again: exiting without waiting for plugins`);
        resolveExit(130);
        return;
      }
      stopping = true;
      firstSignalAt = Date.now();
      void notifier?.stopping(`${signal}: stopping plugins`);
      log.info(`${signal}: stopping plugins in reverse order, then flushing the store`);
      const deadline = setTimeout(() => {
        log.error(`shutdown did not finish within ${shutdownBudget} ms; exiting anyway`);
        resolveExit(1);
      }, shutdownBudget);
      runtime.stop().then(
        () => {
          clearTimeout(deadline);
          log.info('stopped; store flushed');
          resolveExit(0);
        },
        (e: unknown) => {
          clearTimeout(deadline);
          log.error(`shutdown failed: ${errorMessage(e)}`);
          resolveExit(1);
        },
      );
    };
    const shutdownBudget = manifest.supervisor.stopTimeoutMs * 2 + 2000;
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });

  await runtime.start();
  const statuses = Object.values(runtime.supervisor.statuses());
  const running = statuses.filter((s) => s.status === 'running').length;
  const notRunning = statuses.filter((s) => s.status !== 'running').map((s) => `${s.id} ${s.status}${s.lastError ? ` (${s.lastError})` : ''}`);
  const api = runtime.routes.address ? `; API at ${runtime.routes.address}` : '';
  const line = `ready: ${running}/${statuses.length} plugins running${notRunning.length ? `, not running: ${notRunning.join('; ')}` : ''}${api}`;
  if (notRunning.length) log.warn(line);
  else log.info(line);
  void notifier?.ready(line);
  cli.onRunning?.(runtime);
  return await stopped;
}
