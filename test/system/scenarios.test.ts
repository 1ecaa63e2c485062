// Every scenario shipped in scenarios/ passes through the real CLI (`fieldgate test`), and a
// deliberately broken one (test/fixtures/scenarios/) fails with a report a person can act on, in TAP and JUnit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runTs } from '../helpers/spawn.ts';
import { mosquittoSkip, startMosquitto } from '../helpers/mosquitto.ts';

const CLI = 'bin/fieldgate.ts';
const shipped = readdirSync(join(repoRoot, 'scenarios')).filter((f) => f.endsWith('.json')).sort().map((f) => `scenarios/${f}`);
const BROKEN = 'test/fixtures/scenarios/broken.json';
const INVALID = 'test/fixtures/scenarios/invalid.json';
const REAL_CLOCK = 'test/fixtures/scenarios/real-clock.json';
const MQTT = 'test/fixtures/scenarios/mqtt.json';
const UNSUPPORTED = 'test/fixtures/scenarios/unsupported-fault.json';

test('every scenario in scenarios/ passes (TAP on stdout, exit 0), and one on the real clock', { timeout: 240_000 }, async () => {
  assert.ok(shipped.length >= 4, `the seed scenarios are there: ${shipped.join(', ')}`);
  const started = Date.now();
  const r = await runTs(CLI, ['test', ...shipped, REAL_CLOCK]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^TAP version 14$/m);
  for (const [i, file] of shipped.entries()) {
    const name = (JSON.parse(readFileSync(join(repoRoot, file), 'utf8')) as { name: string }).name;
    assert.match(r.stdout, new RegExp(`^ok ${i + 1} - ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} # time=\\d+ms$`, 'm'), `${file} passed`);
  }
  assert.match(r.stdout, new RegExp(`^ok ${shipped.length + 1} - the example on the real clock # time=\\d+ms$`, 'm'));
  assert.doesNotMatch(r.stdout, /not ok/);
  const n = shipped.length + 1;
  assert.match(r.stdout, new RegExp(`^1\\.\\.${n}$`, 'm'));
  assert.match(r.stdout, new RegExp(`# ${n}/${n} scenario\\(s\\) passed`));
  // A few seconds each in real time, though they span minutes of virtual time.
  const perScenario = (Date.now() - started) / n / 1000;
  assert.ok(perScenario < 20, `${perScenario.toFixed(1)} s per scenario`);
});

