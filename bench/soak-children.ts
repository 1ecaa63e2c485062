// `soak.ts --only both`: the lab and the greenhouse each soak in a child process of their own (own
// FakeClock, heap, RSS and CPU), their lines prefixed `lab | ` / `cea | `; non-zero if either fails.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const NAMES = ['lab', 'cea'] as const;

/**
 * The command line that runs this script again with `--only <name>` in place of any `--only`, with
 * `v8Flags` added (the systemd unit's, so that RSS is measured as deployed; none with --node-defaults).
 */
export function childCommand(name: 'lab' | 'cea', argv: string[], o: { execPath: string; execArgv: string[]; script: string; deno: boolean; gc: boolean; v8Flags: readonly string[] }): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') i++;
    else rest.push(argv[i]!);
  }
  const denoFlags = [...(o.gc ? ['--expose-gc'] : []), ...o.v8Flags];
  const runtime = o.deno
    ? ['run', '-A', ...(denoFlags.length ? [`--v8-flags=${denoFlags.join(',')}`] : [])]
    : [...o.v8Flags.filter((f) => !o.execArgv.includes(f)), ...o.execArgv];
  return [o.execPath, ...runtime, o.script, ...rest, '--only', name];
}

/** Prefixes each line of a child's stream and keeps the lines a summary needs. */
function pipe(stream: NodeJS.ReadableStream, prefix: string, out: NodeJS.WritableStream, keep: string[]): Promise<void> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  rl.on('line', (line) => {
    out.write(`${prefix}${line}\n`);
    if (/^(VERDICT|\d+ commands)/.test(line)) keep.push(line);
  });
  return new Promise((resolve) => rl.once('close', resolve));
}

/** Runs `lab` and `cea` side by side; resolves to 0 only when both exit 0 (flat, every command 200). */
export async function runChildren(argv: string[], v8Flags: readonly string[]): Promise<number> {
  const deno = Boolean(process.versions.deno);
  const gc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  const script = new URL('./soak.ts', import.meta.url).pathname;
  const started = performance.now();
  console.log(`soak: children with V8 flags ${v8Flags.length ? v8Flags.join(' ') : '(none: --node-defaults)'}`);
  const runs = NAMES.map((name) => {
    const [cmd, ...cmdArgs] = childCommand(name, argv, { execPath: process.execPath, execArgv: process.execArgv, script, deno, gc, v8Flags });
    const child = spawn(cmd!, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep: string[] = [];
    const piped = Promise.all([pipe(child.stdout, `${name} | `, process.stdout, keep), pipe(child.stderr, `${name} | `, process.stderr, [])]);
    const code = new Promise<number>((resolve) => {
      child.once('error', (err) => {
        process.stderr.write(`soak: could not start the ${name} child (${cmd} ${cmdArgs.join(' ')}): ${err.message}\n`);
        resolve(1);
      });
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
    return { name, child, keep, done: Promise.all([code, piped]).then(([c]) => c) };
  });
  const stop = () => {
    for (const r of runs) r.child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const codes = await Promise.all(runs.map((r) => r.done));
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  console.log(`\nsoak: both children done in ${((performance.now() - started) / 1000).toFixed(0)} s real`);
  runs.forEach((r, i) => console.log(`${r.name}: exit ${codes[i]}; ${r.keep.join('; ') || 'no verdict printed'}`));
  const ok = codes.every((c) => c === 0);
  console.log(ok ? 'SOAK: both flat, every command 200' : 'SOAK: FAILED (see the lines above)');
  return ok ? 0 : 1;
}
