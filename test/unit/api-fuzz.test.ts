/**
 * The API fuzzer (issue 19): requests generated from each route's own schemas (the route
 * index, server/src/contract/routes.ts) and hostile variants of every part (wrong types,
 * huge, deep, unicode, NUL, bad escapes, prototype keys, wrong content types and encodings,
 * bad credentials), sent one after another to the real service with every default module,
 * in-process, against the PVE API simulator (test/support/api-harness.ts). It holds:
 *
 * - no 5xx (503 `unavailable` and 507 `insufficient_storage` in our shape are answers the
 *   API documents: the appliance is not running, the static range is full);
 * - every 4xx in our error shape, its message without raw NUL or line breaks;
 * - /health answering throughout;
 * - the stored state unchanged by every refused request;
 * - no request without an answer, and no prototype polluted.
 *
 * Seeded and bounded: FUZZ_REQUESTS (10,000 in `npm test`) and FUZZ_SEED; `npm run
 * test:fuzz` runs a longer one. The network is never initialised, and the routes that could
 * change this machine (initialize, rebuild-bridge, test-nat) are sent only by callers PVE
 * refuses.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { errorBodySchema } from '../../server/src/contract/errors.js';
import { API_ROUTES, PUBLIC_ROUTES } from '../../server/src/contract/routes.js';
import { AppRepository } from '../../server/src/modules/apps/repository.js';
import { AUDITOR_AUTH, ROOT_AUTH, startHarness, type Answer, type Harness } from '../support/api-harness.js';
import { requestFor, type FuzzRequest, type FuzzTarget } from '../support/fuzz.js';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 19);

/** Routes whose success would touch this machine's network: sent by refused callers only. */
const MACHINE_ROUTES = new Set([
  'POST /system/network/initialize',
  'POST /system/network/rebuild-bridge',
  'POST /system/infrastructure/test-nat',
]);

interface Failure {
  request: string;
  why: string;
}

