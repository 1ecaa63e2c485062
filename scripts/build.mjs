// `npm run build`: compiles the TypeScript sources to plain JavaScript for Node >= 20 (no tsx at run
// time), copies the files the code reads at run time, then bundles and minifies the modules with esbuild
// (scripts/bundle.mjs: less code for V8 to hold, same lazy loading per plugin and adapter).
// Usage: node scripts/build.mjs [--out DIR] [--strict] [--no-bundle]   (--no-bundle: one .js per .ts)
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, jsBytes } from './bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const outIndex = argv.indexOf('--out');
const out = resolve(outIndex >= 0 ? argv[outIndex + 1] : join(root, 'dist'));

// TypeScript 7 (tsc7) is the fast native compiler; TypeScript 5.9 does the same job if it is missing.
// Both support rewriteRelativeImportExtensions (TS >= 5.7), which turns `./x.ts` imports into `./x.js`.
const require = createRequire(import.meta.url);
function compiler() {
  for (const pkg of ['tsc7', 'typescript']) {
    try {
      return join(require.resolve(`${pkg}/package.json`, { paths: [root] }), '..', 'bin', 'tsc');
    } catch {
      // try the next one
    }
  }
  console.error('build: no TypeScript compiler found; run `npm install` (dev dependencies) first');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
const tsc = compiler();
const started = Date.now();
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { cwd: root, stdio: 'inherit' });
// Type errors still emit JavaScript (noEmitOnError false): `npm run typecheck` is the gate for types,
// the build's job is runnable output. --strict makes type errors fail the build too.
const entryBuilt = existsSync(join(out, 'bin', 'fieldgate.js'));
if (r.status !== 0 && (!entryBuilt || argv.includes('--strict'))) {
  console.error(`build: tsc failed (exit ${r.status ?? r.signal}); ${entryBuilt ? 'failing because of --strict' : `nothing usable in ${out}`}`);
  process.exit(1);
}
if (r.status !== 0) console.warn('build: WARNING: type errors above (run `npm run typecheck`); JavaScript emitted anyway');

// Run-time assets, at the same place relative to the compiled modules as to the sources:
// plugins/http-api/routes/dashboard.ts serves ../../../dashboard/, the manifests point at ../schema/.
for (const dir of ['dashboard', 'schema']) {
  if (existsSync(join(root, dir))) cpSync(join(root, dir), join(out, dir), { recursive: true });
}
// bin/fieldgate.ts reads ../package.json for --version; a small one in dist also marks the tree as ESM
// and points `import ... from 'fieldgate'` at the compiled public API (index.js).
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(out, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true, exports: { '.': './index.js', './package.json': './package.json' } }, null, 2) + '\n');

// tsc stays the first step: its errors are the build's diagnostics, and --no-bundle keeps its output.
if (!argv.includes('--no-bundle')) {
  try {
    await bundle(out);
  } catch (err) {
    console.error(`build: bundling ${out} failed: ${err.message}\n(node scripts/build.mjs --no-bundle builds without bundling)`);
    process.exit(1);
  }
}

// An executable entry: `dist/bin/fieldgate.js` runs with plain node, and with a shebang when run directly.
const entry = join(out, 'bin', 'fieldgate.js');
const code = readFileSync(entry, 'utf8');
if (!code.startsWith('#!')) writeFileSync(entry, `#!/usr/bin/env node\n${code}`);
chmodSync(entry, 0o755);
console.log(`build: ${out} in ${Date.now() - started} ms, ${(jsBytes(out) / 1024).toFixed(0)} KiB of JavaScript (run: node ${entry} --version)`);
