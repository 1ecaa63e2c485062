// Scenario files as a user writes them: every mistake named with its path, the published schema in
// step with the code, assertions compared the way the docs say, and reports that stay well-formed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../../core/cli/args.ts';
import { compare, contains } from '../../core/scenario/expect.ts';
import { parseScenario, ScenarioError } from '../../core/scenario/load.ts';
import { junitReport, tapReport } from '../../core/scenario/report.ts';
import type { ScenarioResult } from '../../core/scenario/run.ts';
import { scenarioSchema } from '../../core/scenario/schema.ts';
import { repoRoot } from '../helpers/spawn.ts';

const issuesOf = (text: string): string[] => {
  try {
    parseScenario(text, 's.json');
  } catch (e) {
    assert.ok(e instanceof ScenarioError, String(e));
    return e.issues;
  }
  assert.fail('expected the scenario to be refused');
};

test('a valid scenario gets its defaults: virtual clock, empty env, speed cap 50', () => {
  const s = parseScenario(JSON.stringify({ manifest: 'm.json', steps: [{ wait: 1 }, { expect: { heartbeat: 'x', stale: false }, within: 2 }] }), 's.json');
  assert.equal(s.clock, 'virtual');
  assert.deepEqual(s.env, {});
  assert.equal(s.maxSpeed, 50);
});

test('every problem is named with its path', () => {
  assert.match(issuesOf('{ "manifest": "m.json", "steps": [ { "wait": 1 }, ]}')[0], /^s\.json:1:\d+: /, 'a syntax error gives line:column');
  const issues = issuesOf(JSON.stringify({
    manifest: 'm.json',
    clock: 'fast',
    stepz: [],
    steps: [
      { fault: 'offline' },
      { fault: 'full', disk: 'ssd' },
      { fault: 'slow', device: 'plc' },
      { fault: 'silent', device: 'canbus' },
      { expect: { state: 'x', equals: 1, heartbeat: 'y' } },
      { expect: { rows: 'can_messages', from: 5 } },
      { command: {}, status: 99 },
      { http: { method: 'TRACE', path: 'api' } },
      { expect: { sql: 'DELETE FROM state', equals: 1 } },
      { expect: { state: 'x', tolerance: 1, equals: 2 } },
    ],
  }));
  for (const want of [
    'clock: must be one of: virtual, real',
    'stepz: unknown key "stepz"',
    'steps[0]: a fault needs either "device" (an adapter id) or "disk" (store, history or both)',
    'steps[1].disk: must be one of: store, history, both',
    'steps[2]: fault "slow" needs "ms" (the delay added to each answer)',
    'steps[3]: fault "silent" needs "box" (the CAN node that stops sending)',
    'steps[4].expect: has state and heartbeat; one assertion per step',
    'steps[5].expect.from: must be <= 0',
    'steps[6].command: must NOT have fewer than 1 properties',
    'steps[6].status: must be >= 100',
    'steps[7].http.method: must be one of: GET, POST, PUT, PATCH, DELETE',
    'steps[7].http.path: must match pattern "^/"',
    'steps[8].expect.sql: must be a read-only query (SELECT or WITH)',
    'steps[9].expect.tolerance: only meaningful with "approx"',
  ]) assert.ok(issues.some((i) => i.startsWith(want)), `missing "${want}" in:\n${issues.join('\n')}`);
  assert.ok(!issues.some((i) => i.startsWith('steps[4].expect.')), 'no schema noise about either half of a two-headed assertion');
  const order = issues.map((i) => Number(/^steps\[(\d+)\]/.exec(i)?.[1] ?? -1));
  assert.deepEqual(order, [...order].sort((a, b) => a - b), 'sorted by step');
});

