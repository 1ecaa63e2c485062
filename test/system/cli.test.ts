// The fieldgate command as a user runs it: exit codes, messages, a run on simulators and a clean stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeno, runTs, spawnTs } from '../helpers/spawn.ts';
import { openStore } from '../../core/store/open.ts';
import { systemClock } from '../../core/clock.ts';
import { memoryLog } from '../../core/log.ts';

const CLI = 'bin/fieldgate.ts';

test('--version prints the package version', async () => {
  const r = await runTs(CLI, ['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^fieldgate \d+\.\d+\.\d+/);
});

test('validate: 0 for a valid manifest, 1 with every problem for an invalid one, 2 for a missing file', async () => {
  const ok = await runTs(CLI, ['validate', 'manifests/example.json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /manifests\/example.json: valid \(2 plugin\(s\), 1 adapter\(s\)\)/);

  const dir = mkdtempSync(join(tmpdir(), 'fg-cli-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({
      name: 'bad',
      adapters: [{ id: 'temp', kind: 'value', driver: 'sim', options: { scale: 'x' } }],
      plugins: [
        { id: 'p', use: 'value-poller', adapters: { source: 'temp' }, config: { key: 'k', intervalMs: 10, colour: 'red' } },
        { id: 'q', use: 'no-such-plugin' },
      ],
    }));
    const r = await runTs(CLI, ['validate', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /adapters\[0\]\.options\.scale: must be number/);
    assert.match(r.stderr, /plugins\[0\]\.config\.intervalMs: must be >= 50/);
    assert.match(r.stderr, /plugins\[0\]\.config\.colour: unknown key "colour"/);
    assert.match(r.stderr, /plugins\[1\]\.use: unknown plugin type "no-such-plugin"; known types: value-poller/);

    // Several at once (a folder of manifests in CI): each reported, the exit code is the worst.
    const several = await runTs(CLI, ['validate', 'manifests/example.json', bad]);
    assert.equal(several.code, 1);
    assert.match(several.stdout, /manifests\/example.json: valid/);
    assert.match(several.stderr, /bad\.json/);

    const missing = await runTs(CLI, ['validate', join(dir, 'nope.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.json/);

    const usage = await runTs(CLI, ['run']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give exactly one manifest file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run --sim: logs one ready line, polls the simulator, and SIGTERM stops cleanly with the store flushed', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fg-run-'));
  try {
    const child = spawnTs(CLI, ['run', 'manifests/example.json', '--sim', '--data-dir', dataDir, '--log-level', 'debug'], { env: { POLL_MS: '100', API_PORT: '0' } });
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Deno's child_process reports the signal the parent sent instead of the child's own exit code
    // when the child handled it, so on Deno the clean exit is proven by the log line and the store.
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no reading within 20 s; stdout:\n${out}\nstderr:\n${err}`)), 20_000);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (/"msg":"ready: (\d+)\/\1 plugins running/.test(out) && /soc_temp=/.test(out)) {
          clearTimeout(deadline);
          resolve();
        }
      });
    });
    const ready = out.split('\n').filter((l) => l.includes('"msg":"ready:'));
    assert.equal(ready.length, 1, 'exactly one ready line');
    assert.match(ready[0], /ready: 2\/2 plugins running; API at http:\/\/127\.0\.0\.1:\d+/);
    child.kill('SIGTERM');
    const code = await exited;
    if (!isDeno) assert.equal(code, 0, err);
    assert.match(out, /store flushed/);

    const store = await openStore({ dataDir, clock: systemClock, log: memoryLog('silent').root.logger('t') });
    try {
      const value = store.get<number>('soc_temp');
      assert.equal(typeof value, 'number');
      assert.ok(value! > 40 && value! < 56, `simulated SoC temperature around 48 °C, got ${value}`);
      assert.equal(store.get('soc_temp_ok'), true);
      assert.ok(store.recentTrend({ limit: 10 }).length >= 1, 'trend rows were logged');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
