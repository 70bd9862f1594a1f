import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { hardenServer } from '../../service.js';
import { cors } from '../../modules/auth/cors.js';
import { networkSettingsSchema } from '../../modules/network/settings.js';
import { errors } from '../errors.js';
import { createLogger } from '../logger.js';
import { createApp } from './app.js';
import { parseInput } from './validate.js';

// Request hardening (issue 19): every bad request is a 4xx in our error shape, and nothing
// is read before the caller is known.

const TOKEN = 'Bearer good';
const reached: string[] = [];

/** Stands in for the real authentication: one valid token. */
const fakeAuth: RequestHandler = (req, _res, next) => {
  reached.push('auth');
  next(req.headers.authorization === TOKEN ? undefined : errors.unauthorized());
};

function api(): Router {
  const router = Router();
  router.post('/echo', (req, res) => {
    res.json(parseInput(z.strictObject({ name: z.string().max(10) }), req.body, 'body'));
  });
  router.get('/things/:id', (req, res) => res.json({ id: req.params.id }));
  return router;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  continued: boolean;
  ms: number;
}

function send(
  port: number,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    end?: boolean;
  },
): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request({
      host: '127.0.0.1',
      port,
      method: options.method ?? 'POST',
      path: options.path,
      headers: options.headers,
    });
    req.on('continue', () => (continued = true));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body, continued, ms: Date.now() - started }),
      );
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    if (options.end !== false) req.end();
  });
}

function errorBody(answer: Answer): { code: string; message: string; fields?: Record<string, string> } {
  const parsed = JSON.parse(answer.body) as {
    error: { code: string; message: string; fields?: Record<string, string> };
  };
  assert.equal(typeof parsed.error.code, 'string');
  assert.ok(parsed.error.message.length > 0, 'a message says what is wrong');
  return parsed.error;
}

