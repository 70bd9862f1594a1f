/** The vendored fixtures are complete and what their refresh instructions make. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { extractApiSchema, packSchema } from '../fixtures/pve-api/refresh.js';
import { ApiSchema, defaultSchemaPath } from '../rig/pve-sim/schema.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
const stored = path.join(fixtures, 'pve-api/schema.json.gz');

describe('the vendored PVE API schema', () => {
  it('is the default the simulator loads, with all 649 methods', () => {
    if (process.env.PVE_API_SCHEMA === undefined) assert.equal(defaultSchemaPath(), stored);
    const schema = ApiSchema.load(stored);
    const methods = schema.templates.reduce(
      (count, template) =>
        count + ['GET', 'POST', 'PUT', 'DELETE'].filter((method) => schema.get(method, template)).length,
      0,
    );
    assert.equal(methods, 649);
    assert.ok(schema.get('POST', '/nodes/{node}/lxc'));
  });

  it('is exactly what refresh.ts writes from apidata.js', () => {
    const json = gunzipSync(readFileSync(stored)).toString('utf8');
    const apidata = `const apiSchema = ${json};\n`;
    assert.deepEqual(packSchema(extractApiSchema(apidata)), readFileSync(stored));
  });

  it('refresh.ts refuses what is not an apidata.js', () => {
    assert.throws(() => extractApiSchema('var x = 1;'), /not an apidata\.js/);
    assert.throws(() => extractApiSchema('const apiSchema = [];'), /non-empty/);
    assert.throws(() => extractApiSchema('const apiSchema = [{"x":1}];\nfoo();'), /not an apidata\.js/);
  });
});

describe('the vendored community-scripts sample', () => {
  it('has its 122 entries, metadata.json and a NOTICE', () => {
    const names = readdirSync(path.join(fixtures, 'community-scripts'));
    assert.equal(names.filter((name) => name.endsWith('.json') && name !== 'metadata.json').length, 122);
    assert.ok(names.includes('metadata.json') && names.includes('NOTICE.md'));
    assert.match(readFileSync(path.join(fixtures, 'community-scripts/NOTICE.md'), 'utf8'), /MIT/);
  });
});
