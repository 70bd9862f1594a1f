/**
 * The Caddy renderer against the real Caddy 2.6.2: every golden document passes
 * `caddy validate`, and a real `caddy run` serves a rendered document as the design says.
 * Everything listens on loopback (127.0.0.0/8) and in temporary directories; no lab address
 * is ever dialled (the upstream resolver is a tiny DNS server of this test).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  canonicalJson,
  renderCaddyConfig,
  type JsonObject,
} from '../../server/src/modules/proxy/render/caddy.js';
import { routeInputSchema, type Route } from '../../server/src/contract/proxy.js';
import { repositoryRoot } from '../support/service.js';
import { tempDir } from '../support/temp.js';

const CADDY = '/usr/bin/caddy';
const goldenDir = path.join(repositoryRoot, 'server/src/modules/proxy/render/golden');
/** `caddy hash-password --plaintext 'correct horse'` */
const BCRYPT_SECRET = '$2a$14$7VcjvkKMrG11N6D4ESiHcethgq5ueQ79p4FfjzmW2tCk6ccfnamHW';

/** Caddy with its home, data and config dirs in `dir`: nothing lands in root's home. */
function caddyEnv(dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_DATA_HOME: path.join(dir, 'xdg-data'),
    XDG_CONFIG_HOME: path.join(dir, 'xdg-config'),
  };
}

/** Same document, with Caddy's storage and admin socket moved into `dir`. */
function relocated(document: JsonObject, dir: string): JsonObject {
  return {
    ...document,
    admin: { ...(document.admin as JsonObject), listen: `unix/${dir}/admin.sock` },
    storage: { ...(document.storage as JsonObject), root: path.join(dir, 'data') },
  };
}

