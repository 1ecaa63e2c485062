import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ManifestError, UnreadableFileError } from '../../core/errors.ts';
import { loadManifest, parseManifest, type LoadOptions } from '../../core/manifest/load.ts';
import { adapters, plugins } from '../fixtures/manifests/catalog.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/manifests/${name}`, import.meta.url));
const options = (env: Record<string, string | undefined> = {}): LoadOptions => ({ plugins, adapters, env });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit arbitrary manifest JSON
type Json = any;

/** A valid manifest; each test breaks one thing in a fresh copy. */
function base(): Json {
  return {
    name: 'gw',
    adapters: [
      { id: 'spi0', kind: 'spi' },
      { id: 'tty', kind: 'serial', options: { path: '/dev/ttyS0' } },
    ],
    plugins: [
      { id: 'thing', use: 'tcp-thing', adapters: { bus: 'spi0' }, config: { host: 'plc', port: 502 } },
      { id: 'erp', use: 'erp', config: { url: 'https://erp.example.com', user: 'gw', password: 'pw' } },
      { id: 'regs', use: 'registers', config: { regs: [{ address: 1 }] } },
    ],
  };
}

function issuesOf(manifest: unknown, env: Record<string, string | undefined> = {}): string[] {
  const text = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  try {
    parseManifest(text, 'test.json', options(env));
  } catch (err) {
    assert.ok(err instanceof ManifestError, `expected ManifestError, got ${String(err)}`);
    assert.equal(err.file, 'test.json');
    return err.issues;
  }
  assert.fail('manifest was accepted');
}

test('a valid manifest is returned complete, with every default applied', () => {
  const { manifest, secrets, file } = parseManifest(JSON.stringify(base()), 'gw.json', options());
  assert.equal(file, 'gw.json');
  assert.deepEqual(secrets, ['pw']); // erp.password is x-secret
  assert.deepEqual(manifest.log, { level: 'info' });
  assert.deepEqual(manifest.supervisor, {
    initialBackoffMs: 1000, maxBackoffMs: 60000, factor: 2, jitter: 0.2, resetAfterMs: 60000, stopTimeoutMs: 5000, maxRestarts: 0,
  });
  assert.deepEqual(manifest.store, {
    commitDelayMs: 2, lazyFlushMs: 1000, snapshotIntervalMs: 300000, snapshotJournalBytes: 4194304, diskRetryMs: 5000,
    trendRetentionS: 3600, budgetBytes: 33554432, warnRatio: 0.8, housekeepingMs: 60000,
  });
  assert.deepEqual(manifest.history, { segmentMs: 3600000, retentionMs: 0 });
  assert.deepEqual(manifest.adapters[0], { id: 'spi0', kind: 'spi', driver: 'real', options: { device: '/dev/spidev0.0', speedHz: 1000000 } });
  assert.deepEqual(manifest.adapters[1].options, { path: '/dev/ttyS0', baud: 9600 });
  assert.deepEqual(manifest.plugins[0], {
    id: 'thing', use: 'tcp-thing', enabled: true, adapters: { bus: 'spi0' }, dependsOn: [],
    config: { host: 'plc', port: 502, mode: 'fast', verbose: false, ratio: 1, map: [] },
  });
});

