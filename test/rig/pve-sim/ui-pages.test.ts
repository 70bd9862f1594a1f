import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createUiPages, renderTemplate, resolveUnder } from './ui-pages.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ui-pages-'));
const managerDir = path.join(dir, 'pve-manager');
let server: Server;
let port: number;

before(async () => {
  mkdirSync(path.join(managerDir, 'js'), { recursive: true });
  writeFileSync(
    path.join(managerDir, 'index.html.tpl'),
    '<title>[% nodename %]</title>[% IF debug %]debug[%- ELSE %]ext-all.js[% END %] user=[% username %] token=[% token %]',
  );
  writeFileSync(path.join(managerDir, 'js/proximity.js'), 'Ext.define("X", {});');
  writeFileSync(path.join(dir, 'secret'), 'not to be served');
  const ui = createUiPages(
    { managerDir },
    {
      nodeName: 'pve1',
      version: '9.0.10',
      session: (cookie) =>
        cookie === 'PVEAuthCookie=good' ? { username: 'root@pam', token: 'T:K' } : undefined,
    },
  );
  server = createServer((req, res) => {
    if (!ui(req, res)) res.writeHead(501, 'api').end('api');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request: the path is sent as given (no URL normalization, unlike fetch). */
function get(
  rawPath: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the simulator serving the web interface', () => {
  it('renders index.html.tpl per request with the caller’s name and CSRF token', async () => {
    const anonymous = await get('/');
    assert.equal(anonymous.status, 200);
    assert.match(anonymous.headers['content-type'] as string, /^text\/html/);
    assert.equal(anonymous.body, '<title>pve1</title>ext-all.js user= token=');
    const loggedIn = await get('/', { cookie: 'PVEAuthCookie=good' });
    assert.equal(loggedIn.body, '<title>pve1</title>ext-all.js user=root@pam token=T:K');
    // read at request time: a line inserted meanwhile shows at once, as with pveproxy
    writeFileSync(path.join(managerDir, 'index.html.tpl'), 'changed');
    assert.equal((await get('/')).body, 'changed');
  });

  it('serves ExtJS 6.2, the crisp theme, charts and Font Awesome where a PVE node has them', async () => {
    const cases: [string, RegExp][] = [
      ['/pve2/ext6/ext-all.js', /^application\/javascript/],
      ['/pve2/ext6/charts.js', /^application\/javascript/],
      ['/pve2/ext6/theme-crisp/resources/theme-crisp-all.css', /^text\/css/],
      ['/pve2/ext6/theme-crisp/resources/images/tree/arrows.png', /^image\/png/],
      ['/pve2/ext6/crisp/resources/charts-all.css', /^text\/css/],
      ['/pve2/ext6/locale/locale-en.js', /^application\/javascript/],
      ['/pve2/fa/css/font-awesome.css', /^text\/css/],
      ['/pve2/fa/css/fonts/fontawesome-webfont.woff2', /^font\/woff2/],
      ['/proxmoxlib.js?ver=9.0.10', /^application\/javascript/],
    ];
    for (const [url, type] of cases) {
      const answer = await get(url, {}, 'HEAD');
      assert.equal(answer.status, 200, url);
      assert.match(answer.headers['content-type'] as string, type, url);
      assert.ok(Number(answer.headers['content-length']) > 0, url);
    }
    assert.match(
      (await get('/pve2/ext6/ext-all.js', {}, 'HEAD')).headers['cache-control'] as string,
      /max-age/,
    );
  });

  it('serves the manager’s js directory, revalidated, with 304 for an unchanged file', async () => {
    const first = await get('/pve2/js/proximity.js');
    assert.equal(first.status, 200);
    assert.equal(first.body, 'Ext.define("X", {});');
    assert.equal(first.headers['cache-control'], 'no-cache');
    const again = await get('/pve2/js/proximity.js', {
      'if-modified-since': first.headers['last-modified'] as string,
    });
    assert.equal(again.status, 304);
    assert.equal((await get('/pve2/js/missing.js')).status, 404);
  });

  it('never leaves its directories', async () => {
    for (const url of [
      '/pve2/js/../../secret',
      '/pve2/js/..%2f..%2fsecret',
      '/pve2/js/%2e%2e/%2e%2e/secret',
      '/pve2/js/..%5c..%5csecret',
      '/pve2/js//etc/passwd',
      '/pve2/js/%00',
      '/pve2/ext6/..%2f..%2f..%2fpackage.json',
    ]) {
      const answer = await get(url);
      assert.ok(answer.status === 404 || answer.body === 'api', `${url}: ${answer.status}`);
      assert.doesNotMatch(answer.body, /not to be served|"name"/, url);
    }
    assert.equal(resolveUnder('/srv', '../etc'), undefined);
    assert.equal(resolveUnder('/srv', 'a/./b'), undefined);
    assert.equal(resolveUnder('/srv', 'a/b.js'), '/srv/a/b.js');
  });

  it('leaves the API and everything else to the API handler', async () => {
    for (const [url, method] of [
      ['/api2/json/version', 'GET'],
      ['/', 'POST'],
      ['/favicon.ico', 'GET'],
      ['/index.html.tpl', 'GET'],
    ] as const) {
      assert.equal((await get(url, {}, method)).body, 'api', `${method} ${url}`);
    }
  });

  it('renders Template Toolkit’s IF/ELSE/END and variables', () => {
    const tpl = '[% IF a %]A[%- ELSE %]not A[% END %] [% IF b %]B[% END %] [% v %][% missing %]';
    assert.equal(renderTemplate(tpl, { a: true, b: false, v: 'x' }), 'A  x');
    assert.equal(renderTemplate(tpl, { a: false, b: true, v: 'y' }), 'not A B y');
  });
});
