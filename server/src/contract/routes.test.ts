import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Express } from 'express';
import { startTestService } from '../../../test/support/service.js';
import { API_ROUTES, openApiDocument, PUBLIC_ROUTES } from './routes.js';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: string;
}

/** Every route the Express app serves, as `METHOD /path` (routers' mount paths included). */
function mountedRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== '_all') found.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (layer.handle.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found.sort();
}

describe('the route index', () => {
  it('lists every mounted route, and every route it lists is mounted', async () => {
    const service = await startTestService();
    const mounted = mountedRoutes(service.app);
    const indexed = [
      ...PUBLIC_ROUTES.map((spec) => `${spec.method.toUpperCase()} ${spec.path}`),
      ...API_ROUTES.map((spec) => `${spec.method.toUpperCase()} /api/v1${spec.path}`),
    ].sort();
    assert.ok(mounted.length > 40, `found the routes (${mounted.length})`);
    assert.deepEqual(
      mounted.filter((route) => !indexed.includes(route)),
      [],
      'mounted but not in the index',
    );
    assert.deepEqual(
      indexed.filter((route) => !mounted.includes(route)),
      [],
      'in the index but not mounted',
    );
    assert.equal(new Set(indexed).size, indexed.length, 'no route is listed twice');
  });

  it('is served as OpenAPI at /api/v1/openapi.json, bodies as JSON Schema', async () => {
    const service = await startTestService();
    // Behind authentication like the rest of /api/v1.
    assert.equal((await fetch(`${service.url}/api/v1/openapi.json`)).status, 401);
    interface JsonSchema {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, JsonSchema>;
      enum: string[];
    }
    const document = openApiDocument('test') as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
      >;
    };
    assert.equal(document.openapi, '3.0.3');
    const route = document.paths['/api/v1/routes']?.post?.requestBody?.content['application/json']?.schema;
    const deploy = document.paths['/api/v1/apps']?.post?.requestBody?.content['application/json']?.schema;
    assert.ok(deploy && route, 'the deploy and route bodies are described');
    assert.deepEqual(deploy.required.sort(), ['catalogId', 'hostname']);
    assert.equal(deploy.additionalProperties, false);
    assert.ok(
      document.paths['/api/v1/apps/{hostname}/commands/{name}']?.post,
      'path parameters in OpenAPI form',
    );
    assert.ok(route.properties.loadBalancing!.properties.policy!.enum.includes('least_conn'));
  });
});
