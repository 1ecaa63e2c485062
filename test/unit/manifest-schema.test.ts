import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { composeManifestSchema, MANIFEST_SCHEMA_ID, widenForEnvironment } from '../../core/manifest/compose.ts';
import { adapters, plugins } from '../fixtures/manifests/catalog.ts';

const editorAjv = () => {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return ajv;
};

test('the composed schema is draft-07 with an $id, a title and each plugin/adapter schema embedded', () => {
  const schema = composeManifestSchema({ plugins, adapters });
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(schema.$id, MANIFEST_SCHEMA_ID);
  assert.equal(schema.title, 'fieldgate manifest');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- digging into a schema document
  const defs = schema.definitions as Record<string, any>;
  assert.deepEqual(defs.pluginEntry.properties.use.enum, ['tcp-thing', 'erp', 'registers']);
  assert.deepEqual(defs.adapterEntry.properties.kind.enum, ['spi', 'serial']);
  assert.equal(defs['plugin.tcp-thing'].properties.port.maximum, 65535);
  // A plugin's own "#/$defs/..." reference now points inside its embedded copy.
  assert.equal(defs['plugin.registers'].properties.regs.items.$ref, '#/definitions/plugin.registers/$defs/register');
  // Binding names are offered to editors.
  assert.match(defs.pluginEntry.allOf[0].then.properties.adapters.properties.bus.description, /kind "spi"/);
});

test('the schema for editors accepts ${VAR} where a number or boolean goes, and nothing else', () => {
  const validate = editorAjv().compile(widenForEnvironment(composeManifestSchema({ plugins, adapters })));
  const manifest = (port: unknown) => ({
    name: 'gw',
    adapters: [{ id: 'spi0', kind: 'spi' }],
    plugins: [{ id: 'a', use: 'tcp-thing', adapters: { bus: 'spi0' }, config: { host: 'h', port, verbose: '${VERBOSE}' } }],
  });
  assert.equal(validate(manifest('${API_PORT:-8080}')), true, JSON.stringify(validate.errors));
  assert.equal(validate(manifest(8080)), true);
  assert.equal(validate(manifest('8080')), false);
  assert.equal(validate(manifest(70000)), false);
});

test('the fixture manifest is valid for editors against the composed schema', () => {
  const validate = editorAjv().compile(widenForEnvironment(composeManifestSchema({ plugins, adapters })));
  const text = readFileSync(new URL('../fixtures/manifests/valid.json', import.meta.url), 'utf8');
  assert.equal(validate(JSON.parse(text)), true, JSON.stringify(validate.errors));
});

test('the published schema/manifest.schema.json compiles and names itself', () => {
  const published = JSON.parse(readFileSync(new URL('../../schema/manifest.schema.json', import.meta.url), 'utf8'));
  assert.equal(published.$id, MANIFEST_SCHEMA_ID);
  editorAjv().compile(published);
});