// Each case: what to break, and the exact, complete list of lines expected.
const invalid: Array<[string, (m: Json) => void, string[]]> = [
  ['missing plugins', (m) => delete m.plugins, ["(root): must have required property 'plugins'"]],
  ['port out of range', (m) => (m.plugins[0].config.port = 70000), ['plugins[0].config.port: must be <= 65535']],
  ['unknown config key', (m) => (m.plugins[0].config.portt = 1), [
    'plugins[0].config.portt: unknown key "portt" (allowed: host, port, mode, verbose, ratio, timeout, map)',
  ]],
  ['unknown plugin type, with junk config that must not cascade', (m) => {
    m.plugins[0].use = 'max3186';
    m.plugins[0].config = { whatever: true };
  }, ['plugins[0].use: unknown plugin type "max3186"; known types: tcp-thing, erp, registers']],
  ['unknown adapter kind', (m) => (m.adapters[1].kind = 'canbus'), ['adapters[1].kind: unknown adapter kind "canbus"; known kinds: spi, serial']],
  ['adapter option of the wrong type', (m) => (m.adapters[0].options = { device: 0 }), ['adapters[0].options.device: must be string']],
  ['required adapter option missing', (m) => (m.adapters[1].options = {}), ["adapters[1].options: must have required property 'path'"]],
  ['nested array item', (m) => (m.plugins[0].config.map = [{ name: 'a', address: 1 }, { name: 'b', address: -1 }]), [
    'plugins[0].config.map[1].address: must be >= 0',
  ]],
  ['enum', (m) => (m.plugins[0].config.mode = 'turbo'), ['plugins[0].config.mode: must be one of: fast, slow']],
  ['anyOf folded into one line', (m) => (m.plugins[0].config.timeout = true), ['plugins[0].config.timeout: must be integer or string']],
  ['required config key', (m) => delete m.plugins[0].config.host, ["plugins[0].config: must have required property 'host'"]],
  ['absent config still checked', (m) => delete m.plugins[0].config, ["plugins[0].config: must have required property 'host'"]],
  ['literal string where a number is required', (m) => (m.plugins[0].config.port = '502'), ['plugins[0].config.port: must be integer']],
  ['format', (m) => (m.plugins[1].config.url = 'not a url'), ['plugins[1].config.url: must match format "uri"']],
  ['id pattern', (m) => (m.plugins[2].id = 'Regs'), ['plugins[2].id: must match pattern "^[a-z][a-z0-9_-]*$"']],
  ['driver', (m) => (m.adapters[0].driver = 'fake'), ['adapters[0].driver: must be one of: real, sim']],
  ['unknown top-level key', (m) => (m.plugin = []), [
    'plugin: unknown key "plugin" (allowed: $schema, name, description, dataDir, log, supervisor, store, history, adapters, plugins, display)',
  ]],
  ['unknown key in a plugin entry', (m) => (m.plugins[1].adapter = {}), [
    'plugins[1].adapter: unknown key "adapter" (allowed: id, use, enabled, adapters, dependsOn, config)',
  ]],
  ['settings bounds', (m) => (m.supervisor = { jitter: 2 }), ['supervisor.jitter: must be <= 1']],
  ['log level', (m) => (m.log = { level: 'loud' }), ['log.level: must be one of: trace, debug, info, warn, error, silent']],
  ['$ref inside a plugin schema', (m) => (m.plugins[2].config.regs = [{ address: 1 }, { address: 70000 }]), [
    'plugins[2].config.regs[1].address: must be <= 65535',
  ]],
];

for (const [name, breakIt, expected] of invalid) {
  test(`rejects: ${name}`, () => {
    const m = base();
    breakIt(m);
    assert.deepEqual(issuesOf(m), expected);
  });
}

test('rejects a manifest that is not an object', () => {
  assert.deepEqual(issuesOf([]), ['(root): must be object']);
});

test('duplicate plugin and adapter ids', () => {
  const m = base();
  m.adapters.push({ id: 'spi0', kind: 'spi' });
  m.plugins.push({ id: 'erp', use: 'registers' });
  assert.deepEqual(issuesOf(m), [
    'adapters[2].id: duplicate adapter id "spi0" (first used by adapters[0])',
    'plugins[3].id: duplicate plugin id "erp" (first used by plugins[1])',
  ]);
});

test('adapter bindings: unknown name, missing adapter, wrong kind, missing required', () => {
  const m = base();
  m.plugins[0].adapters = { bus: 'tty', aux: 'nope', extra: 'spi0' };
  m.plugins[1].adapters = { bus: 'spi0' };
  m.plugins.push({ id: 'thing2', use: 'tcp-thing', config: { host: 'x' } });
  assert.deepEqual(issuesOf(m), [
    'plugins[0].adapters.bus: adapter "tty" is of kind "serial", but binding "bus" needs kind "spi"',
    'plugins[0].adapters.aux: no adapter with id "nope" (known adapters: spi0, tty)',
    'plugins[0].adapters.extra: unknown binding "extra" (allowed: bus, aux)',
    'plugins[1].adapters.bus: unknown binding "bus" (plugin type "erp" takes no adapters)',
    'plugins[3].adapters: missing required binding "bus" (an adapter of kind "spi")',
  ]);
});

