// The production build's second step (`npm run build` runs it after tsc, scripts/build.mjs): replaces the
// compiled modules in dist/ by one minified ESM bundle, dist/bin/fieldgate.js, split into chunks
// (dist/chunks/) at every `await import()`, so a manifest still loads only the plugin and adapter types
// it names. Minified code is less source text for V8 to keep for lazy compilation (bench/RESULTS.md,
// "Footprint"). esbuild comes with tsx, a run-time dependency; no new package.
// Usage: node scripts/bundle.mjs --out DIR   (DIR holds the tsc build; its dashboard/ and schema/ stay)
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Packages left out of the bundle and loaded from node_modules at run time: native addons (and the
 * packages that load them), packages that read their own files beside their code (__dirname), and
 * ones loaded only on demand anyway. Everything else (fastify, ajv, tsyringe, ...) is bundled.
 */
export const EXTERNAL = [
  'serialport', '@serialport/*', 'spi-device', 'onoff', 'koffi', 'socketcan', 'epoll',
  'sql.js', // emscripten glue; the .wasm is resolved beside it (core/store/sqlite.ts)
  '@fastify/swagger-ui', // serves its static/ folder, found via __dirname
  'pg', 'pg-native', 'ioredis', 'mqtt', 'ws', 'protobufjs', 'tsx', 'esbuild', 'typescript', 'tsc7',
  'playwright-core', 'autocannon', 'deno',
];

/** Folders whose modules become the bundle; the rest of dist/ (dashboard/, schema/, package.json) stays. */
const COMPILED = ['core', 'plugins', 'adapters', 'sim', 'bin', 'index.js', 'chunks', 'fieldgate.js'];

// Each output file (dist/bin/fieldgate.js, dist/chunks/*.js) sits one folder below dist/. A module's
// `import.meta.url` is rewritten to the URL its compiled file would have in the unbundled dist/, so the
// code that finds files relative to itself (dashboard, schema, package.json, DBC files) works unchanged.
const importMetaUrl = {
  name: 'fieldgate-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes('node_modules')) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const asBuilt = './' + relative(root, args.path).split('\\').join('/').replace(/\.ts$/, '.js');
      const url = `new URL(${JSON.stringify(asBuilt)}, new URL('../', import.meta.url)).href`;
      return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

export async function bundle(out) {
  const require = createRequire(import.meta.url);
  let esbuild;
  try {
    const beside = [dirname(require.resolve('tsx/package.json', { paths: [root] })), root];
    esbuild = await import(pathToFileURL(require.resolve('esbuild', { paths: beside })).href);
  } catch (err) {
    throw new Error(`bundle: esbuild not found (it comes with tsx; run npm install): ${err.message}`);
  }
  for (const name of COMPILED) rmSync(join(out, name), { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(root, 'bin', 'fieldgate.ts'), join(root, 'index.ts')],
    outbase: root,
    outdir: out,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    // Stack traces and logs keep the class and function names errors are reported with.
    keepNames: true,
    legalComments: 'none',
    external: EXTERNAL,
    // CommonJS packages inside an ESM bundle call require() for Node built-ins.
    banner: { js: "import { createRequire as __fgRequire } from 'node:module'; const require = __fgRequire(import.meta.url);" },
    plugins: [importMetaUrl],
    logLevel: 'warning',
    metafile: true,
  });
  return result;
}

/** Total bytes of the JavaScript files under dir. */
export function jsBytes(dir) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) total += jsBytes(p);
    else if (name.endsWith('.js')) total += st.size;
  }
  return total;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const outIndex = argv.indexOf('--out');
  const out = resolve(outIndex >= 0 ? argv[outIndex + 1] : join(root, 'dist'));
  if (!existsSync(out)) {
    console.error(`bundle: ${out} does not exist; run node scripts/build.mjs first`);
    process.exit(1);
  }
  const started = Date.now();
  await bundle(out);
  console.log(`bundle: ${out} in ${Date.now() - started} ms, ${(jsBytes(out) / 1024).toFixed(0)} KiB of JavaScript`);
}