function validate(document: JsonObject): { ok: boolean; output: string } {
  const dir = tempDir('proximity-caddy-');
  const file = path.join(dir, 'caddy.json');
  writeFileSync(file, canonicalJson(relocated(document, dir)));
  // Validation provisions the apps: the PKI app creates its CA in the storage, hence the move.
  const result = spawnSync(CADDY, ['validate', '--config', file], {
    env: caddyEnv(dir),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

describe('caddy validate', () => {
  const goldens = readdirSync(goldenDir).filter((name) => name.endsWith('.json'));

  it('has golden documents to check', () => {
    assert.deepEqual(goldens.sort(), ['dynamic.json', 'metrics.json', 'mix.json']);
  });

  for (const name of goldens) {
    it(`accepts golden/${name}`, () => {
      const { ok, output } = validate(
        JSON.parse(readFileSync(path.join(goldenDir, name), 'utf8')) as JsonObject,
      );
      assert.ok(ok, output);
      assert.match(output, /Valid configuration/);
    });
  }

  it('is strict: an unknown field fails, so passing means Caddy read every key', () => {
    const document = JSON.parse(readFileSync(path.join(goldenDir, 'dynamic.json'), 'utf8')) as {
      apps: { http: { servers: { proximity: { routes: { handle: JsonObject[] }[] } } } };
    };
    const proxy = document.apps.http.servers.proximity.routes[0]!.handle.at(-1)!;
    (proxy.dynamic_upstreams as JsonObject).resolvers = ['10.20.0.1:53'];
    const { ok, output } = validate(document as unknown as JsonObject);
    assert.equal(ok, false);
    assert.match(output, /unknown field "resolvers"/);
  });
});

// ---- A real Caddy ----

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function exchange(
  send: typeof http.request,
  options: http.RequestOptions | https.RequestOptions,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = send({ agent: false, timeout: 15_000, ...options }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.on('timeout', () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(body);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An app replica: answers who it is and what it got; `/own-headers` sends its own policy. */
async function startApp(name: string, host: string, port = 0): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('Server', 'tiny-app');
      if (req.url === '/own-headers') res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ app: name, host: req.headers.host, url: req.url }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

function stopServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A DNS server for A queries of `records` (NXDOMAIN for any other name): dnsmasq's part. */
async function startDns(records: Map<string, string[]>, queried: string[]): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    let offset = 12;
    const labels: string[] = [];
    while (query[offset]! > 0 && offset < query.length) {
      labels.push(query.toString('latin1', offset + 1, offset + 1 + query[offset]!));
      offset += query[offset]! + 1;
    }
    offset += 1;
    const type = query.readUInt16BE(offset);
    const question = query.subarray(12, offset + 4);
    const name = labels.join('.').toLowerCase();
    queried.push(name);
    const ips = records.get(name);
    const answers = type === 1 && ips ? ips : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180 | (ips ? 0 : 3), 2); // a recursive answer; NXDOMAIN if unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((ip) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // the name of the question
      rr.writeUInt16BE(1, 2); // A
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(1, 6); // TTL
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((octet, i) => (rr[12 + i] = Number(octet)));
      return rr;
    });
    socket.send(Buffer.concat([header, question, ...rrs]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

function route(input: Record<string, unknown>): Route {
  const parsed = routeInputSchema.parse(input);
  return { ...parsed, id: parsed.hostnames[0]!, source: 'api' };
}

interface Servers {
  apps: { http: { http_port?: number; https_port?: number; servers: { proximity: { listen: string[] } } } };
}

describe('a real Caddy 2.6 runs the rendered document', () => {
  const dir = tempDir('proximity-caddy-run-');
  const adminSocket = path.join(dir, 'admin.sock');
  const dataDir = path.join(dir, 'data');
  const apps: http.Server[] = [];
  const queried: string[] = [];
  let dns: Socket | undefined;
  let caddy: ChildProcess | undefined;
  let caddyLog = '';
  let loaded: JsonObject;
  let httpPort = 0;
  let httpsPort = 0;

  /** A request to Caddy's HTTP port for `host`. */
  const get = (host: string, urlPath = '/', more: http.RequestOptions = {}, body?: string) =>
    exchange(
      http.request,
      { host: '127.0.0.1', port: httpPort, path: urlPath, ...more, headers: { host, ...more.headers } },
      body,
    );
  /** Caddy's admin API: unix socket, and the Host header must be empty. */
  const admin = (urlPath: string) =>
    exchange(http.request, { socketPath: adminSocket, path: urlPath, setHost: false, headers: { host: '' } });

  before(async () => {
    const appPort = (
      await startApp('plain', '127.0.0.1').then((s) => (apps.push(s), s))
    ).address() as AddressInfo;
    // Two replicas of a dynamic route, on one port as nftables would present them.
    const replica1 = await startApp('replica-1', '127.0.0.1');
    const replicaPort = (replica1.address() as AddressInfo).port;
    apps.push(replica1, await startApp('replica-2', '127.0.0.2', replicaPort));
    dns = await startDns(new Map([['dyn.upstream.prox.local', ['127.0.0.1', '127.0.0.2']]]), queried);
    const upstream = [{ host: '127.0.0.1', port: appPort.port }];

    const document = renderCaddyConfig({
      settings: { domain: 'prox.local', metrics: true },
      site: { adminSocket, dataDir, resolver: `127.0.0.1:${(dns.address() as AddressInfo).port}` },
      routes: [
        // `first` makes it explicit: a static upstream.
        route({ hostnames: ['plain'], upstreams: upstream, loadBalancing: { policy: 'first' } }),
        route({ hostnames: ['locked'], upstreams: upstream, basicAuth: { username: 'bob', passwordHash: BCRYPT_SECRET } }),
        route({ hostnames: ['denied'], upstreams: upstream, access: { deny: ['127.0.0.0/8'] } }),
        route({ hostnames: ['outsider'], upstreams: upstream, access: { allow: ['192.0.2.0/24'] } }),
        route({ hostnames: ['small'], upstreams: upstream, maxRequestBodyBytes: 1024 }),
        route({ hostnames: ['secure'], publicHostnames: ['secure.example.test'], upstreams: upstream, tls: 'internal' }),
        // Dynamic: not in the document; its replicas come from DNS.
        route({ hostnames: ['dyn'], upstreams: [{ host: '10.20.0.101', port: 8080 }] }),
      ],
    }); // prettier-ignore

    // For the test only: loopback high ports instead of :80/:443, and the replicas' port
    // instead of 80 (which nftables maps in production).
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    const patched = JSON.parse(canonicalJson(document)) as JsonObject & Servers;
    patched.apps.http.http_port = httpPort;
    patched.apps.http.https_port = httpsPort;
    patched.apps.http.servers.proximity.listen = [`127.0.0.1:${httpPort}`, `127.0.0.1:${httpsPort}`];
    const catchAll = JSON.stringify(patched).replace('"port":"80"', `"port":"${replicaPort}"`);
    assert.notEqual(catchAll, JSON.stringify(patched), 'the catch-all dials port 80');
    loaded = JSON.parse(catchAll) as JsonObject;
    const file = path.join(dir, 'caddy.json');
    writeFileSync(file, canonicalJson(loaded));

    mkdirSync(path.join(dir, 'home'));
    caddy = spawn(CADDY, ['run', '--config', file], { env: caddyEnv(path.join(dir, 'home')) });
    caddy.stdout!.on('data', (chunk: Buffer) => (caddyLog += chunk.toString()));
    caddy.stderr!.on('data', (chunk: Buffer) => (caddyLog += chunk.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      assert.equal(caddy.exitCode, null, `caddy exited: ${caddyLog}`);
      const answer = await admin('/config/').catch(() => undefined);
      if (answer?.status === 200) break;
      assert.ok(Date.now() < deadline, `caddy's admin socket never answered: ${caddyLog}`);
      await sleep(100);
    }
  });

  after(async () => {
    // Only the Caddy this test started, by its pid.
    if (caddy?.pid !== undefined && caddy.exitCode === null) {
      const pid = caddy.pid;
      const exited = new Promise((resolve) => caddy!.once('exit', resolve));
      process.kill(pid, 'SIGTERM');
      const kill = setTimeout(() => caddy!.exitCode === null && process.kill(pid, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(kill);
    }
    await Promise.all(apps.map(stopServer));
    dns?.close();
  });

  it('serves over its admin socket exactly the document it was given', async () => {
    const answer = await admin('/config/');
    assert.equal(answer.status, 200);
    assert.equal(canonicalJson(JSON.parse(answer.body)), canonicalJson(loaded));
    const withHost = await exchange(http.request, { socketPath: adminSocket, path: '/config/' });
    assert.equal(withHost.status, 403, 'a Host header is refused on the socket');
  });

  it('proxies a static upstream, with the security headers and without Server', async () => {
    const answer = await get('plain.prox.local', '/hello');
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(JSON.parse(answer.body), { app: 'plain', host: 'plain.prox.local', url: '/hello' });
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
    assert.equal(answer.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(answer.headers['referrer-policy'], 'strict-origin-when-cross-origin');
    assert.match(String(answer.headers['permissions-policy']), /camera=\(\)/);
    assert.equal(answer.headers['strict-transport-security'], undefined, 'no HSTS without TLS');
    assert.equal(answer.headers.server, undefined, "neither Caddy's nor the app's Server header");
  });

  it("keeps the app's own header rather than the preset's", async () => {
    const answer = await get('plain.prox.local', '/own-headers');
    assert.equal(answer.headers['x-frame-options'], 'DENY');
  });

  it('asks for basic auth, and lets the right password through', async () => {
    const anonymous = await get('locked.prox.local');
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Basic /);
    const wrong = await get('locked.prox.local', '/', { auth: 'bob:wrong' });
    assert.equal(wrong.status, 401);
    const right = await get('locked.prox.local', '/', { auth: 'bob:correct horse' });
    assert.equal(right.status, 200);
    assert.equal(JSON.parse(right.body).app, 'plain');
  });

  it('answers 403 to a denied address and to one outside the allow list', async () => {
    const denied = await get('denied.prox.local');
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['x-content-type-options'], 'nosniff', 'the 403 carries the headers');
    assert.equal((await get('outsider.prox.local')).status, 403);
  });

  it('refuses a body over the limit', async () => {
    assert.equal((await get('small.prox.local', '/', { method: 'POST' }, 'x'.repeat(512))).status, 200);
    assert.equal((await get('small.prox.local', '/', { method: 'POST' }, 'x'.repeat(4096))).status, 413);
    const chunked = { method: 'POST', headers: { 'transfer-encoding': 'chunked' } };
    assert.equal((await get('small.prox.local', '/', chunked, 'x'.repeat(4096))).status, 413, 'chunked');
  });

  it('redirects a TLS route to HTTPS and serves it with the internal CA and HSTS', async () => {
    const redirect = await get('secure.prox.local', '/a?b=1');
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, 'https://secure.prox.local/a?b=1');
    const ca = path.join(dataDir, 'pki/authorities/local/root.crt');
    // The wildcard for names under the domain, a certificate of its own for the public name.
    for (const name of ['secure.prox.local', 'secure.example.test']) {
      const options = { host: '127.0.0.1', port: httpsPort, servername: name, headers: { host: name } };
      let answer: Answer | undefined;
      const deadline = Date.now() + 15_000;
      while (!answer) {
        // Certificates are issued in the background at start.
        answer = await exchange(https.request, { ...options, ca: readFileSync(ca) }).catch(async (error) => {
          assert.ok(Date.now() < deadline, `no HTTPS for ${name}: ${error} ${caddyLog}`);
          await sleep(200);
          return undefined;
        });
      }
      assert.equal(answer.status, 200, `${name}: ${answer.body}`);
      assert.equal(answer.headers['strict-transport-security'], 'max-age=31536000');
    }
  });

  it('serves a dynamic route from DNS, and retries a request on a replica that is gone', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const answer = await get('dyn.prox.local', '/x');
      assert.equal(answer.status, 200, answer.body);
      seen.add((JSON.parse(answer.body) as { app: string }).app);
      assert.equal(answer.headers['x-frame-options'], 'SAMEORIGIN');
    }
    assert.deepEqual([...seen].sort(), ['replica-1', 'replica-2'], 'round robin over both replicas');
    assert.ok(queried.includes('dyn.upstream.prox.local'), `asked DNS for ${queried.join(', ')}`);

    await stopServer(apps.pop()!); // replica-2, still in DNS
    for (let i = 0; i < 6; i++) {
      const answer = await get('dyn.prox.local', '/x');
      assert.equal(answer.status, 200, answer.body);
      assert.equal((JSON.parse(answer.body) as { app: string }).app, 'replica-1');
    }
  });

  it('answers 503 for a name under the domain with no upstreams, 404 for any other name', async () => {
    assert.equal((await get('ghost.prox.local')).status, 503);
    assert.ok(queried.includes('ghost.upstream.prox.local'));
    assert.equal((await get('elsewhere.example.org')).status, 404);
    assert.equal((await get('127.0.0.1')).status, 404);
  });

  it('keeps metrics on the admin socket: /metrics on the HTTP port is not Caddy', async () => {
    const metrics = await admin('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^caddy_http_requests_total\{.*server="proximity".*\} \d+/m);
    assert.equal((await get('metrics.example.org', '/metrics')).status, 404);
    const proxied = await get('plain.prox.local', '/metrics');
    assert.equal(JSON.parse(proxied.body).app, 'plain', 'the app got it, not Caddy');
  });
});
