// Debian's python3-pymodbus as a Modbus RTU slave (test/peers/pymodbus_rtu_slave.py) on one end of a
// socat pty pair; the test's master opens the other end. get() reads what the slave holds over stdin.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { eventually } from './eventually.ts';
import { pymodbusSkip } from './pymodbus.ts';
import { repoRoot } from './spawn.ts';

const PYTHON = process.env.FIELDGATE_PYTHON ?? '/usr/bin/python3';

/** False when socat, pymodbus 3.x and pyserial (with serial_asyncio) are there, else why not. */
export const pymodbusRtuSkip: string | false = (() => {
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) return 'socat is not installed (apt-get install socat): the RTU tests need its pty pair';
  if (pymodbusSkip) return pymodbusSkip;
  const r = spawnSync(PYTHON, ['-c', 'import serial, serial_asyncio'], { encoding: 'utf8' });
  return r.status === 0 ? false : `pymodbus serial needs python3-serial and python3-serial-asyncio (apt-get install -y python3-serial python3-serial-asyncio): ${r.stderr.trim().split('\n').at(-1)}`;
})();

export interface PymodbusRtuSlave {
  /** The pty the master opens. */
  masterPath: string;
  version: string;
  get(table: 'hr' | 'co', address: number, count: number): Promise<number[]>;
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

export async function startPymodbusRtuSlave(baudRate: number): Promise<PymodbusRtuSlave> {
  if (pymodbusRtuSkip) throw new Error(pymodbusRtuSkip);
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-rtu-peer-'));
  const slavePath = join(dir, 'slave');
  const masterPath = join(dir, 'master');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${slavePath}`, `pty,raw,echo=0,link=${masterPath}`], { stdio: 'ignore' });
  let slave: ChildProcess | undefined;
  const stop = async () => {
    slave?.stdin?.end();
    await stopChild(slave);
    await stopChild(socat);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually('socat to make the pty pair', 5000, () => existsSync(slavePath) && existsSync(masterPath));
    slave = spawn(PYTHON, [`${repoRoot}/test/peers/pymodbus_rtu_slave.py`, '--serial', slavePath, '--baud', String(baudRate)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    slave.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const lines: unknown[] = [];
    createInterface({ input: slave.stdout! }).on('line', (line) => lines.push(JSON.parse(line)));
    const hello = (await eventually(`the pymodbus RTU slave to open ${slavePath}`, 10_000, () => {
      if (slave!.exitCode !== null) throw new Error(`exited ${slave!.exitCode}: ${stderr}`);
      return lines.shift();
    })) as { serving?: string; pymodbus?: string; error?: string };
    if (!hello.serving) throw new Error(`pymodbus RTU slave: ${hello.error ?? JSON.stringify(hello)}; stderr: ${stderr}`);
    const child = slave;
    return {
      masterPath,
      version: hello.pymodbus ?? '?',
      async get(table, address, count) {
        child.stdin!.write(`get ${table} ${address} ${count}\n`);
        return (await eventually('the slave\'s answer on stdout', 5000, () => lines.shift())) as number[];
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
