// `fieldgate validate` on recorder manifests: unknown sensors and machines, bad S7 addresses,
// duplicate pins and bad Modbus addresses are refused with their paths; the shipped manifest passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../core/cli/main.ts';
import { pluginCatalog } from '../../plugins/catalog.ts';
import { adapterCatalog } from '../../adapters/catalog.ts';
import { repoRoot } from '../helpers/spawn.ts';

async function validate(manifest: unknown): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-recorder-validate-'));
  try {
    const file = join(dir, 'm.json');
    writeFileSync(file, JSON.stringify(manifest));
    const out: string[] = [];
    const code = await runCli(['validate', file], { plugins: pluginCatalog, adapters: adapterCatalog, version: 'test', stdout: (l) => out.push(l), stderr: (l) => out.push(l) });
    return { code, out: out.join('\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const shipped = () => JSON.parse(readFileSync(join(repoRoot, 'manifests/signal-recorder.json'), 'utf8'));

test('the shipped signal-recorder manifest is valid', async () => {
  const r = await validate(shipped());
  assert.equal(r.code, 0, r.out);
});

test('invalid mappings are refused, each with its path', async () => {
  const m = shipped();
  const config = m.plugins[0].config;
  config.sensors.push({ id: 'ghost', machine: 'm9', type: 'cycle' });
  config.mappings.push(
    { sensor: 'nope', source: 'plc', address: 'DB1,X3.0' },
    { sensor: 'm1-cycle', source: 'plc', address: 'DB1,REAL999999999' },
    { sensor: 'ghost', source: 'plc', address: 'db1,real8' },
  );
  config.mappings[1].address = 'DB1,X0.9';
  const r = await validate(m);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /plugins\[0\]\.config\.sensors\[6\]\.machine: unknown machine "m9"/);
  assert.match(r.out, /plugins\[0\]\.config\.mappings\[6\]\.sensor: unknown sensor "nope"/);
  assert.match(r.out, /plugins\[0\]\.config\.mappings\[1\]\.address: S7 address "DB1,X0\.9"/);
  assert.match(r.out, /plugins\[0\]\.config\.mappings\[7\]\.address: S7 address "DB1,REAL999999999"/);
  assert.match(r.out, /plugins\[0\]\.config\.mappings\[8\]\.address: duplicate pin "db1,real8" on plc \(already mapped by mappings\[2\]\)/);
  assert.match(r.out, /plugins\[0\]\.config\.mappings\[7\]\.sensor: sensor "m1-cycle" is already mapped by mappings\[1\]/);
});

test('Modbus and GPIO mappings: addresses and counter mode are checked', async () => {
  const m = shipped();
  m.plugins[0].config.mappings.push(
    { sensor: 'm3-power', source: 'modbus', address: 'hr:70000' },
  );
  m.plugins[0].config.mappings[5] = { sensor: 'm3-cycle', source: 'gpio1', address: 'line', mode: 'counter' };
  const r = await validate(m);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /mappings\[6\]\.address: "hr:70000" is not a Modbus address/);
  assert.match(r.out, /mappings\[5\]\.mode: a GPIO input has no counter/);
});
