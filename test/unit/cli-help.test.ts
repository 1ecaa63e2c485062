// What a user sees when they mistype: the nearest command or option is suggested, `<command> --help`
// prints that command's options, and the log format can be chosen for a terminal or for journald.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, usageFor, UsageError } from '../../core/cli/args.ts';
import { didYouMean, editDistance } from '../../core/cli/suggest.ts';
import { LogRoot } from '../../core/log.ts';

test('the nearest command or option is suggested, a far-off word is not', () => {
  assert.equal(editDistance('valdate', 'validate'), 1);
  assert.throws(() => parseArgs(['valdate', 'm.json']), (e: unknown) => e instanceof UsageError && /unknown command "valdate" \(did you mean validate\?\)/.test(e.message));
  assert.throws(() => parseArgs(['run', 'm.json', '--sm']), /unknown option --sm \(did you mean --sim\?\)/);
  assert.throws(() => parseArgs(['run', 'm.json', '--log-levl=debug']), /unknown option --log-levl \(did you mean --log-level\?\)/);
  assert.throws(() => parseArgs(['monitor', 'live', 'http://gw', '--intervall', '5']), /did you mean --interval\?/);
  assert.throws(() => parseArgs(['run', 'm.json', '--log-format', 'prety']), /--log-format must be one of pretty, json \(got "prety"\) \(did you mean pretty\?\)/);
  assert.equal(didYouMean('frobnicate', ['run', 'validate']), '');
});

test('fieldgate run --help prints the run options, not every command', () => {
  assert.deepEqual(parseArgs(['run', '--help']), { command: 'help', topic: 'run' });
  assert.deepEqual(parseArgs(['help', 'doctor']), { command: 'help', topic: 'doctor' });
  const run = usageFor('run');
  assert.match(run, /fieldgate run <manifest\.json>/);
  for (const flag of ['--sim', '--real', '--data-dir', '--log-level', '--log-format']) assert.match(run, new RegExp(`^  ${flag}`, 'm'), flag);
  assert.doesNotMatch(run, /fieldgate migrate|--watchdog-sec|--batch/);
  assert.match(usageFor('monitor'), /--interval MS/);
  assert.match(usageFor(undefined), /fieldgate migrate/);
  assert.equal(parseArgs(['run', 'm.json', '--log-format=pretty']).command, 'run');
});

test('log lines: json for journald by default, pretty on request, secrets masked in both', () => {
  for (const format of ['json', 'pretty'] as const) {
    const lines: string[] = [];
    const root = new LogRoot({ format, write: (l) => lines.push(l), now: () => Date.UTC(2026, 0, 1, 12, 0, 1, 250) });
    root.addSecret('hunter22');
    root.logger('plugin:plc').warn('login with hunter22 refused', { attempt: 2, host: 'plc' });
    if (format === 'json') {
      assert.deepEqual(JSON.parse(lines[0]), { time: '2026-01-01T12:00:01.250Z', level: 'warn', ns: 'plugin:plc', msg: 'login with *** refused', attempt: 2, host: 'plc' });
    } else {
      assert.match(lines[0], /^\d\d:\d\d:01\.250 WARN {2}plugin:plc: login with \*\*\* refused attempt=2 host=plc$/);
    }
  }
});
