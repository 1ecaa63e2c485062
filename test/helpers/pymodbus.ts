// The lab PLC played by Debian's python3-pymodbus (test/peers/pymodbus_plc.py) on 127.0.0.1: an
// independent Modbus TCP server for conformance tests. restart() kills it and starts it again on
// the same port with its memory lost, like a PLC power cycle; get()/log() read it over stdin.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from './net.ts';
import { repoRoot } from './spawn.ts';

/** Debian's interpreter by default: python3-pymodbus installs for it, not for a pyenv or venv python. */
const PYTHON = process.env.FIELDGATE_PYTHON ?? '/usr/bin/python3';
const SCRIPT = `${repoRoot}/test/peers/pymodbus_plc.py`;

/** False when pymodbus 3.x can run, else why not (for `test(..., { skip })`). */
export const pymodbusSkip: string | false = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import pymodbus; print(pymodbus.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) return `python3-pymodbus not found for ${PYTHON} (apt-get install -y python3-pymodbus, or set FIELDGATE_PYTHON): ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}`;
  const version = r.stdout.trim();
  return Number(version.split('.')[0]) >= 3 ? false : `pymodbus ${version} found; test/peers/pymodbus_plc.py needs pymodbus 3.x`;
})();

export type Memory = 'zero' | 'defaults';

export interface PymodbusPlc {
  host: string;
  port: number;
  /** pymodbus version serving. */
  version: string;
  /** Kills the server (connections dropped, memory lost) and starts it again on the same port. */
  restart(memory?: Memory): Promise<void>;
  /** Holding registers as the server holds them. */
  get(address: number, count: number): Promise<number[]>;
  /** Requests served since the last (re)start: [fc, address, count], reads and writes in order. */
  log(): Promise<Array<[number, number, number]>>;
  /** Memory lost while the connections stay open (an online program change). */
  reset(memory: Memory): Promise<void>;
  /** Stops / resumes the stand-in PLC program (heartbeat, ack). */
  halt(): Promise<void>;
  run(): Promise<void>;
  stop(): Promise<void>;
}

interface Proc {
  child: ChildProcess;
  ask(line: string): Promise<unknown>;
  version: string;
}

async function launch(port: number, memory: Memory): Promise<Proc> {
  const child = spawn(PYTHON, [SCRIPT, '--port', String(port), '--memory', memory], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const waiting: Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }> = [];
  const failAll = (why: string) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`pymodbus PLC on port ${port}: ${why}; stderr: ${stderr}`));
  };
  child.on('exit', (code, signal) => failAll(`exited (${code ?? signal})`));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const w = waiting.shift();
    if (!w) return;
    try {
      w.resolve(JSON.parse(line));
    } catch {
      w.reject(new Error(`pymodbus PLC on port ${port}: unexpected output ${JSON.stringify(line)}`));
    }
  });
  const next = () => new Promise<unknown>((resolve, reject) => waiting.push({ resolve, reject }));
  const timer = setTimeout(() => failAll('did not start listening within 10 s'), 10_000);
  const hello = (await next().finally(() => clearTimeout(timer))) as { listening?: number; pymodbus?: string; error?: string };
  if (!hello.listening) throw new Error(`pymodbus PLC on port ${port}: ${hello.error ?? JSON.stringify(hello)}`);
  let chain: Promise<unknown> = Promise.resolve();
  const ask = (line: string) => {
    const run = chain.then(() => {
      const answer = next();
      child.stdin!.write(`${line}\n`);
      return answer;
    });
    chain = run.catch(() => {});
    return run;
  };
  return { child, ask, version: hello.pymodbus ?? '?' };
}

async function kill(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const gone = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGKILL');
  await gone;
}

export async function startPymodbusPlc(options: { memory?: Memory } = {}): Promise<PymodbusPlc> {
  if (pymodbusSkip) throw new Error(pymodbusSkip);
  const port = await freePort();
  let proc = await launch(port, options.memory ?? 'defaults');
  return {
    host: '127.0.0.1',
    port,
    version: proc.version,
    async restart(memory = 'zero') {
      await kill(proc);
      proc = await launch(port, memory);
    },
    get: async (address, count) => (await proc.ask(`get ${address} ${count}`)) as number[],
    log: async () => (await proc.ask('log')) as Array<[number, number, number]>,
    reset: async (memory) => void (await proc.ask(`reset ${memory}`)),
    halt: async () => void (await proc.ask('halt')),
    run: async () => void (await proc.ask('run')),
    stop: () => kill(proc),
  };
}