test('dependsOn: unknown ids and cycles (reported with the cycle)', () => {
  const m = base();
  m.plugins[0].dependsOn = ['regs'];
  m.plugins[1].dependsOn = ['erp', 'ghost'];
  m.plugins[2].dependsOn = ['thing'];
  assert.deepEqual(issuesOf(m), [
    'plugins[1].dependsOn[1]: no plugin with id "ghost" (known plugins: thing, erp, regs)',
    'plugins[0].dependsOn: dependency cycle thing -> regs -> thing',
    'plugins[1].dependsOn: dependency cycle erp -> erp',
  ]);
  const ok = base();
  ok.plugins[0].dependsOn = ['regs'];
  ok.plugins[1].dependsOn = ['regs', 'thing'];
  assert.deepEqual(parseManifest(JSON.stringify(ok), 't.json', options()).manifest.plugins[1].dependsOn, ['regs', 'thing']);
});

test('every problem is reported at once', () => {
  const m = base();
  m.plugins[0].config.port = 0;
  m.plugins[0].config.portt = 1;
  m.plugins[1].config.user = '${ERP_USER}';
  m.plugins[2].use = 'nope';
  m.adapters[0].id = 'tty';
  m.plugins[1].dependsOn = ['missing'];
  delete m.name;
  assert.deepEqual(issuesOf(m), [
    'plugins[1].config.user: environment variable ERP_USER is not set (use ${ERP_USER:-default} for a default)',
    "(root): must have required property 'name'",
    'plugins[0].config.portt: unknown key "portt" (allowed: host, port, mode, verbose, ratio, timeout, map)',
    'plugins[0].config.port: must be >= 1',
    'adapters[1].id: duplicate adapter id "tty" (first used by adapters[0])',
    'plugins[0].adapters.bus: no adapter with id "spi0" (known adapters: tty)',
    'plugins[2].use: unknown plugin type "nope"; known types: tcp-thing, erp, registers',
    'plugins[1].dependsOn[0]: no plugin with id "missing" (known plugins: thing, erp, regs)',
  ]);
});

// --- environment ---

test('env: numbers, booleans and defaults are coerced to the schema type; strings stay strings', () => {
  const m = base();
  m.plugins[0].config = { host: '${PLC_HOST}', port: '${API_PORT:-8080}', verbose: '${VERBOSE}', ratio: '${RATIO:-0.5}', mode: '${MODE:-slow}' };
  const a = parseManifest(JSON.stringify(m), 't.json', options({ PLC_HOST: '1234', VERBOSE: 'true' })).manifest.plugins[0].config;
  assert.deepEqual(
    { host: a.host, port: a.port, verbose: a.verbose, ratio: a.ratio, mode: a.mode },
    { host: '1234', port: 8080, verbose: true, ratio: 0.5, mode: 'slow' },
  );
  const b = parseManifest(JSON.stringify(m), 't.json', options({ PLC_HOST: 'plc', API_PORT: '1502', VERBOSE: 'false', MODE: '' })).manifest.plugins[0].config;
  assert.deepEqual({ port: b.port, verbose: b.verbose, mode: b.mode }, { port: 1502, verbose: false, mode: 'slow' });
});

test('env: $${ is a literal ${ and parts of strings are interpolated', () => {
  const m = base();
  m.plugins[0].config.host = 'plc-${SITE}.local';
  m.plugins[1].config.user = 'literal $${NOT_A_VAR} and $$ alone';
  const { manifest } = parseManifest(JSON.stringify(m), 't.json', options({ SITE: 'b7' }));
  assert.equal(manifest.plugins[0].config.host, 'plc-b7.local');
  assert.equal(manifest.plugins[1].config.user, 'literal ${NOT_A_VAR} and $$ alone');
});

test('env: every missing variable is reported with its path; malformed references too', () => {
  const m = base();
  m.plugins[1].config.password = '${ODOO_PASSWORD}';
  m.plugins[1].config.user = '${ODOO_USER}';
  m.plugins[0].config.host = '${bad name}';
  assert.deepEqual(issuesOf(m), [
    'plugins[0].config.host: invalid environment reference "${bad name}" (write ${NAME} or ${NAME:-default}; $${ for a literal ${)',
    'plugins[1].config.user: environment variable ODOO_USER is not set (use ${ODOO_USER:-default} for a default)',
    'plugins[1].config.password: environment variable ODOO_PASSWORD is not set (use ${ODOO_PASSWORD:-default} for a default)',
  ]);
});

