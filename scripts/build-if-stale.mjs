// `npm start` runs the compiled JavaScript, as a device does, not the sources through tsx: tsx's loader
// thread and on-the-fly transpiling cost about 40 MB and half a second at start (bench/RESULTS.md,
// "Footprint"). This builds into node_modules/.cache/fieldgate/dist, and only when a source file is
// newer than the last build (a few seconds with tsc7), so editing and restarting stays quick.
// Usage: node scripts/build-if-stale.mjs   (prints the entry to run)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const out = join(root, 'node_modules', '.cache', 'fieldgate', 'dist');
const stamp = join(out, '.built');
const SOURCES = ['core', 'plugins', 'adapters', 'sim', 'bin', 'dashboard', 'schema', 'index.ts', 'package.json'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changed = Math.max(...SOURCES.map((s) => newest(join(root, s))));
if (changed > builtAt) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(stamp, new Date().toISOString() + '\n');
}
