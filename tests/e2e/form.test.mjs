// Unit test of the admin pages' form model (host-sdk/web/form.js): the pure
// half (schema -> field model, client-side validation, request bodies),
// under Node without a browser. Run: node --test tests/e2e/form.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fieldModel, initialValues, validateField, validateForm, buildForm, coerce, errorsByField,
} from '../../host-sdk/web/form.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'docusign-profile-form.schema.json'), 'utf8'));

const field = (m, n) => m.fields.find((f) => f.name === n);

test('field order, labels, help and groups come from x-sam-ui', () => {
  const m = fieldModel(schema);
  assert.deepEqual(m.fields.map((f) => f.name), schema['x-sam-ui'].order);
  assert.equal(field(m, 'client_id').title, 'Client Id');
  assert.match(field(m, 'client_id').help, /integration key/);
  assert.match(field(m, 'client_id').description, /integration key/);
  assert.deepEqual(m.groups.map((g) => g.id), ['integration', 'processes', 'connection']);
  assert.equal(m.groups[1].title, 'Process configuration');
  assert.deepEqual(m.groups[1].fields, ['download_enabled', 'reclaim_enabled']);
  assert.deepEqual(m.actions, ['get_oauth_token', 'validate_connection']);
});

test('widgets: secrets, selects, read-only, process toggles', () => {
  const m = fieldModel(schema);
  const sec = field(m, 'client_secret');
  assert.equal(sec.widget, 'password');
  assert.equal(sec.secret, true);
  assert.equal(field(m, 'integration_type').widget, 'select');
  assert.deepEqual(field(m, 'integration_type').options, [{ value: 'account_level', label: 'Account Level' }]);
  assert.equal(field(m, 'redirect_url').readOnly, true);
  assert.equal(field(m, 'profile_type').readOnly, true);
  const dl = field(m, 'download_enabled');
  assert.equal(dl.widget, 'checkbox');
  assert.equal(dl.locked, true);
  assert.equal(dl.process, 'download');
  const rc = field(m, 'reclaim_enabled');
  assert.equal(rc.locked, false);
  assert.equal(rc.process, 'reclaim');
  assert.equal(field(m, 'display_name').required, true);
  assert.equal(field(m, 'base_uri').required, false);
});

test('fields missing from order and groups still appear, in schema order', () => {
  const m = fieldModel({
    type: 'object',
    properties: { b: { type: 'string' }, a: { type: 'integer', minimum: 1 }, c: { type: 'boolean' } },
    'x-sam-ui': { order: ['a'], groups: [{ id: 'g', title: 'G', fields: ['a'] }] },
  });
  assert.deepEqual(m.fields.map((f) => f.name), ['a', 'b', 'c']);
  assert.deepEqual(m.groups.map((g) => [g.id, g.fields]), [['g', ['a']], ['other', ['b', 'c']]]);
  assert.equal(field(m, 'a').widget, 'number');
  assert.equal(field(m, 'b').title, 'b');
  assert.throws(() => fieldModel({ type: 'object' }));
});

test('defaults for a new profile; secrets never filled back', () => {
  const m = fieldModel(schema);
  const fresh = initialValues(m, null);
  assert.equal(fresh.values.display_name, 'DocuSign Integration');
  assert.equal(fresh.values.instance_url, 'https://account.docusign.com');
  assert.equal(fresh.values.download_enabled, true);
  assert.equal(fresh.values.reclaim_enabled, true);
  assert.equal(fresh.values.client_secret, '');
  assert.equal(fresh.secretsSet.client_secret, false);
  const stored = initialValues(m, {
    display_name: 'X', client_secret: { set: true }, reclaim_enabled: false, download_enabled: true,
  });
  assert.equal(stored.values.client_secret, '');
  assert.equal(stored.secretsSet.client_secret, true);
  assert.equal(stored.values.reclaim_enabled, false);
  assert.equal(stored.values.client_id, '');
});

test('validation mirrors required, pattern, format, lengths, const, enum', () => {
  const m = fieldModel(schema);
  const { values } = initialValues(m, null);
  const errs = validateForm(m, values, {});
  assert.deepEqual(errs.map((e) => e.pointer).sort(), ['/account_id', '/client_id', '/client_secret']);
  const ok = {
    ...values, client_id: 'sim-integration-key', client_secret: 's', account_id: '12345678',
    instance_url: 'http://127.0.0.1:4000',
  };
  assert.deepEqual(validateForm(m, ok, {}), []);
  assert.match(validateField(field(m, 'client_id'), 'bad key!'), /format/);
  assert.match(validateField(field(m, 'account_id'), 'not-a-guid'), /format/);
  assert.equal(validateField(field(m, 'account_id'), '0f8fad5b-d9cb-469f-a165-70867728950e'), null);
  assert.match(validateField(field(m, 'instance_url'), 'account.docusign.com'), /URL/);
  assert.match(validateField(field(m, 'instance_url'), 'https://evil.example.com'), /format/);
  assert.match(validateField(field(m, 'display_name'), 'x'.repeat(101)), /at most 100/);
  assert.equal(validateField(field(m, 'display_name'), '山'.repeat(100)), null, 'code points, not UTF-16 units');
  assert.match(validateField(field(m, 'download_enabled'), false), /on/);
  assert.match(validateField(field(m, 'integration_type'), 'org'), /one of/);
  // a secret already stored may stay empty; a new one may not
  assert.deepEqual(validateForm(m, { ...ok, client_secret: '' }, { client_secret: true }), []);
  assert.deepEqual(validateForm(m, { ...ok, client_secret: '' }, {}).map((e) => e.pointer), ['/client_secret']);
  // read-only fields are never judged (the host fills them)
  assert.equal(validateField(field(m, 'redirect_url'), 'not a url'), null);
});