test('the published schema/scenario.schema.json is the one in the code, and every shipped scenario passes it', () => {
  const published = JSON.parse(readFileSync(join(repoRoot, 'schema/scenario.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(published, JSON.parse(JSON.stringify(scenarioSchema)), 'run: npm run build:schema');
  const files = readdirSync(join(repoRoot, 'scenarios')).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 4);
  for (const f of files) parseScenario(readFileSync(join(repoRoot, 'scenarios', f), 'utf8'), f);
});

test('comparisons: equals is deep, approx has a 1 % default tolerance, min/max inclusive, a missing key never passes', () => {
  assert.equal(compare('v', { a: [1, 2] }, { equals: { a: [1, 2] } }).ok, true);
  assert.equal(compare('v', 1, { equals: '1' }).ok, false);
  assert.equal(compare('v', 60.5, { approx: 60 }).ok, true);
  assert.equal(compare('v', 60.7, { approx: 60 }).ok, false);
  assert.equal(compare('v', 60.7, { approx: 60, tolerance: 1 }).ok, true);
  assert.equal(compare('v', 5, { min: 5, max: 5 }).ok, true);
  assert.equal(compare('v', 'five', { min: 0 }).ok, false);
  const missing = compare('state x', undefined, { equals: null }, 'no such key');
  assert.deepEqual(missing, { ok: false, expected: 'state x = null', seen: 'no such key' });
  assert.equal(contains({ value: false, key: 'k', previous: true }, { value: false }), true);
  assert.equal(contains({ registers: { stale: true, age: 3 } }, { registers: { stale: false } }), false);
  assert.equal(contains([1, 2, 3], [1, 2]), true);
});

test('reports: TAP escapes # and newlines, JUnit escapes markup and control characters', () => {
  const result: ScenarioResult = {
    file: 'a.json', name: 'tank <A> & "B" #1', ok: false, realMs: 1234,
    steps: [
      { index: 0, title: 'wait 1 s', status: 'passed', at: 0, virtualMs: 1000, realMs: 50 },
      { index: 1, title: 'expect state x # = 1', status: 'failed', at: 1, virtualMs: 500, realMs: 20, failure: { message: 'line1\nline2 \u0001', expected: 'x = 1', seen: '2' } },
      { index: 2, title: 'wait 2 s', status: 'skipped', at: 1.5, virtualMs: 0, realMs: 0 },
    ],
  };
  const tap = tapReport([result]);
  assert.match(tap, /^ {4}not ok 2 - \[t=1\.0 s\] expect state x \\# = 1$/m);
  assert.match(tap, /^ {6}message: "line1\\nline2 \\u0001"$/m);
  assert.match(tap, /^ {4}ok 3 - \[t=1\.5 s\] wait 2 s # SKIP an earlier step failed$/m);
  assert.match(tap, /^not ok 1 - tank <A> & "B" \\#1 \(step 2 failed\) # time=1234ms$/m);
  const xml = junitReport([result]);
  assert.match(xml, /<testsuite name="tank &lt;A&gt; &amp; &quot;B&quot; #1" file="a\.json" tests="3" failures="1" skipped="1"/);
  assert.match(xml, /<failure message="line1\nline2 \ufffd">step 2: expect state x # = 1\nat 1\.0 s \(virtual\) after start\nexpected: x = 1\nseen: 2<\/failure>/);
  assert.ok(!xml.includes(String.fromCharCode(1)), "no raw control character in the XML");
});

test('fieldgate test: reporter, out and timeout are checked', () => {
  assert.deepEqual(parseArgs(['test', 'a.json', 'b.json', '--reporter', 'junit', '--out', 'r.xml']), { command: 'test', scenarios: ['a.json', 'b.json'], reporter: 'junit', out: 'r.xml', timeoutS: 600 });
  assert.throws(() => parseArgs(['test', 'a.json', '--reporter', 'junt']), /--reporter must be tap or junit \(got "junt"\) \(did you mean junit\?\)/);
  assert.throws(() => parseArgs(['test']), /test: give at least one scenario file/);
  assert.throws(() => parseArgs(['test', 'a.json', '--timeout', '0']), /--timeout must be a positive integer/);
});
