import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router } from 'express';
import { z } from 'zod';
import { startTestService } from '../../../../test/support/service.js';
import { errors } from '../errors.js';
import type { ModuleFactory } from '../module.js';
import { parseInput } from './validate.js';

/** A module exercising every path of the error model, as later modules will. */
const probeModule: ModuleFactory = () => {
  const router = Router();
  router.get('/probe/conflict', () => {
    throw errors.conflict('hostname wiki is taken', { hostname: 'already in use' });
  });
  router.get('/probe/bug', () => {
    throw new Error('secret internals: /etc/shadow');
  });
  router.get('/probe/async-bug', async () => {
    await Promise.resolve();
    throw new TypeError('cannot read properties of undefined');
  });
  router.post('/probe/echo', (req, res) => {
    const body = parseInput(
      z.strictObject({
        hostname: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
        port: z.int().min(1).max(65535),
      }),
      req.body,
      'body',
    );
    res.status(201).json(body);
  });
  return {
    name: 'probe',
    publicRouter: router,
    status: () => ({ health: 'degraded', reasons: ['probe says so'] }),
  };
};

describe('HTTP error model', async () => {
  const service = await startTestService({ extraModules: [probeModule] });
  const api = service.url;

  it('answers an operational error with its status, code, message and fields', async () => {
    const res = await fetch(`${api}/probe/conflict`);
    assert.equal(res.status, 409);
    assert.deepEqual(await res.json(), {
      error: { code: 'conflict', message: 'hostname wiki is taken', fields: { hostname: 'already in use' } },
    });
  });

  it('answers a programmer error 500 without leaking internals, sync or async', async () => {
    for (const path of ['bug', 'async-bug']) {
      const res = await fetch(`${api}/probe/${path}`);
      assert.equal(res.status, 500);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'internal_error');
      assert.doesNotMatch(body.error.message, /secret|shadow|undefined/);
      assert.ok(
        body.error.message.includes(res.headers.get('x-request-id')!),
        'message names the request id',
      );
    }
  });

  it('names every invalid field, and unknown fields, at the edge', async () => {
    const res = await fetch(`${api}/probe/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hostname: 'bad;name\n', port: 70000, extra: 1 }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; fields: Record<string, string> } };
    assert.equal(body.error.code, 'validation_failed');
    assert.deepEqual(Object.keys(body.error.fields).sort(), ['extra', 'hostname', 'port']);
  });

  it('accepts valid input', async () => {
    const res = await fetch(`${api}/probe/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hostname: 'wiki', port: 80 }),
    });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { hostname: 'wiki', port: 80 });
  });

  it('answers malformed JSON 400 and oversized bodies 413', async () => {
    const bad = await fetch(`${api}/probe/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"hostname":',
    });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_json');
    const big = await fetch(`${api}/probe/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hostname: 'x'.repeat(2 * 1024 * 1024) }),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: { code: string } }).error.code, 'payload_too_large');
  });

  it('answers unknown endpoints 404 in the error model', async () => {
    const res = await fetch(`${service.url}/nothing-here`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      error: { code: 'not_found', message: 'No such endpoint: GET "/nothing-here"' },
    });
  });

  it('asks for credentials on the API before anything else, and says when PVE cannot be asked', async () => {
    const anonymous = await fetch(`${service.url}/api/v1/audit`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'unauthorized');
    // A well-formed ticket must be checked by PVE, which this test service cannot reach.
    const ticket = encodeURIComponent('PVE:alice@pve:6740A1B2::c2lnbmF0dXJl');
    const unverifiable = await fetch(`${service.url}/api/v1/audit`, {
      headers: { cookie: `PVEAuthCookie=${ticket}` },
    });
    assert.equal(unverifiable.status, 503);
    assert.equal(((await unverifiable.json()) as { error: { code: string } }).error.code, 'pve_unreachable');
  });

  it('keeps a caller-supplied request id and refuses a malformed one', async () => {
    const kept = await fetch(`${service.url}/health`, { headers: { 'x-request-id': 'trace-42' } });
    assert.equal(kept.headers.get('x-request-id'), 'trace-42');
    const replaced = await fetch(`${service.url}/health`, { headers: { 'x-request-id': 'a b\tc' } });
    assert.match(replaced.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  });

  it('reports health, and status with the store and each component', async () => {
    const health = await fetch(`${service.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    const res = await fetch(`${service.url}/status`);
    assert.equal(res.status, 200);
    const status = (await res.json()) as Record<string, unknown> & {
      store: { ok: boolean; journal_mode: string; schema_version: number };
      components: Record<string, { health: string }>;
    };
    assert.equal(status.service, 'proximity');
    assert.equal(status.status, 'degraded', 'a degraded component degrades the whole');
    assert.match(String(status.version), /^\d+\.\d+\.\d+/);
    assert.equal(typeof status.uptime_s, 'number');
    assert.equal(status.store.ok, true);
    assert.equal(status.store.journal_mode, 'wal');
    assert.ok(status.store.schema_version >= 1);
    assert.equal(status.components.probe?.health, 'degraded');
    assert.equal(status.components.pve?.health, 'down', 'no Proxmox VE answers in this test');
  });
});
