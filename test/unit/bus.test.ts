import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bus, topicMatches } from '../../core/bus.ts';

test('wildcards: + matches one level, # any tail', () => {
  assert.equal(topicMatches('state/+', 'state/setpoint'), true);
  assert.equal(topicMatches('state/+', 'state/a/b'), false);
  assert.equal(topicMatches('signal/#', 'signal/press1/power'), true);
  assert.equal(topicMatches('signal/#', 'signal'), true);
  assert.equal(topicMatches('#', 'anything/at/all'), true);
  assert.equal(topicMatches('can/frame', 'can/frames'), false);
});

test('listeners are keyed by owner and removed with it', () => {
  const bus = new Bus();
  const seen: string[] = [];
  bus.subscribe('state/+', (_p, t) => void seen.push(`a:${t}`), { owner: 'a' });
  bus.subscribe('state/#', (_p, t) => void seen.push(`b:${t}`), { owner: 'b' });
  bus.publish('state/x', 1);
  assert.equal(bus.removeOwner('a'), 1);
  bus.publish('state/y', 2);
  assert.deepEqual(seen, ['a:state/x', 'b:state/x', 'b:state/y']);
  assert.equal(bus.listenerCount('a'), 0);
});

test('a throwing or rejecting listener is reported with its owner and others still receive', async () => {
  const bus = new Bus();
  const errors: string[] = [];
  bus.onListenerError((owner, err) => errors.push(`${owner}:${(err as Error).message}`));
  let got = 0;
  bus.subscribe('t', () => {
    throw new Error('sync boom');
  }, { owner: 'bad' });
  bus.subscribe('t', () => Promise.reject(new Error('async boom')), { owner: 'worse' });
  bus.subscribe('t', () => void got++, { owner: 'good' });
  bus.publish('t', null);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(got, 1);
  assert.deepEqual(errors.sort(), ['bad:sync boom', 'worse:async boom']);
});

test('bad patterns are refused with the reason', () => {
  const bus = new Bus();
  assert.throws(() => bus.subscribe('a/#/b', () => {}), /"#" must be the last level/);
  assert.throws(() => bus.subscribe('a/b+', () => {}), /whole level/);
});
