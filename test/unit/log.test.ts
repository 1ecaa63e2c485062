import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLog } from '../../core/log.ts';

test('JSON lines with namespace; lazy debug messages are not built when debug is off', () => {
  const { root, lines } = memoryLog('info');
  const log = root.logger('plugin:relay');
  let built = 0;
  log.debug(() => {
    built++;
    return 'expensive';
  });
  log.info('switched on', { relay: 1 });
  assert.equal(built, 0);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].ns, 'plugin:relay');
  assert.equal(lines[0].msg, 'switched on');
  assert.equal(lines[0].relay, 1);
  assert.equal(log.child('http').namespace, 'plugin:relay:http');
});

test('secrets never appear in a line: registered values and secret-looking fields are masked', () => {
  const { root, lines } = memoryLog('info');
  root.addSecret('hunter2-odoo');
  const log = root.logger('odoo');
  log.error('login failed for admin with hunter2-odoo', { password: 'other', url: 'http://x/?p=hunter2-odoo' });
  const text = JSON.stringify(lines);
  assert.doesNotMatch(text, /hunter2-odoo/);
  assert.doesNotMatch(text, /other/);
  assert.equal(lines[0].password, '***');
});
