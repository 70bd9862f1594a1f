/**
 * The .deb's life on a Proxmox VE node, in a debootstrapped Debian trixie with Debian's own
 * nodejs and a stand-in pve-manager: build and lintian, install, the service and the CLI
 * under that nodejs, a pve-manager upgrade (the trigger), reinstall and upgrade, the
 * maintainer scripts run twice, remove, purge, install again. The steps run in order on
 * one root; each asserts what it leaves behind.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  buildPackage,
  buildStandin,
  cacheDir,
  freePort,
  Root,
  run,
  seconds,
  trixieBase,
  type BuiltPackage,
} from './support.js';

const TEMPLATE = '/usr/share/pve-manager/index.html.tpl';
const MARKER = '<!-- proximity-ui -->';
const TOKEN_FILE = '/etc/proximity/pve-token';
const CALLS = '/var/log/pve-standin-calls.log';
const STANDIN_TOKEN = '/var/lib/pve-standin/tokens/root@pam!proximity';

const figures: string[] = [];
const figure = (line: string) => {
  figures.push(line);
  console.log(`# ${line}`);
};

let pkg: BuiltPackage;
let root: Root;
let standin: { v900: string; v901: string };
let upgraded: string;
let upgradedVersion: string;

const read = (inside: string) => readFileSync(root.path(inside), 'utf8');
const markedLines = () =>
  read(TEMPLATE)
    .split('\n')
    .filter((line) => line.includes(MARKER));
const calls = () => (existsSync(root.path(CALLS)) ? read(CALLS).trim().split('\n') : []);
const mode = (inside: string) => (statSync(root.path(inside)).mode & 0o777).toString(8);

async function apt(...args: string[]) {
  const started = Date.now();
  const { stdout } = await root.exec(['apt-get', '-y', '-q', '-o', 'Dpkg::Use-Pty=0', ...args]);
  // Nothing from the network: the root's own packages and our files are enough.
  assert.doesNotMatch(stdout, /^Get:\d+ [a-z]+:\/\//m, 'apt downloaded something');
  return { seconds: seconds(started), stdout };
}

/** The one line, just after pvemanagerlib.js and before </head>, with this version. */
function assertLineOnce(version: string) {
  const lines = markedLines();
  assert.equal(lines.length, 1, `marked lines in the template:\n${lines.join('\n')}`);
  assert.equal(
    lines[0],
    `    <script type="text/javascript" src="/pve2/js/proximity.js?ver=${version}"></script> ${MARKER}`,
  );
  const text = read(TEMPLATE);
  assert.ok(text.indexOf('pvemanagerlib.js') < text.indexOf(MARKER), 'after pvemanagerlib.js');
  assert.ok(text.indexOf(MARKER) < text.indexOf('</head>'), 'inside <head>');
}

/** Starts the installed service under the root's nodejs on a free loopback port; checks /health. */
async function startService() {
  const port = await freePort();
  const pvePort = await freePort(); // nothing listens there: PVE's API is unreachable
  const env = {
    PROXIMITY_LISTEN_HOST: '127.0.0.1',
    PROXIMITY_LISTEN_PORT: String(port),
    PROXIMITY_PVE_PORT: String(pvePort),
  };
  const child = root.spawn(
    ['/usr/bin/node', '/usr/lib/proximity/server/dist/main.js', '--config', '/etc/proximity/proximity.json'],
    env,
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ca = read('/etc/pve/local/pve-ssl.pem');
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) assert.fail(`the service exited (${child.exitCode}):\n${output}`);
    const answer = await get(port, '/health', ca).catch(() => null);
    if (answer) return { child, port, env, health: answer, startSeconds: seconds(started) };
    if (Date.now() - started > 30_000) assert.fail(`no /health answer within 30 s:\n${output}`);
    await sleep(200);
  }
}

