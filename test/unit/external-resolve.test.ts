// How `use`/`kind` specifiers of external plugins find their file: relative paths and npm packages
// (exports with conditions, subpaths, scoped names, main, index.js) from the manifest's folder upwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isExternalSpecifier, locate } from '../../core/manifest/external.ts';
import { parseManifest } from '../../core/manifest/load.ts';
import { ManifestError } from '../../core/errors.ts';

function tree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

test('specifiers: paths and npm: are external, catalogue names are not', () => {
  for (const s of ['./a.js', '../b/c.ts', '/opt/x.mjs', 'npm:foo', 'npm:@acme/foo']) assert.equal(isExternalSpecifier(s), true, s);
  for (const s of ['value-poller', 'modbus', 'http-api']) assert.equal(isExternalSpecifier(s), false, s);
});

test('npm packages resolve from node_modules of the manifest folder or above, by exports, main or index.js', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fg-resolve-'));
  try {
    tree(root, {
      'node_modules/@acme/fg-meter/package.json': JSON.stringify({ exports: { '.': { require: './c.cjs', import: './e.js' }, './extra': { default: './x.js' } } }),
      'node_modules/@acme/fg-meter/e.js': '',
      'node_modules/@acme/fg-meter/x.js': '',
      'node_modules/plain/package.json': JSON.stringify({ main: 'lib/main.js' }),
      'node_modules/plain/lib/main.js': '',
      'node_modules/bare/package.json': '{}',
      'node_modules/bare/index.js': '',
      'node_modules/broken/package.json': JSON.stringify({ exports: './gone.js' }),
      'node_modules/cjs-only/package.json': JSON.stringify({ exports: { '.': { require: './c.cjs' } } }),
      'site/sub/plugins/mine.js': '',
    });
    const site = join(root, 'site', 'sub');
    assert.equal(await locate('npm:@acme/fg-meter', site), join(root, 'node_modules/@acme/fg-meter/e.js'));
    assert.equal(await locate('npm:@acme/fg-meter/extra', site), join(root, 'node_modules/@acme/fg-meter/x.js'));
    assert.equal(await locate('npm:plain', site), join(root, 'node_modules/plain/lib/main.js'));
    assert.equal(await locate('npm:bare', site), join(root, 'node_modules/bare/index.js'));
    assert.equal(await locate('./plugins/mine.js', site), join(site, 'plugins/mine.js'));
    await assert.rejects(locate('npm:broken', site), /the package's entry \.\/gone\.js does not exist/);
    await assert.rejects(locate('npm:cjs-only', site), /exports nothing at "\." for import/);
    await assert.rejects(locate('npm:@acme/fg-meter/nope', site), /exports nothing at "\.\/nope"/);
    await assert.rejects(locate('npm:absent', site), /package absent is not installed in node_modules of .*sub or a folder above it/);
    await assert.rejects(locate('./plugins/other.js', site), /no such file/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a name that looks like a file but lacks ./ is told how to name an external plugin', () => {
  const text = JSON.stringify({ name: 'x', plugins: [{ id: 'a', use: 'plugins/alarm.js' }, { id: 'b', use: 'nope' }] });
  assert.throws(() => parseManifest(text, 'm.json', { plugins: [], adapters: [], env: {} }), (err: unknown) => {
    assert.ok(err instanceof ManifestError);
    assert.match(err.issues[0], /^plugins\[0\]\.use: unknown plugin type "plugins\/alarm\.js"; known types: \(none\); a file is named by a path starting with \.\/ or \.\.\/ \(relative to the manifest\), a package by npm:<name>$/);
    assert.equal(err.issues[1], 'plugins[1].use: unknown plugin type "nope"; known types: (none)');
    return true;
  });
});

test("a plugin's validateConfig that throws is a problem line, not a crash", () => {
  const crashing = {
    type: 'crashy', version: '1', description: 'x', configSchema: { type: 'object' },
    validateConfig: () => {
      throw new TypeError('cannot read properties of undefined');
    },
    create: () => ({ start() {} }),
  };
  const text = JSON.stringify({ name: 'x', plugins: [{ id: 'a', use: 'crashy' }] });
  assert.throws(() => parseManifest(text, 'm.json', { plugins: [crashing], adapters: [], env: {} }), (err: unknown) => {
    assert.ok(err instanceof ManifestError);
    assert.deepEqual(err.issues, ["plugins[0].config: the plugin's validateConfig failed: cannot read properties of undefined"]);
    return true;
  });
});
