import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adoptInputSchema, deployInputSchema } from './apps.js';
import { appHostnameSchema, hostnameSchema } from './network.js';
import {
  appHostnameProblem,
  hostnameProblem,
  LEGACY_FIELDS,
  renameLegacyFields,
  RESERVED_HOSTNAMES,
  RESERVED_MESSAGE,
} from './rules.js';

describe('contract rules', () => {
  it('the plain hostname check and the zod schema agree', () => {
    for (const name of ['wiki', 'a', 'wiki-2', '-x', 'x-', 'Bad_Name', '', 'a'.repeat(63), 'a'.repeat(64)]) {
      assert.equal(hostnameProblem(name) === undefined, hostnameSchema.safeParse(name).success, name);
      assert.equal(appHostnameProblem(name) === undefined, appHostnameSchema.safeParse(name).success, name);
    }
    for (const name of RESERVED_HOSTNAMES) {
      assert.equal(hostnameProblem(name), undefined, `${name} is a host name`);
      assert.equal(appHostnameProblem(name), RESERVED_MESSAGE, `${name} is not an app's`);
      assert.equal(appHostnameSchema.safeParse(name).success, false);
    }
  });

  it('spells the old snake_case request fields the current way, and says which it renamed', () => {
    const { body, renamed } = renameLegacyFields(
      { catalog_id: 'wiki', hostname: 'w', keep_on_failure: true },
      LEGACY_FIELDS.deploy,
    );
    assert.deepEqual(body, { catalogId: 'wiki', hostname: 'w', keepOnFailure: true });
    assert.deepEqual(
      [...renamed],
      [
        ['catalogId', 'catalog_id'],
        ['keepOnFailure', 'keep_on_failure'],
      ],
    );
    assert.equal(deployInputSchema.safeParse(body).success, true);
    const adopt = renameLegacyFields({ vmid: 100, port: 80, health_path: '/ok' }, LEGACY_FIELDS.adopt).body;
    assert.equal(adoptInputSchema.parse(adopt).healthPath, '/ok');
  });

  it('leaves a body that gives both spellings for the strict schema to refuse', () => {
    const { body, renamed } = renameLegacyFields(
      { catalogId: 'wiki', catalog_id: 'blog', hostname: 'w' },
      LEGACY_FIELDS.deploy,
    );
    assert.equal(renamed.size, 0);
    const result = deployInputSchema.safeParse(body);
    assert.equal(result.success, false);
  });

  it('passes what is not an object through', () => {
    for (const value of [null, 'text', [1], 3])
      assert.equal(renameLegacyFields(value, LEGACY_FIELDS.deploy).body, value);
  });
});
