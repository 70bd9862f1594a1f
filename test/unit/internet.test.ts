/**
 * The rig's internet without a network: the cache rules (policy.ts, pure) and the caching
 * server (server.ts) against a stand-in upstream on this machine's loopback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pinFile } from '../rig/internet/internet.js';
import { INDEX_TTL_MS, INTERNET_NAMES, normalizeHost, route } from '../rig/internet/policy.js';
import { internetHandler, pinnedFile, requestTarget } from '../rig/internet/server.js';

const cacheOf = (method: string, host: string, p: string) => {
  const r = route(method, host, p);
  return r.kind === 'upstream' ? r.cache : r.kind;
};

describe("the rig's internet: what a request gets (policy.ts)", () => {
  it('keeps Debian pool files and by-hash indexes forever, other indexes for a TTL', () => {
    const deb = 'deb.debian.org';
    assert.equal(cacheOf('GET', deb, '/debian/pool/main/n/nginx/nginx_1.26.3-3_amd64.deb'), 'forever');
    assert.equal(
      cacheOf('GET', 'security.debian.org', '/debian-security/pool/updates/main/o/openssl/libssl3t64_3.5.1-1+deb13u1_amd64.deb'),
      'forever',
    ); // prettier-ignore
    assert.equal(
      cacheOf('GET', deb, '/debian/dists/trixie/main/binary-amd64/by-hash/SHA256/0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9'),
      'forever',
    ); // prettier-ignore
    for (const p of [
      '/debian/dists/trixie/InRelease',
      '/debian/dists/trixie/Release',
      '/debian/dists/trixie/Release.gpg',
      '/debian/dists/trixie/main/binary-amd64/Packages.xz',
      '/debian/dists/trixie/main/binary-amd64/Packages',
      '/debian/dists/trixie/main/i18n/Translation-en.xz',
      '/debian/dists/trixie-updates/InRelease',
    ])
      assert.equal(cacheOf('GET', deb, p), 'ttl', p);
    assert.equal(cacheOf('HEAD', deb, '/debian/pool/main/a/apt/apt_3.0.3_amd64.deb'), 'forever');
    assert.equal(cacheOf('POST', deb, '/debian/pool/main/a/apt/apt_3.0.3_amd64.deb'), 'none');
  });

  it('keeps npm tarballs forever, packuments for a TTL keyed on Accept, and stores no search or audit', () => {
    const npm = 'registry.npmjs.org';
    assert.equal(cacheOf('GET', npm, '/is-number/-/is-number-7.0.0.tgz'), 'forever');
    assert.equal(cacheOf('GET', npm, '/@types/node/-/node-20.19.0.tgz'), 'forever');
    for (const p of ['/is-number', '/@types/node', '/@types%2fnode', '/@types%2Fnode'])
      assert.equal(cacheOf('GET', npm, p), 'ttl', p);
    for (const p of [
      '/-/v1/search?text=x',
      '/-/npm/v1/security/advisories/bulk',
      '/-/ping',
      '/is-number?write=true',
    ])
      assert.equal(cacheOf('GET', npm, p), 'none', p);
    assert.equal(cacheOf('POST', npm, '/-/npm/v1/security/advisories/bulk'), 'none');
    const packument = route('GET', npm, '/is-number');
    assert.ok(packument.kind === 'upstream' && packument.varyOnAccept);
    assert.equal(packument.url, 'https://registry.npmjs.org/is-number');
    const tarball = route('GET', npm, '/is-number/-/is-number-7.0.0.tgz');
    assert.ok(tarball.kind === 'upstream' && !tarball.varyOnAccept);
  });

  it('fetches Debian over http and npm over https, whatever the client used; pins third-party hosts; refuses the rest', () => {
    const debian = route('GET', 'deb.debian.org:443', '/debian/dists/trixie/InRelease');
    assert.ok(debian.kind === 'upstream');
    assert.equal(debian.url, 'http://deb.debian.org/debian/dists/trixie/InRelease');
    assert.deepEqual(route('GET', 'Raw.GitHubUserContent.com.', '/o/r/main/x.sh?token=1'), {
      kind: 'pinned',
      host: 'raw.githubusercontent.com',
      path: '/o/r/main/x.sh',
    });
    assert.deepEqual(route('GET', 'example.com', '/'), { kind: 'unreachable', host: 'example.com' });
    assert.deepEqual(route('GET', undefined, '/'), { kind: 'unreachable', host: '' });
    assert.equal(normalizeHost('[::1]:80'), '[::1]');
    for (const name of ['deb.debian.org', 'security.debian.org', 'registry.npmjs.org', 'github.com'])
      assert.ok(INTERNET_NAMES.includes(name));
  });

  it('takes host and path from the Host header, or from an absolute URL (a client using it as its proxy)', () => {
    assert.deepEqual(requestTarget({ url: '/a?b', headers: { host: 'deb.debian.org' } }), {
      host: 'deb.debian.org',
      target: '/a?b',
    });
    assert.deepEqual(
      requestTarget({ url: 'http://deb.debian.org:80/debian/x?y', headers: { host: 'other' } }),
      {
        host: 'deb.debian.org',
        target: '/debian/x?y',
      },
    );
  });

  it('maps pinned URLs into the static directory and never out of it', () => {
    assert.equal(pinnedFile('/s', 'github.com', '/o/r/a%20b.txt'), '/s/github.com/o/r/a b.txt');
    assert.equal(pinnedFile('/s', 'github.com', '/../api.github.com/x'), undefined);
    assert.equal(pinnedFile('/s', 'github.com', '/%2e%2e/x'), undefined);
    assert.equal(pinnedFile('/s', 'github.com', '/%zz'), undefined);
  });
});

describe("the rig's internet: the caching server (server.ts) against a stand-in upstream", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rig-internet-'));
  const staticDir = path.join(dir, 'internet', 'static');
  const asked: string[] = [];
  let clock = 1_000_000;
  let upstreamDown = false;
  let upstream: http.Server;
  let proxy: http.Server;
  const log: string[] = [];

  before(async () => {
    upstream = http.createServer((req, res) => {
      asked.push(`${req.method} ${req.url} accept=${req.headers.accept ?? ''}`);
      if (upstreamDown) return res.destroy();
      if (req.url?.includes('missing')) return res.writeHead(404).end('no such file');
      const body = `${req.url} #${asked.length}`;
      if (req.headers['if-none-match'] === '"v1"' && req.url?.includes('revalidate'))
        return res.writeHead(304).end();
      // Slow enough that two clients overlap.
      setTimeout(
        () => res.writeHead(200, { etag: '"v1"', 'content-type': 'text/plain', 'x-noise': '1' }).end(body),
        30,
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    const handle = internetHandler({
      cacheRoot: path.join(dir, 'cache'),
      staticDir,
      log: (line) => log.push(line),
      now: () => clock,
      // http(s)://host/path -> the stand-in, path prefixed by the host
      upstreamUrl: (url) => url.replace(/^https?:\/\//, `http://127.0.0.1:${port}/`),
    });
    proxy = http.createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((resolve) => proxy.close(resolve));
    await new Promise((resolve) => upstream.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  function get(host: string, p: string, headers: Record<string, string> = {}, method = 'GET') {
    return new Promise<{ status: number; cache: string; body: string; headers: http.IncomingHttpHeaders }>(
      (resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: (proxy.address() as AddressInfo).port,
            path: p,
            method,
            headers: { host, ...headers },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                cache: String(res.headers['x-rig-cache']),
                body,
                headers: res.headers,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
  }

  it('fetches a miss once, also for two clients at once, then answers from the cache', async () => {
    const p = '/debian/pool/main/h/hello/hello_2.10_amd64.deb';
    const [a, b] = await Promise.all([get('deb.debian.org', p), get('deb.debian.org', p)]);
    assert.equal(a.status, 200);
    assert.deepEqual([a.cache, b.cache].sort(), ['hit', 'miss']);
    assert.equal(a.body, b.body);
    assert.equal(asked.filter((line) => line.includes('hello_2.10')).length, 1);
    clock += 365 * 24 * 3600_000; // pool files never expire
    const c = await get('deb.debian.org', p);
    assert.equal(c.cache, 'hit');
    assert.equal(c.body, a.body);
    assert.equal(c.headers['x-noise'], undefined, 'only the kept headers are passed on');
    assert.equal(c.headers.etag, '"v1"');
    const head = await get('deb.debian.org', p, {}, 'HEAD');
    assert.equal(head.cache, 'hit');
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(a.body)));
    assert.ok(log.some((line) => line.includes(`GET deb.debian.org ${p} 200 hit `)));
  });

  it('asks again after the TTL, serves stale when upstream fails, and keeps a 304 answer', async () => {
    const p = '/debian/dists/trixie/InRelease';
    const first = await get('deb.debian.org', p);
    assert.equal(first.cache, 'miss');
    assert.equal((await get('deb.debian.org', p)).cache, 'hit');
    clock += INDEX_TTL_MS + 1;
    const second = await get('deb.debian.org', p);
    assert.equal(second.cache, 'miss', 'refetched after the TTL');
    assert.notEqual(second.body, first.body);
    clock += INDEX_TTL_MS + 1;
    upstreamDown = true;
    try {
      const stale = await get('deb.debian.org', p);
      assert.equal(stale.cache, 'stale');
      assert.equal(stale.body, second.body);
      const never = await get('deb.debian.org', '/debian/dists/trixie/main/binary-amd64/Packages.xz');
      assert.equal(never.status, 502);
    } finally {
      upstreamDown = false;
    }
    const r = '/debian/dists/revalidate/InRelease';
    const cold = await get('deb.debian.org', r);
    clock += INDEX_TTL_MS + 1;
    const revalidated = await get('deb.debian.org', r);
    assert.equal(revalidated.cache, 'revalidated');
    assert.equal(revalidated.body, cold.body);
    assert.equal((await get('deb.debian.org', r)).cache, 'hit', 'good for another TTL');
  });

  it('keys npm packuments on Accept and passes errors and uncacheable requests through', async () => {
    const corgi = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
    assert.equal((await get('registry.npmjs.org', '/is-odd', { accept: corgi })).cache, 'miss');
    assert.equal((await get('registry.npmjs.org', '/is-odd', { accept: corgi })).cache, 'hit');
    assert.equal((await get('registry.npmjs.org', '/is-odd', { accept: 'application/json' })).cache, 'miss');
    assert.ok(asked.includes(`GET /registry.npmjs.org/is-odd accept=${corgi}`));
    const missing = await get('registry.npmjs.org', '/missing-package');
    assert.deepEqual([missing.status, missing.cache, missing.body], [404, 'pass', 'no such file']);
    assert.equal((await get('registry.npmjs.org', '/missing-package')).cache, 'pass', '404s are not stored');
    assert.equal((await get('registry.npmjs.org', '/-/v1/search?text=x')).cache, 'pass');
  });

  it('serves pinned files under their URL, 404 for the rest, 502 for unknown names', async () => {
    pinFile(dir, 'https://raw.githubusercontent.com/o/r/main/install.sh', 'echo pinned\n');
    const pinned = await get('raw.githubusercontent.com', '/o/r/main/install.sh');
    assert.deepEqual([pinned.status, pinned.cache, pinned.body], [200, 'pinned', 'echo pinned\n']);
    assert.equal((await get('raw.githubusercontent.com', '/o/r/main/other.sh')).status, 404);
    assert.equal((await get('github.com', '/o/r/main/install.sh')).status, 404, 'pinned per host');
    const refused = await get('example.com', '/');
    assert.deepEqual(
      [refused.status, refused.body],
      [502, "example.com is not reachable from the rig's internet\n"],
    );
    assert.throws(() => pinFile(dir, 'https://example.com/x', 'x'), /not a pinned host/);
    assert.equal(asked.filter((line) => line.includes('example.com')).length, 0);
  });
});
