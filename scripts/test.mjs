// Runs the same node:test files on Node (through tsx) and on Deno. Usage: node scripts/test.mjs [node|deno] [file...]
// Node 20 does not expand globs for --test, so the file list is built here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const runtimes = ['node', 'deno'].filter((r) => args.length === 0 || args.includes(r) || !args.some((a) => a === 'node' || a === 'deno'));
const explicit = args.filter((a) => a !== 'node' && a !== 'deno');

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    // test/kernel needs a real kernel (vcan0, gpio-sim): scripts/kernel/run.sh runs it in a QEMU guest.
    if (statSync(p).isDirectory()) {
      if (relative(root, p) !== join('test', 'kernel')) out.push(...findTests(p));
    } else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const files = explicit.length ? explicit : findTests(join(root, 'test'));
if (files.length === 0) {
  console.error('no test files found under test/');
  process.exit(1);
}

const deno = join(root, 'node_modules', '.bin', 'deno');
const commands = {
  node: [process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files]],
  deno: [deno, ['test', '-A', '--no-check', ...files]],
};

let failed = false;
for (const runtime of runtimes) {
  const [cmd, cmdArgs] = commands[runtime];
  console.log(`\n=== ${runtime}: ${files.length} test file(s) ===`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, FIELDGATE_RUNTIME: runtime } });
  if (r.status !== 0) {
    console.error(`=== ${runtime}: FAILED (exit ${r.status ?? r.signal}) ===`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
