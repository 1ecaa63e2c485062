// The compiled manifest validators are shared while in use and released after: a running gateway
// validates once at start and must not keep ~3 MB of generated validator code (bench/RESULTS.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileManifestSchema } from '../../core/manifest/validate.ts';
import { gcOrNull } from '../helpers/gc.ts';

const schema = { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer', default: 8080 } } };

test('the same schema compiles once while its validators are in use', () => {
  const a = compileManifestSchema(schema);
  const b = compileManifestSchema(structuredClone(schema));
  assert.equal(a, b);
  const data: Record<string, unknown> = { name: 'lab' };
  assert.equal(a.validate(data), true);
  assert.equal(data.port, 8080, 'defaults applied');
  assert.equal(a.validate({ name: 1 }), false);
});

test('validators nobody holds are collected, and compile again on the next use', async (t) => {
  const gc = gcOrNull();
  if (!gc) {
    t.skip('no way to force a GC on this runtime (node:v8 setFlagsFromString + vm gc)');
    return;
  }
  const other = { ...schema, title: 'released' };
  const ref = new WeakRef(compileManifestSchema(other));
  // WeakRef targets stay alive until the current job ends; collect from later turns.
  for (let i = 0; i < 10 && ref.deref(); i++) {
    await new Promise((r) => setTimeout(r, 0));
    gc();
  }
  assert.equal(ref.deref(), undefined, 'the cache must not keep the validators alive');
  assert.equal(compileManifestSchema(other).validate({ name: 'again' }), true);
});