test('env: a value that cannot be coerced names the variable and the type', () => {
  const m = base();
  m.plugins[0].config.port = '${API_PORT}';
  m.plugins[0].config.verbose = '${VERBOSE}';
  assert.deepEqual(issuesOf(m, { API_PORT: 'abc', VERBOSE: 'yes please' }), [
    'plugins[0].config.port: environment variable API_PORT cannot be converted to integer',
    'plugins[0].config.verbose: environment variable VERBOSE cannot be converted to boolean',
  ]);
  assert.deepEqual(issuesOf(m, { API_PORT: '70000', VERBOSE: 'true' }), [
    'plugins[0].config.port: must be <= 65535 (value from environment variable API_PORT)',
  ]);
});

// --- secrets ---

test('secrets: secret-named variables and x-secret values are collected; others are not', () => {
  const m = base();
  m.plugins[1].config = { url: 'https://erp.example.com', user: '${API_TOKEN}', password: '${ODOO_PW}' };
  m.plugins[0].config.host = '${PLC_HOST}';
  m.name = '${DB_CREDENTIALS:-fallback-cred}';
  const { secrets } = parseManifest(JSON.stringify(m), 't.json', options({ API_TOKEN: 'tok-123456', ODOO_PW: 'odoo-pw-999', PLC_HOST: 'plc' }));
  assert.deepEqual(secrets.sort(), ['fallback-cred', 'odoo-pw-999', 'tok-123456']);
});

test('secrets never appear in error messages', () => {
  const m = base();
  m.plugins[0].use = '${DEPLOY_TOKEN}';
  m.plugins[1].config.password = 'literal-secret-value';
  m.plugins[1].config.url = '${ERP_KEY}';
  m.plugins[2].config.regs = [{ address: '${REG_SECRET}' }];
  const env = { DEPLOY_TOKEN: 'tcp-thing-but-secret', ERP_KEY: 'key-not-a-url', REG_SECRET: 'secret-register' };
  let error: unknown;
  try {
    parseManifest(JSON.stringify(m), 't.json', options(env));
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof ManifestError);
  assert.deepEqual(error.issues, [
    'plugins[1].config.url: must match format "uri" (value from environment variable ERP_KEY)',
    'plugins[2].config.regs[0].address: environment variable REG_SECRET cannot be converted to integer',
    'plugins[0].use: unknown plugin type "***"; known types: tcp-thing, erp, registers',
  ]);
  for (const secret of [...Object.values(env), 'literal-secret-value']) assert.ok(!error.message.includes(secret), secret);
});

// --- files and syntax ---

test('malformed JSON reports file:line:column', async () => {
  await assert.rejects(loadManifest(fixture('malformed.json'), options()), (err: unknown) => {
    assert.ok(err instanceof ManifestError);
    assert.equal(err.issues.length, 1);
    assert.match(err.issues[0], /malformed\.json:4:32: Expected double-quoted property name$/);
    return true;
  });
  // V8 gives no position for some errors; the fallback scanner finds it.
  assert.deepEqual(issuesOf('{\n  "name": tru,\n  "plugins": []\n}'), [`test.json:2:14: Unexpected token ','`]);
  assert.deepEqual(issuesOf('{\n  "plugins": [1,]\n}'), [`test.json:2:17: Unexpected token ']'`]);
  assert.deepEqual(issuesOf(''), ['test.json:1:1: Unexpected end of JSON input']);
});

test('an unreadable file is an UnreadableFileError', async () => {
  await assert.rejects(loadManifest(fixture('does-not-exist.json'), options()), (err: unknown) => {
    assert.ok(err instanceof UnreadableFileError);
    assert.match(err.message, /does-not-exist\.json: cannot read the manifest \(no such file\)/);
    return true;
  });
  await assert.rejects(loadManifest(fixture(''), options()), UnreadableFileError);
});

test('loadManifest reads a file and applies the environment', async () => {
  const loaded = await loadManifest(fixture('valid.json'), options({ ERP_PASSWORD: 'from-env-pw' }));
  assert.equal(loaded.manifest.plugins[0].config.port, 1502);
  assert.equal(loaded.manifest.plugins[1].enabled, false);
  assert.equal(loaded.manifest.adapters[0].driver, 'sim');
  assert.deepEqual(loaded.secrets, ['from-env-pw']);
});