function get(port: number, urlPath: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      { host: '127.0.0.1', port, path: urlPath, ca, servername: 'localhost', timeout: 2000 },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

/** Everything named like us anywhere in the root, except our .deb files brought in for the test. */
async function leftovers(): Promise<string[]> {
  const { stdout } = await root.exec([
    'find',
    '/',
    '-xdev',
    '(',
    '-path',
    '/tmp/debs',
    '-o',
    '-path',
    '/proc',
    ')',
    '-prune',
    '-o',
    '-iname',
    '*proximity*',
    '-print',
  ]);
  return stdout.split('\n').filter(Boolean).sort();
}

describe('the Debian package in Debian trixie with a stand-in pve-manager', () => {
  before(async () => {
    pkg = await buildPackage();
    figure(
      pkg.buildSeconds === null
        ? `build: cached .deb of ${pkg.commit.slice(0, 12)}`
        : `build: dpkg-buildpackage -b from a clean clone of ${pkg.commit.slice(0, 12)}: ${pkg.buildSeconds} s`,
    );
    figure(`.deb: ${path.basename(pkg.deb)}, ${(statSync(pkg.deb).size / 1024 / 1024).toFixed(1)} MiB`);
    const base = await trixieBase();
    figure(
      base.seconds === null ? `debootstrap: cached ${base.dir}` : `debootstrap trixie: ${base.seconds} s`,
    );
    const started = Date.now();
    standin = {
      v900: await buildStandin('9.0.0', (text) => text),
      // A new pve-manager: a different template, without our line (as every upgrade).
      v901: await buildStandin('9.0.1', (text) => text.replaceAll('?ver=7.0.0', '?ver=7.0.1')),
    };
    figure(`equivs stand-ins: ${seconds(started)} s`);
    upgradedVersion = `${pkg.version}+test1`;
    upgraded = await repack(pkg.deb, upgradedVersion);
    root = await Root.fresh(base.dir);
    for (const deb of [pkg.deb, upgraded, standin.v900, standin.v901]) {
      copyFileSync(deb, root.path(`tmp/debs/${path.basename(deb)}`));
    }
    // pveproxy's certificate as PVE keeps it in pmxcfs; `listen.tls: pve` serves it.
    await run('mkdir', ['-p', root.path('etc/pve/local')]);
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      root.path('etc/pve/local/pve-ssl.key'),
      '-out',
      root.path('etc/pve/local/pve-ssl.pem'),
    ]);
  });

  after(async () => {
    await root?.close();
    console.log(`# figures:\n${figures.map((line) => `#   ${line}`).join('\n')}`);
  });

  it('builds, and lintian reports no errors', () => {
    const lines = pkg.lintian.split('\n').filter((line) => /^[EWI]: /.test(line));
    for (const line of lines.filter((l) => !l.startsWith('I: '))) console.log(`# lintian ${line}`);
    figure(
      `lintian: ${lines.filter((l) => l.startsWith('E:')).length} errors, ${lines.filter((l) => l.startsWith('W:')).length} warnings, ${lines.filter((l) => l.startsWith('I:')).length} info`,
    );
    assert.deepEqual(
      lines.filter((line) => line.startsWith('E: ')),
      [],
    );
  });

  it('installs with apt: the line once, the token, the files', async () => {
    await apt('install', `/tmp/debs/${path.basename(standin.v900)}`);
    assert.equal(markedLines().length, 0);
    const { seconds: took } = await apt('install', `/tmp/debs/${path.basename(pkg.deb)}`);
    figure(`apt install ./${path.basename(pkg.deb)}: ${took} s`);

    assertLineOnce(pkg.version);
    assert.ok(existsSync(root.path('usr/share/pve-manager/js/proximity.js')));
    // The token: created by pveum, its secret root-only in the token file.
    assert.deepEqual(calls(), ['pveum user token add root@pam proximity --privsep 0 --output-format json']);
    assert.equal(mode(TOKEN_FILE), '600');
    assert.equal(read(TOKEN_FILE).trim(), read(STANDIN_TOKEN).trim());
    assert.match(read(TOKEN_FILE).trim(), /^[0-9a-f-]{36}$/);
    // Configuration (a conffile), data directory, unit enabled (not started: no systemd here).
    const conffiles = read('/var/lib/dpkg/info/proximity.conffiles');
    assert.match(conffiles, /^\/etc\/proximity\/proximity\.json$/m);
    assert.equal(JSON.parse(read('/etc/proximity/proximity.json')).listen.tls, 'pve');
    assert.equal(mode('/var/lib/proximity'), '750');
    // An absolute link, meant for inside the root: read it, don't follow it from here.
    const wants = await root.exec([
      'readlink',
      '/etc/systemd/system/multi-user.target.wants/proximity.service',
    ]);
    assert.match(wants.stdout.trim(), /^(\/usr)?\/lib\/systemd\/system\/proximity\.service$/);
    assert.ok(existsSync(root.path('usr/lib/systemd/system/proximity.service')));
    assert.equal(
      path.resolve('/usr/bin', (await root.exec(['readlink', '/usr/bin/proximity'])).stdout.trim()),
      '/usr/lib/proximity/server/dist/bin/proximity.js',
    );
  });

  it("runs under the root's Debian nodejs 20: /health answers, the CLI answers", async () => {
    const nodeVersion = (await root.exec(['node', '--version'])).stdout.trim();
    const packaged = (await root.exec(['dpkg-query', '-W', '-f=${Version}', 'nodejs'])).stdout.trim();
    figure(`node in the root: ${nodeVersion} (Debian nodejs ${packaged})`);
    assert.match(nodeVersion, /^v20\./);
    assert.match(packaged, /\+dfsg/, "Debian's own nodejs package");
    // better-sqlite3, compiled at build time, loads under this nodejs.
    const sqlite = await root.exec([
      'node',
      '-e',
      "const D=require('/usr/lib/proximity/node_modules/better-sqlite3');console.log(new D(':memory:').prepare('select sqlite_version() v').get().v)",
    ]);
    assert.match(sqlite.stdout, /^3\./);

    const service = await startService();
    try {
      figure(`service start to /health: ${service.startSeconds} s`);
      assert.equal(service.health.status, 200);
      assert.deepEqual(JSON.parse(service.health.body), { status: 'ok' });
      const help = await root.exec(['proximity', '--help']);
      assert.match(help.stdout, /status/);
      assert.match(help.stdout, /network/);
      const status = await root.exec(['proximity', '--json', 'status'], service.env);
      const answer = JSON.parse(status.stdout) as { service: string; version: string; node_version: string };
      assert.equal(answer.service, 'proximity');
      assert.equal(answer.version, pkg.version);
      assert.equal(answer.node_version, nodeVersion);
      const human = await root.exec(['proximity', 'status'], service.env);
      assert.match(human.stdout, new RegExp(`^proximity ${pkg.version.replaceAll('.', '\\.')}: `));
    } finally {
      await root.stop(service.child);
    }
  });

  it('the maintainer scripts run twice give the same result', async () => {
    const snapshot = () => ({
      template: read(TEMPLATE),
      token: read(TOKEN_FILE),
      tokenMode: mode(TOKEN_FILE),
      dataMode: mode('/var/lib/proximity'),
      calls: calls().length,
    });
    const script = (name: string, ...args: string[]) =>
      root.exec([`/var/lib/dpkg/info/proximity.${name}`, ...args]);
    const installed = snapshot();
    await script('postinst', 'configure', pkg.version);
    const once = snapshot();
    await script('postinst', 'configure', pkg.version);
    assert.deepEqual(once, installed, 'configure on an installed package changes nothing');
    assert.deepEqual(snapshot(), once);

    await script('postinst', 'triggered', TEMPLATE);
    await script('postinst', 'triggered', TEMPLATE);
    assert.deepEqual(snapshot(), installed);

    await script('prerm', 'remove');
    const removed = snapshot();
    assert.equal(markedLines().length, 0);
    await script('prerm', 'remove');
    assert.deepEqual(snapshot(), removed);
    await script('postrm', 'remove');
    await script('postrm', 'remove');
    assert.deepEqual(snapshot(), removed);
    assert.equal(
      removed.template,
      readFileSync(path.join(import.meta.dirname, 'standin/index.html.tpl'), 'utf8'),
    );

    // Back as installed (abort-remove is what dpkg runs when a removal fails half-way).
    await script('postinst', 'abort-remove');
    await script('postinst', 'abort-remove');
    assert.deepEqual(snapshot(), installed);
  });

  it('a pve-manager upgrade (new template without our line): the trigger puts it back once', async () => {
    const { stdout } = await apt('install', `/tmp/debs/${path.basename(standin.v901)}`);
    assert.match(stdout, /^Processing triggers for proximity \(/m);
    assert.equal((await root.exec(['dpkg-query', '-W', '-f=${Version}', 'pve-manager'])).stdout, '9.0.1');
    assert.match(read(TEMPLATE), /ext-all\.js\?ver=7\.0\.1/, 'the new template is in place');
    assertLineOnce(pkg.version);
    // Reinstalling pve-manager replaces the template again.
    await apt('install', '--reinstall', `/tmp/debs/${path.basename(standin.v901)}`);
    assertLineOnce(pkg.version);
  });

  it('reinstall and upgrade of our package: still once; the token is kept', async () => {
    const token = read(TOKEN_FILE);
    const before = calls().length;
    await apt('install', '--reinstall', `/tmp/debs/${path.basename(pkg.deb)}`);
    assertLineOnce(pkg.version);
    await apt('install', `/tmp/debs/${path.basename(upgraded)}`);
    assert.equal(
      (await root.exec(['dpkg-query', '-W', '-f=${Version}', 'proximity'])).stdout,
      upgradedVersion,
    );
    assertLineOnce(upgradedVersion);
    assert.equal(read(TOKEN_FILE), token);
    assert.equal(calls().length, before, 'no pveum call when the token exists');
  });

  it('apt remove: the line and the program are gone, the configuration, token and data kept', async () => {
    await apt('remove', 'proximity');
    assert.equal(markedLines().length, 0);
    assert.ok(!existsSync(root.path('usr/share/pve-manager/js/proximity.js')));
    assert.ok(!existsSync(root.path('usr/lib/proximity')));
    assert.ok(!existsSync(root.path('usr/bin/proximity')));
    assert.ok(existsSync(root.path('etc/proximity/proximity.json')));
    assert.ok(existsSync(root.path(TOKEN_FILE)));
    assert.ok(existsSync(root.path('var/lib/proximity/proximity.db')), 'the store the service made');
    const status = (await root.exec(['dpkg-query', '-W', '-f=${db:Status-Abbrev}', 'proximity'])).stdout;
    assert.equal(status.trim(), 'rc');
  });

  it('apt purge: configuration, data and token gone, in PVE too; nothing of ours left', async () => {
    await apt('purge', 'proximity');
    assert.equal(calls().at(-1), 'pveum user token remove root@pam proximity');
    assert.equal(markedLines().length, 0);
    const left = await leftovers();
    assert.deepEqual(left, [], `left behind:\n${left.join('\n')}`);
    assert.equal((await root.tryExec(['dpkg-query', '-W', 'proximity'])).code, 1, 'dpkg forgot it');
    assert.doesNotMatch(read('/var/lib/dpkg/triggers/File'), /proximity/);
    // What it found, as evidence: nothing under the places the package uses.
    figure(`after purge, find / -iname '*proximity*': ${left.length} paths`);
  });

  it('installs again after a purge, even with a token of that name left in PVE', async () => {
    // A purge that could not reach PVE leaves the token there without its secret here.
    await root.exec(['pveum', 'user', 'token', 'add', 'root@pam', 'proximity', '--privsep', '0']);
    const before = calls().length;
    await apt('install', `/tmp/debs/${path.basename(pkg.deb)}`);
    assertLineOnce(pkg.version);
    assert.deepEqual(calls().slice(before), [
      'pveum user token add root@pam proximity --privsep 0 --output-format json',
      'pveum user token remove root@pam proximity',
      'pveum user token add root@pam proximity --privsep 0 --output-format json',
    ]);
    assert.equal(mode(TOKEN_FILE), '600');
    assert.equal(read(TOKEN_FILE).trim(), read(STANDIN_TOKEN).trim());
    const service = await startService();
    try {
      assert.equal(service.health.status, 200);
    } finally {
      await root.stop(service.child);
    }
  });
});

/**
 * The same build as a newer version, to upgrade to: unpacked, its version (control file and
 * the package.json the service and the UI line report) bumped, packed again.
 */
async function repack(deb: string, version: string): Promise<string> {
  const dir = path.join(cacheDir, `repack-${version}`);
  const out = path.join(
    cacheDir,
    'repacked',
    path.basename(path.dirname(deb)),
    path.basename(deb).replace(/_[^_]+_/, `_${version}_`),
  );
  if (existsSync(out)) return out;
  await run('rm', ['-rf', dir]);
  await run('dpkg-deb', ['-R', deb, dir]);
  const control = path.join(dir, 'DEBIAN/control');
  writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${version}`));
  const manifest = path.join(dir, 'usr/lib/proximity/package.json');
  const json = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  writeFileSync(manifest, `${JSON.stringify({ ...json, version }, null, 2)}\n`);
  const { stdout } = await run('sh', [
    '-c',
    'cd "$1" && find . -path ./DEBIAN -prune -o -type f -printf "%P\\0" | sort -z | xargs -0 md5sum',
    'sh',
    dir,
  ]);
  writeFileSync(path.join(dir, 'DEBIAN/md5sums'), stdout);
  await run('mkdir', ['-p', path.dirname(out)]);
  await run('dpkg-deb', ['--root-owner-group', '-b', dir, out]);
  await run('rm', ['-rf', dir]);
  return out;
}
