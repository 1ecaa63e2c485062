// `npm run build` output as a device runs it: plain Node, no tsx, laid out like /opt/fieldgate
// (dist/ beside node_modules/), validating and running the lab manifest on simulators.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeno, repoRoot } from '../helpers/spawn.ts';

// The build is for Node; under the Deno run of the suite it is the Node binary on PATH that runs it.
const node = isDeno ? 'node' : process.execPath;
let dir = '';
let entry = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fg-build-'));
  const r = spawnSync(node, [join(repoRoot, 'scripts/build.mjs'), '--out', join(dir, 'dist')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `build failed:\n${r.stdout}\n${r.stderr}`);
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  entry = join(dir, 'dist/bin/fieldgate.js');
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function files(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)]));
}

test('the build is plain JavaScript bundled in chunks: no .ts imports left, run-time assets copied, an executable entry', () => {
  const js = files(join(dir, 'dist')).filter((f) => f.endsWith('.js') && !f.includes('/dashboard/'));
  // One minified entry plus a chunk per lazily imported plugin/adapter module (scripts/bundle.mjs).
  const chunks = js.filter((f) => f.includes('/dist/chunks/'));
  assert.ok(chunks.length > 20, `chunks: ${chunks.length}`);
  assert.deepEqual(js.filter((f) => !f.includes('/dist/chunks/')).map((f) => f.slice(join(dir, 'dist').length)).sort(), ['/bin/fieldgate.js', '/index.js']);
  const tsImports = js.filter((f) => /\bfrom\s+['"]\.{1,2}\/[^'"]+\.ts['"]|import\(\s*['"]\.{1,2}\/[^'"]+\.ts['"]/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(tsImports, []);
  for (const asset of ['dashboard/index.html', 'dashboard/app.js', 'schema/manifest.schema.json', 'package.json']) {
    assert.ok(statSync(join(dir, 'dist', asset)).isFile(), asset);
  }
  assert.match(readFileSync(entry, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  assert.ok(statSync(entry).mode & 0o100, 'entry is executable');
});

test('node dist/bin/fieldgate.js: --version and validate work without tsx', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const v = spawnSync(node, [entry, '--version'], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), `fieldgate ${pkg.version}`);
  const ok = spawnSync(node, [entry, 'validate', join(repoRoot, 'manifests/plc-remote-lab.json')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /valid \(5 plugin\(s\), 3 adapter\(s\)\)/);
});

test('the build loads the JavaScript example plugin, exports the public API, and explains a TypeScript plugin it cannot load (or loads it, where Node strips types)', () => {
  const ok = spawnSync(node, [entry, 'validate', join(repoRoot, 'examples/threshold-alarm/manifest.json')], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(ok.status, 0, ok.stderr);
  const api = spawnSync(node, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(dir, 'dist/index.js'))}); console.log(m.CONTRACT_VERSION, typeof m.definePlugin)`], { encoding: 'utf8' });
  assert.equal(api.stdout.trim(), '1 function', api.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'dist/package.json'), 'utf8')).exports, { '.': './index.js', './package.json': './package.json' });

  const site = join(dir, 'site');
  mkdirSync(site);
  writeFileSync(join(site, 'p.ts'), "export default { type: 'p' } as unknown;");
  writeFileSync(join(site, 'm.json'), JSON.stringify({ name: 'ts', plugins: [{ id: 'p', use: './p.ts' }] }));
  const ts = spawnSync(node, [entry, 'validate', join(site, 'm.json')], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(ts.status, 1);
  // Node 22.18+/23.6+ strips types itself (the spawned node's process.features.typescript): there it loads, and
  // this one is refused for what it is; older Nodes cannot import it at all and say so.
  const nativeTypeScript = spawnSync(node, ['-p', 'Boolean(process.features.typescript)'], { encoding: 'utf8' }).stdout.trim() === 'true';
  assert.match(ts.stderr, nativeTypeScript
    ? /plugins\[0\]\.use: cannot load plugin "\.\/p\.ts" \(.*p\.ts\): the default export is not a plugin definition/
    : /plugins\[0\]\.use: cannot load plugin "\.\/p\.ts" \(.*p\.ts\): this Node cannot import TypeScript/);
});

test('the built gateway runs the lab on simulators to its ready line, serves the dashboard, and stops cleanly', { timeout: 60_000 }, async () => {
  const data = join(dir, 'data');
  const child = spawn(node, [entry, 'run', join(repoRoot, 'manifests/plc-remote-lab.json'), '--sim', '--data-dir', data], {
    cwd: dir,
    env: { ...process.env, API_PORT: '0', API_HOST: '127.0.0.1', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  try {
    const api = await new Promise<string>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no ready line in 30 s:\n${out}\n${err}`)), 30_000);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /"msg":"ready: (\d+)\/\1 plugins running; API at (http:\/\/[^"]+)"/.exec(out);
        if (m) {
          clearTimeout(deadline);
          resolve(m[2]);
        }
      });
      child.on('close', () => reject(new Error(`exited before ready:\n${out}\n${err}`)));
    });
    const page = await fetch(`${api}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const state = (await (await fetch(`${api}/api/state`)).json()) as Record<string, unknown>;
    assert.equal(typeof state.setpoint_out, 'number', JSON.stringify(state));
    // The OpenAPI UI loads on this first request (docs-ui.ts), from node_modules beside dist/.
    const docs = await fetch(`${api}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
    assert.equal((await fetch(`${api}/docs/static/swagger-ui.css`)).headers.get('content-type'), 'text/css; charset=utf-8');
    const health = await fetch(`${api}/health`);
    assert.ok(health.status === 200 || health.status === 503, `health ${health.status}`);
    child.kill('SIGTERM');
    const code = await exited;
    if (!isDeno) assert.equal(code, 0, err);
    assert.match(out, /stopped; store flushed/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('deploy/install.sh parses, and --dry-run in a temporary root plans every step and changes nothing', () => {
  const script = join(repoRoot, 'deploy/install.sh');
  const syntax = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);

  const root = join(dir, 'root');
  const config = join(root, 'boot/firmware/config.txt');
  spawnSync('mkdir', ['-p', join(root, 'boot/firmware')]);
  spawnSync('sh', ['-c', `printf '[all]\\n' > '${config}'`]);
  const r = spawnSync('bash', [script, '--manifest', join(repoRoot, 'manifests/plc-remote-lab.json'), '--spi', '--can', '--dry-run', '--root', root], {
    encoding: 'utf8',
    // The dry run needs a Node >= 20 on PATH; under the Deno run of the suite it is the system one.
    env: { ...process.env, PATH: `${isDeno ? '' : `${join(process.execPath, '..')}:`}${process.env.PATH}` },
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  for (const step of [
    /would run: npm --prefix \S+\/opt\/fieldgate ci --omit=dev/,
    /npm install-scripts approve spi-device onoff @serialport\/bindings-cpp|rebuild spi-device onoff @serialport\/bindings-cpp/,
    /hardware backends \(no compiler needed\)\n.*gpio: \/dev\/gpiochip\* v2 uAPI and can: raw AF_CAN socket, both through libc with koffi/,
    /would check: .*require\('koffi'\).*fieldgate doctor then names each adapter's backend/,
    /would write: \S+\/etc\/udev\/rules\.d\/99-fieldgate\.rules/,
    /would append to \S+\/boot\/firmware\/config\.txt: dtparam=spi=on/,
    /would append to \S+\/boot\/firmware\/config\.txt: dtoverlay=mcp2515-can0,oscillator=16000000,interrupt=25/,
    /would write: \S+\/etc\/systemd\/network\/80-can\.network/,
    /BitRate=500000/,
    /would write: \S+\/etc\/fieldgate\/plc-remote-lab\.env/,
    /fieldgate-plc-remote-lab\.service/,
    /done \(dry run: nothing changed\)/,
  ]) assert.match(r.stdout, step);
  if (/would write: \S+\/etc\/systemd\/system\/fieldgate-plc-remote-lab\.service/.test(r.stdout)) {
    assert.match(r.stdout, /\| ExecStart=\S+(?: --\S+)* \/opt\/fieldgate\/dist\/bin\/fieldgate\.js run \/etc\/fieldgate\/plc-remote-lab\.json --data-dir \/var\/lib\/fieldgate\/plc-remote-lab/);
  }
  assert.deepEqual(files(root).map((f) => f.slice(root.length)), ['/boot/firmware/config.txt'], 'a dry run writes nothing');
  assert.equal(readFileSync(config, 'utf8'), '[all]\n');
});