describe(`API fuzzer (${REQUESTS} requests, seed ${SEED})`, () => {
  let h: Harness;
  const known: Record<string, string[]> = {
    hostname: ['fz-app', 'fz-dns'],
    id: ['fz-route'],
    mac: ['BC:24:11:FF:00:01'],
    name: ['logs', 'version'],
  };

  before(async () => {
    h = await startHarness();
    new AppRepository(h.service.store.db).insert({
      hostname: 'fz-app',
      catalogId: null,
      node: 'pve1',
      state: 'ready',
      taskId: null,
      owner: 'root@pam',
      spec: {
        catalog: null,
        template: null,
        resources: { cores: 1, memoryMb: 64, diskGb: 1, unprivileged: true, nesting: false },
        port: { port: 80, protocol: 'http' },
        healthCheck: { path: '/', timeoutSeconds: 30 },
        install: [],
        env: {},
        secretKeys: [],
        safeCommands: [],
      },
    });
    for (const [method, path, body] of [
      ['PUT', '/network/names/fz-dns', { ip: '10.20.0.60' }],
      ['POST', '/network/reservations', { mac: 'BC:24:11:FF:00:01', hostname: 'fz-res' }],
      ['POST', '/routes', { hostnames: ['fz-route'], upstreams: [{ host: '10.20.0.61', port: 80 }] }],
    ] as const) {
      const answer = await h.call(method, path, body);
      assert.ok(answer.status < 300, `${method} ${path}: ${JSON.stringify(answer.error)}`);
    }
  });
  after(() => h?.close());

  /** Every table's rows: what a refused request must leave as it was. */
  function snapshot(): string {
    const db = h.service.store.db;
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as { name: string }[];
    return JSON.stringify(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all()]));
  }

  function check(request: FuzzRequest, answer: Answer): string | undefined {
    const status = answer.status;
    // No body to read: the status alone (503 is the documented "not running" answer).
    if (request.method === 'HEAD')
      return status >= 500 && status !== 503 ? `HEAD answered ${status}` : undefined;
    if (status < 400) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return `${status} with a body that is not JSON: ${JSON.stringify(answer.text.slice(0, 200))}`;
    }
    const parsed = errorBodySchema.safeParse(body);
    if (!parsed.success) return `${status} not in our error shape: ${answer.text.slice(0, 300)}`;
    const { code, message, fields } = parsed.data.error;
    const texts = [message, ...Object.keys(fields ?? {}), ...Object.values(fields ?? {})];
    if (texts.some((text) => text.includes('\u0000') || /[\n\r]/.test(text)))
      return `${status} error repeats raw NUL or line breaks: ${answer.text.slice(0, 300)}`;
    if (answer.text.length > 20_000) return `${status} error of ${answer.text.length} bytes`;
    if (status >= 500) {
      const documented =
        (status === 503 && code === 'unavailable') || (status === 507 && code === 'insufficient_storage');
      if (!documented) return `${status} ${code}: ${message}`;
    }
    return undefined;
  }

  it('answers what is not HTTP in our error shape too, and closes the connection', async () => {
    const { port } = new URL(h.service.url);
    const garbage = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n',
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
      'GET /\u0000 HTTP/1.1\r\n\r\n',
    ];
    for (const bytes of garbage) {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('end', () => resolve(received));
        socket.on('close', () => resolve(received));
        socket.on('error', (error) => (received ? resolve(received) : reject(error)));
        socket.write(bytes);
      });
      const [head, body = ''] = text.split('\r\n\r\n');
      assert.match(head!, /^HTTP\/1\.1 4\d\d /, JSON.stringify(bytes.slice(0, 60)));
      assert.match(head!, /content-type: application\/json/i);
      assert.ok(errorBodySchema.safeParse(JSON.parse(body)).success, body);
    }
  });

  it('answers every request with a 2xx, or a 4xx in our error shape that changes nothing', async () => {
    const targets: FuzzTarget[] = [
      ...PUBLIC_ROUTES.map((spec) => ({ spec, prefix: '' as const, known })),
      ...API_ROUTES.map((spec) => ({ spec, prefix: '/api/v1' as const, known })),
    ];
    const credentials = { root: ROOT_AUTH, auditor: AUDITOR_AUTH };
    // Built once per route (a schema's arbitrary is not cheap to make), then one route at a time.
    const arbitrary = fc.oneof(...targets.map((target) => requestFor(target, credentials))).map((request) =>
      MACHINE_ROUTES.has(request.route.replace('/api/v1', '')) && request.headers.authorization === ROOT_AUTH
        ? {
            ...request,
            headers: { ...request.headers, authorization: AUDITOR_AUTH },
            variant: `${request.variant} (as auditor)`,
          }
        : request,
    );
    const sampling = Date.now();
    const requests = fc.sample(arbitrary, { seed: SEED, numRuns: REQUESTS });
    const sampled = (Date.now() - sampling) / 1000;

    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    const routes = new Set<string>();
    let healthFailures = 0;
    const healthProblems: string[] = [];
    let healthChecks = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const sent = Date.now();
        const answer = await h
          .raw({ method: 'GET', path: '/health', timeoutMs: 2000, fresh: true })
          .catch((error: unknown) => (error as Error).message);
        healthChecks++;
        if (typeof answer === 'string' || answer.status !== 200) {
          healthFailures++;
          healthProblems.push(
            `${typeof answer === 'string' ? answer : answer.status} after ${Date.now() - sent} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    rmSync('test-results/fuzz-failures.json', { force: true });
    let previous = 'none';
    // Its own keep-alive pool: a connection left idle by the set-up would be reset under it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const started = Date.now();
    for (const request of requests) {
      routes.add(request.route);
      const writes = request.method !== 'GET' && request.method !== 'HEAD';
      const before = writes ? snapshot() : '';
      const describe = () =>
        `${request.method} ${request.path.slice(0, 160)} [${request.variant}] ${request.body ? `${request.body.length} bytes` : 'no body'}`;
      let answer: Answer;
      try {
        answer = await h.raw({
          method: request.method,
          path: request.path,
          headers: request.headers,
          ...(request.body ? { body: request.body } : {}),
          timeoutMs: 10_000,
          agent,
        });
      } catch (error) {
        // A refused, oversized body may close the connection before it is all sent: that
        // is the answer (413 and close), seen by this client as a reset.
        if (request.body && request.body.length > 1024 * 1024) continue;
        failures.push({
          request: describe(),
          why: `no answer: ${(error as Error).message} (after ${previous})`,
        });
        continue;
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      previous = `${describe()} → ${answer.status} ${String(answer.headers.connection ?? '')}`;
      const problem = check(request, answer);
      if (problem) failures.push({ request: describe(), why: problem });
      if (writes && answer.status >= 400 && snapshot() !== before)
        failures.push({
          request: describe(),
          why: `refused with ${answer.status} but the stored state changed`,
        });
    }
    const seconds = (Date.now() - started) / 1000;
    agent.destroy();
    polling = false;
    await poller;

    const summary = [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    console.log(
      `fuzzer: ${requests.length} requests (generated in ${sampled.toFixed(1)} s) over ${routes.size} routes in ${seconds.toFixed(1)} s (${(requests.length / seconds).toFixed(0)} req/s); ${summary}; /health ${healthChecks - healthFailures}/${healthChecks} ok`,
    );
    if (failures.length > 0) {
      mkdirSync('test-results', { recursive: true });
      writeFileSync('test-results/fuzz-failures.json', JSON.stringify(failures, null, 1));
    }
    const polluted = ({} as Record<string, unknown>).polluted;
    assert.equal(polluted, undefined, 'Object.prototype was polluted');
    assert.equal(routes.size, targets.length, 'every route was asked');
    assert.deepEqual(failures.slice(0, 25), [], `${failures.length} failures`);
    assert.equal(healthFailures, 0, `/health failed ${healthFailures} times: ${healthProblems.join('; ')}`);
  });
});
