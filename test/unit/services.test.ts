import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceRegistry } from '../../core/services.ts';

test('services are keyed by owner, withdrawn with it, and a missing one is named', () => {
  const services = new ServiceRegistry();
  const withdraw = services.provide('modbus', 'modbus-server:gw', { unit: 240 });
  assert.deepEqual(services.require('modbus-server:gw'), { unit: 240 });
  assert.throws(() => services.provide('other', 'modbus-server:gw', {}), /already provided by modbus/);
  withdraw();
  assert.equal(services.get('modbus-server:gw'), undefined);
  services.provide('modbus', 'a', 1);
  services.provide('modbus', 'b', 2);
  services.removeOwner('modbus');
  assert.throws(() => services.require('a'), /service "a" is not available \(its plugin is not running; available: none\)/);
});
