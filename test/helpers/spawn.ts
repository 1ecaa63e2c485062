// Spawns a TypeScript entry point on the runtime running the tests (Node via tsx, or Deno).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

/** The command and leading arguments that run a .ts file on the current runtime. */
export function tsCommand(file: string): [string, string[]] {
  if (isDeno) return [process.execPath, ['run', '-A', '--no-check', file]];
  return [process.execPath, ['--import', 'tsx', file]];
}

export function spawnTs(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
  const [cmd, lead] = tsCommand(file);
  return spawn(cmd, [...lead, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs to completion and collects output. */
export function runTs(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(file, args, options);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
