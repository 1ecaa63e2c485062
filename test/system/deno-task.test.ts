// The README's Deno commands as a user types them from a fresh clone: `deno task fieldgate --version`,
// `deno task validate`, and a short `deno task fieldgate run` of the example manifest on simulators.
// Runs once, from the Node half (the Deno half would only run the same child processes again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeno, repoRoot } from '../helpers/spawn.ts';
import { eventually } from '../helpers/eventually.ts';

const denoBin = join(repoRoot, 'node_modules', '.bin', 'deno');
const skip = isDeno ? 'runs once, from the Node half of the suite' : false;

function denoTask(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(denoBin, ['task', ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, closed, out: () => out, err: () => err };
}

test('deno task fieldgate --version and deno task validate work from a checkout', { skip, timeout: 60_000 }, async () => {
  const version = denoTask(['fieldgate', '--version']);
  assert.equal(await version.closed, 0, version.err());
  assert.match(version.out(), /^fieldgate \d+\.\d+\.\d+/m);

  const valid = denoTask(['validate', 'manifests/example.json']);
  assert.equal(await valid.closed, 0, valid.err());
  assert.match(valid.out(), /manifests\/example\.json: valid/);
});

test('deno task fieldgate run: the example manifest comes up on simulators and stops on SIGTERM', { skip, timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fg-deno-task-'));
  try {
    const run = denoTask(['fieldgate', 'run', 'manifests/example.json', '--sim', '--data-dir', dataDir], { API_PORT: '0', POLL_MS: '100' });
    await eventually('the ready line', 30_000, () => /ready: 2\/2 plugins running; API at http/.test(run.out()));
    // `deno task` forwards the signal to fieldgate, which must still stop cleanly (not as a second signal).
    run.child.kill('SIGTERM');
    await run.closed;
    await eventually('the store flushed on stop', 10_000, () => /store flushed/.test(run.out()));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