test('numbers, integers, minimum, maximum, email, minLength > 1', () => {
  const m = fieldModel({
    type: 'object',
    required: ['n'],
    properties: {
      n: { type: 'integer', minimum: 1, maximum: 10 },
      x: { type: 'number', exclusiveMaximum: 1 },
      e: { type: 'string', format: 'email' },
      s: { type: 'string', minLength: 3 },
      k: { const: 'fixed' },
    },
  });
  const f = (n) => field(m, n);
  assert.equal(coerce(f('n'), '5'), 5);
  assert.equal(coerce(f('n'), ''), undefined);
  assert.equal(coerce(f('n'), 'abc'), 'abc');
  assert.match(validateField(f('n'), coerce(f('n'), 'abc')), /whole number/);
  assert.match(validateField(f('n'), 2.5), /whole number/);
  assert.match(validateField(f('n'), 0), /at least 1/);
  assert.match(validateField(f('n'), 11), /at most 10/);
  assert.equal(validateField(f('n'), 10), null);
  assert.match(validateField(f('n'), undefined), /required/);
  assert.match(validateField(f('x'), 1), /less than 1/);
  assert.match(validateField(f('e'), 'nope'), /e-mail/);
  assert.equal(validateField(f('e'), 'a@b.example'), null);
  assert.match(validateField(f('s'), 'ab'), /at least 3/);
  assert.match(validateField(f('k'), 'other'), /must be "fixed"/);
  assert.equal(validateField(f('s'), undefined), null, 'optional and empty is fine');
});

test('create body: editable fields only, secrets only when typed', () => {
  const m = fieldModel(schema);
  const { values } = initialValues(m, null);
  const body = buildForm(m, { ...values, client_id: 'k', client_secret: 'top', account_id: '1' }, null);
  assert.deepEqual(Object.keys(body).sort(), ['account_id', 'client_id', 'client_secret', 'display_name',
    'download_enabled', 'instance_url', 'integration_type', 'reclaim_enabled']);
  assert.equal(body.download_enabled, true);
  for (const ro of ['redirect_url', 'profile_type', 'connection_status', 'account_name']) {
    assert.equal(ro in body, false, `${ro} is read-only`);
  }
});

test('update body: only changed fields, null clears, secret kept when empty', () => {
  const m = fieldModel({
    type: 'object',
    required: ['a'],
    properties: {
      a: { type: 'string' }, b: { type: 'string' }, s: { type: 'string', writeOnly: true, 'x-sam-secret': true },
      t: { type: 'boolean' }, r: { type: 'string', readOnly: true },
    },
  });
  const stored = { a: 'A', b: 'B', s: { set: true }, t: true, r: 'R' };
  const { values } = initialValues(m, stored);
  assert.deepEqual(buildForm(m, values, stored), {});
  assert.deepEqual(buildForm(m, { ...values, b: '' }, stored), { b: null });
  assert.deepEqual(buildForm(m, { ...values, a: '' }, stored), {}, 'a required field is never cleared');
  assert.deepEqual(buildForm(m, { ...values, s: 'new' }, stored), { s: 'new' });
  assert.deepEqual(buildForm(m, { ...values, t: false }, stored), { t: false });
});

test('server errors are matched to fields by JSON Pointer', () => {
  const m = fieldModel(schema);
  const { byName, general } = errorsByField(m, [
    { pointer: '/client_id', message: 'bad' },
    { pointer: '/account_id/x', message: 'deep' },
    { pointer: '', message: 'another profile covers this account' },
    { pointer: '/nope', message: 'unknown field [nope]' },
  ]);
  assert.deepEqual(byName, { client_id: ['bad'], account_id: ['deep'] });
  assert.deepEqual(general, ['another profile covers this account', '/nope: unknown field [nope]']);
});

test('markup in a schema is data, never structure', () => {
  const m = fieldModel({
    type: 'object',
    properties: { '<b>x</b>': { type: 'string', title: '<img src=x onerror=alert(1)>' } },
  });
  assert.equal(m.fields[0].title, '<img src=x onerror=alert(1)>');
  assert.equal(m.fields[0].pointer, '/<b>x<~1b>');
});
