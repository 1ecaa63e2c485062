// Runs node:test files in this one process (imported in turn; node:test runs their tests in order and
// sets a failing exit code), for scripts/arm64/run.sh: `node --test` would spawn one child per file with
// process.execPath, an arm64 binary the kernel cannot exec under qemu-user without binfmt_misc, and one
// Node start under qemu costs seconds. Usage: node --import tsx scripts/arm64/tests.mjs <file.test.ts>...
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node --import tsx scripts/arm64/tests.mjs <file.test.ts>...');
  process.exit(2);
}
for (const file of files) await import(pathToFileURL(resolve(file)).href);