describe('request hardening', () => {
  let server: Server;
  let port: number;
  before(async () => {
    const app = createApp({
      logger: createLogger('silent'),
      publicRouters: [],
      apiMiddleware: [cors([], ['pve.example', '10.0.0.5']), fakeAuth],
      api: [api()],
      body: { limitBytes: 1024, deadlineMs: 300 },
    });
    server = app.listen(0, '127.0.0.1');
    hardenServer(server);
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const json = { 'Content-Type': 'application/json' };
  const authed = { ...json, Authorization: TOKEN };

  it('sets header and request timeouts far below Node defaults', () => {
    assert.ok(server.headersTimeout <= 10_000, `headersTimeout ${server.headersTimeout}`);
    assert.ok(server.requestTimeout <= 30_000, `requestTimeout ${server.requestTimeout}`);
  });

  it('answers a corrupt gzip, deflate or br body 400 in our error shape, and 401 before reading it', async () => {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const bad = await send(port, {
        path: '/api/v1/echo',
        headers: { ...authed, 'Content-Encoding': encoding },
        body: 'x',
      });
      assert.equal(bad.status, 400, encoding);
      assert.equal(errorBody(bad).code, 'invalid_body');
      const anonymous = await send(port, {
        path: '/api/v1/echo',
        headers: { ...json, 'Content-Encoding': encoding },
        body: 'x',
      });
      assert.equal(anonymous.status, 401, `${encoding}: anonymous`);
    }
    const good = await send(port, {
      path: '/api/v1/echo',
      headers: { ...authed, 'Content-Encoding': 'gzip' },
      body: gzipSync('{"name":"ok"}'),
    });
    assert.equal(good.status, 200);
    assert.deepEqual(JSON.parse(good.body), { name: 'ok' });
  });

  it('answers invalid JSON from an anonymous client 401, from a known one 400', async () => {
    assert.equal((await send(port, { path: '/api/v1/echo', headers: json, body: '{' })).status, 401);
    const known = await send(port, { path: '/api/v1/echo', headers: authed, body: '{' });
    assert.equal(known.status, 400);
    assert.equal(errorBody(known).code, 'invalid_json');
  });

  it('answers an unsupported charset 415', async () => {
    const answer = await send(port, {
      path: '/api/v1/echo',
      headers: { ...authed, 'Content-Type': 'application/json; charset=latin1' },
      body: '{}',
    });
    assert.equal(answer.status, 415);
    assert.equal(errorBody(answer).code, 'unsupported_media_type');
  });

  it('answers a bad percent-escape in a path parameter 400, quoting it escaped', async () => {
    for (const bad of ['%zz', '%', '%E0%A4%A']) {
      const answer = await send(port, {
        method: 'GET',
        path: `/api/v1/things/${bad}`,
        headers: { Authorization: TOKEN },
      });
      assert.equal(answer.status, 400, bad);
      const error = errorBody(answer);
      assert.equal(error.code, 'invalid_path');
      assert.ok(error.message.includes(JSON.stringify(bad)), error.message);
    }
  });

  it('refuses a too-large Content-Length at once, unread, and anonymous callers before that', async () => {
    const huge = { 'Content-Length': String(50 * 1024 * 1024) };
    const known = await send(port, {
      path: '/api/v1/echo',
      headers: { ...authed, ...huge },
      body: '{',
      end: false,
    });
    assert.equal(known.status, 413);
    assert.equal(errorBody(known).code, 'payload_too_large');
    assert.ok(known.ms < 1000, `answered in ${known.ms} ms without the body`);
    const anonymous = await send(port, {
      path: '/api/v1/echo',
      headers: { ...json, ...huge },
      body: '{',
      end: false,
    });
    assert.equal(anonymous.status, 401);
  });

  it('sends 100 Continue only to a known caller', async () => {
    const expect = { Expect: '100-continue', 'Content-Length': '13' };
    const anonymous = send(port, { path: '/api/v1/echo', headers: { ...json, ...expect }, end: false });
    const refused = await anonymous;
    assert.equal(refused.status, 401);
    assert.equal(refused.continued, false, 'no 100 Continue before authentication');

    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/echo',
        headers: { ...authed, ...expect },
      });
      let continued = false;
      req.on('continue', () => {
        continued = true;
        req.end('{"name":"ok"}');
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body, continued, ms: 0 }),
        );
      });
      req.on('error', reject);
    });
    assert.equal(answer.continued, true);
    assert.equal(answer.status, 200);
  });

  it('gives a slow body a deadline: 408 and the connection closed', async () => {
    const answer = await send(port, {
      path: '/api/v1/echo',
      headers: { ...authed, 'Content-Length': '13' },
      body: '{"na',
      end: false,
    });
    assert.equal(answer.status, 408);
    assert.equal(errorBody(answer).code, 'request_timeout');
    assert.ok(answer.ms < 2000, `cut off after ${answer.ms} ms`);
  });

  it('answers an empty or missing body 400, never taking it for {}', async () => {
    for (const headers of [authed, { Authorization: TOKEN }]) {
      const answer = await send(port, { path: '/api/v1/echo', headers, body: '' });
      assert.equal(answer.status, 400);
      assert.deepEqual(errorBody(answer).fields, { '(body)': 'is required' });
    }
  });

  it('names __proto__ and constructor keys as unknown fields', async () => {
    for (const key of ['__proto__', 'constructor']) {
      const answer = await send(port, {
        path: '/api/v1/echo',
        headers: authed,
        body: `{"name":"a","${key}":{"x":1}}`,
      });
      assert.equal(answer.status, 400, key);
      const error = errorBody(answer);
      assert.equal(error.fields?.[key], 'is not a known field', answer.body);
      assert.ok(error.message.includes(key), error.message);
    }
  });

  it('quotes user input in messages escaped and bounded', async () => {
    const answer = await send(port, {
      method: 'GET',
      path: `/api/v1/${'%0A%00'.repeat(3)}${'a'.repeat(500)}`,
      headers: { Authorization: TOKEN },
    });
    assert.equal(answer.status, 404);
    const { message } = errorBody(answer);
    assert.doesNotMatch(message, /\p{Cc}/u);
    assert.ok(message.length < 300, `message is ${message.length} characters`);
  });

  it('allows CORS for the node own names only, whatever the Host header says', async () => {
    const evil = await send(port, {
      method: 'GET',
      path: '/api/v1/things/1',
      headers: { Authorization: TOKEN, Origin: 'https://evil.example:8006', Host: 'evil.example:8443' },
    });
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const own = await send(port, {
      method: 'GET',
      path: '/api/v1/things/1',
      headers: { Authorization: TOKEN, Origin: 'https://pve.example:8006', Host: 'elsewhere:8443' },
    });
    assert.equal(own.headers['access-control-allow-origin'], 'https://pve.example:8006');
  });
});

describe('network settings validation', () => {
  it('refuses an invalid subnet with a field error instead of throwing in the cross-field checks', () => {
    const result = networkSettingsSchema.safeParse({ subnet: 'x' });
    assert.equal(result.success, false);
    assert.deepEqual(
      result.error?.issues.map((issue) => issue.path.join('.')),
      ['subnet'],
    );
  });
});
