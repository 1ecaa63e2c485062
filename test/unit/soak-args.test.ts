// The soak's command line: --only picks the manifest, `both` re-runs the script once per manifest as
// a child, and a `both` log (prefixed lines) is judged per child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childCommand } from '../../bench/soak-children.ts';
import { parseSoakArgs, parseSoakLog } from '../../bench/soak-verdict.ts';

test('--only, --days and --max-real-min are parsed; a bad --only says what is allowed', () => {
  const a = parseSoakArgs(['--days', '7', '--only', 'lab', '--max-real-min', '90']);
  assert.equal(a.only, 'lab');
  assert.equal(a.days, 7);
  assert.equal(a.maxRealMin, 90);
  assert.equal(parseSoakArgs([]).only, 'both');
  assert.throws(() => parseSoakArgs(['--only', 'odoo']), /--only lab, --only cea or --only both/);
});

test('each child runs the same script and arguments with its own --only, on Node and on Deno', () => {
  const o = { execPath: '/usr/bin/node', execArgv: ['--expose-gc', '--import', 'tsx'], script: '/r/bench/soak.ts', deno: false, gc: true, v8Flags: [] };
  assert.deepEqual(childCommand('cea', ['--days', '7', '--only', 'both', '--keep'], o), ['/usr/bin/node', '--expose-gc', '--import', 'tsx', '/r/bench/soak.ts', '--days', '7', '--keep', '--only', 'cea']);
  assert.deepEqual(childCommand('lab', ['--days', '1'], { ...o, execPath: '/bin/deno', execArgv: [], deno: true }), ['/bin/deno', 'run', '-A', '--v8-flags=--expose-gc', '/r/bench/soak.ts', '--days', '1', '--only', 'lab']);
});

test('children run with the unit\'s V8 flags (as deployed) unless --node-defaults', () => {
  const o = { execPath: '/usr/bin/node', execArgv: ['--expose-gc', '--import', 'tsx'], script: '/r/bench/soak.ts', deno: false, gc: true, v8Flags: ['--max-semi-space-size=1', '--liftoff-only'] };
  assert.deepEqual(childCommand('lab', ['--days', '1'], o).slice(0, 6), ['/usr/bin/node', '--max-semi-space-size=1', '--liftoff-only', '--expose-gc', '--import', 'tsx']);
  assert.deepEqual(childCommand('lab', [], { ...o, execPath: '/bin/deno', execArgv: [], deno: true }).slice(0, 4), ['/bin/deno', 'run', '-A', '--v8-flags=--expose-gc,--max-semi-space-size=1,--liftoff-only']);
  assert.equal(parseSoakArgs(['--node-defaults']).nodeDefaults, true);
  assert.equal(parseSoakArgs([]).nodeDefaults, false);
});

test('a both-children log is split by prefix into each child\'s hourly rows', () => {
  const row = (h: number, rss: number) => `${h} ${h * 30} ${rss} 39 220 0 720 1800 0.1 13 0`;
  const wide = (h: number) => `${h} ${h * 30} 210 39 220 0 720 1800 0.1 13 0 52 3 160`; // with the memory breakdown
  const log = ['lab | sim_h  real_s ...', `lab | ${row(1, 280)}`, `cea | ${row(1, 240)}`, `cea | ${row(2, 250)}`, 'soak: both children done'].join('\n');
  assert.deepEqual(parseSoakLog(log, 'lab').map((s) => s.rssMB), [280]);
  assert.deepEqual(parseSoakLog(log, 'cea').map((s) => s.hour), [1, 2]);
  assert.equal(parseSoakLog(row(1, 200)).length, 1, 'a single-manifest log has no prefix');
  assert.equal(parseSoakLog(wide(3))[0]?.rssMB, 210, 'the memory breakdown columns are read past');
});