test('a broken scenario fails with the step, what was expected and what was seen; an invalid one names each problem (TAP)', { timeout: 120_000 }, async () => {
  const r = await runTs(CLI, ['test', BROKEN, INVALID, UNSUPPORTED]);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const tap = r.stdout;
  assert.match(tap, /^ {4}ok 1 - \[t=[\d.]+ s\] expect state plc_connected = true within 5 s$/m);
  assert.match(tap, /^ {4}ok 2 - \[t=[\d.]+ s\] device plc offline\n {4}# plc \(Nj301Simulator\) is offline$/m);
  assert.match(tap, /^ {4}not ok 3 - \[t=[\d.]+ s\] the bridge stays connected$/m);
  assert.match(tap, /^ {6}step: 3$/m);
  assert.match(tap, /^ {6}message: "held for [\d.]+ s of 3 s: expected state plc_connected = true; saw false"$/m);
  assert.match(tap, /^ {6}expected: "state plc_connected = true"$/m);
  assert.match(tap, /^ {6}seen: "false"$/m);
  // Node refuses the next connection; on Deno the request in flight when the port closed times out first.
  assert.match(tap, /^ {8}- "warn plugin:plc: modbus tcp 127\.0\.0\.1:\d+: (cannot connect \(ECONNREFUSED\)|timed out after 1000 ms)/m, 'the gateway\'s own words about the failure');
  assert.match(tap, /^ {4}ok 4 - \[t=[\d.]+ s\] device plc recovers # SKIP an earlier step failed$/m);
  assert.match(tap, /^not ok 1 - a deliberately broken scenario \(step 3 failed\)/m);

  assert.match(tap, /^not ok 2 - test\/fixtures\/scenarios\/invalid\.json \(could not run\)/m);
  for (const issue of [
    'steps[0].wait: must be >= 0',
    'steps[1]: has wait and command; a step does one thing',
    'steps[2].fault: a device fault is one of: offline, hang, slow, power-cycle, recover, silent',
    'steps[3].expect.aprox: unknown key \\"aprox\\"',
    'steps[4].expect: must have required property \'active\'',
    'steps[5]: says nothing to do (unknown key \\"sleep\\"',
  ]) assert.ok(tap.includes(`- "${issue}`), `reported: ${issue}\n${tap}`);
  // A fault the simulator has no hook for says which ones it has.
  assert.match(tap, /^ {6}message: "device \\"rtd\\" \(Max31865Sim\) has no \\"hang\\" fault; it supports: offline, power-cycle, recover"$/m);
  assert.match(tap, /^not ok 3 - a fault the simulator cannot do \(step 1 failed\)/m);
  assert.match(tap, /# 0\/3 scenario\(s\) passed; failed: test\/fixtures\/scenarios\/broken\.json, test\/fixtures\/scenarios\/invalid\.json, test\/fixtures\/scenarios\/unsupported-fault\.json/);
});

test('the same failure as JUnit XML in --out, with progress lines on stdout', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-scenario-'));
  try {
    const out = join(dir, 'report.xml');
    const r = await runTs(CLI, ['test', BROKEN, INVALID, '--reporter', 'junit', '--out', out]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /\[3\/4\] t= +[\d.]+ s {2}FAIL the bridge stays connected/);
    assert.match(r.stdout, /held for [\d.]+ s of 3 s: expected state plc_connected = true; saw false/);
    assert.match(r.stdout, /could not run: test\/fixtures\/scenarios\/invalid\.json: invalid scenario/);
    const xml = readFileSync(out, 'utf8');
    assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="fieldgate scenarios" tests="5" failures="2" time="[\d.]+">/);
    assert.match(xml, /<testsuite name="a deliberately broken scenario" file="test\/fixtures\/scenarios\/broken\.json" tests="4" failures="1" skipped="1" time="[\d.]+">/);
    assert.match(xml, /<testcase name="1\. expect state plc_connected = true within 5 s" classname="a deliberately broken scenario" time="[\d.]+"\/>/);
    assert.match(xml, /<testcase name="2\. device plc offline"[^>]*>\n {6}<system-out>plc \(Nj301Simulator\) is offline<\/system-out>/);
    assert.match(xml, /<testcase name="3\. the bridge stays connected"[^>]*>\n {6}<failure message="held for [\d.]+ s of 3 s: expected state plc_connected = true; saw false">step 3: the bridge stays connected\nat [\d.]+ s \(virtual\) after start\nexpected: state plc_connected = true\nseen: false\ngateway log:\n {2}warn plugin:plc: modbus tcp/);
    assert.match(xml, /<testcase name="4\. device plc recovers"[^>]*>\n {6}<skipped message="an earlier step failed"\/>/);
    assert.match(xml, /<failure message="test\/fixtures\/scenarios\/invalid\.json: invalid scenario">[^<]*steps\[1\]: has wait and command; a step does one thing/);
    assert.match(xml, /unknown key &quot;aprox&quot;/, 'quotes are escaped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mqtt assertions see what the gateway\'s bridge published to a real broker (mosquitto)', { skip: mosquittoSkip, timeout: 120_000 }, async () => {
  const broker = await startMosquitto();
  try {
    const r = await runTs(CLI, ['test', MQTT], { env: { MQTT_URL: broker.url } });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^ {4}ok 3 - \[t=[\d.]+ s\] expect MQTT messages on lab\/setpoint >= 1 within 5 s$/m);
    assert.match(r.stdout, /^ok 1 - plc-remote-lab over MQTT # time=\d+ms$/m);
  } finally {
    await broker.stop();
  }
  // Without a broker at that address the scenario cannot run, and says why.
  const r = await runTs(CLI, ['test', MQTT], { env: { MQTT_URL: broker.url } });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /cannot connect to the scenario's MQTT broker mqtt:\/\/127\.0\.0\.1:\d+/);
});
