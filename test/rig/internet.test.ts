/**
 * The rig's internet from inside the node (the way a container's traffic arrives, after
 * vmbr0): DNS for the internet names, Debian's mirror and the npm registry through the
 * caching server (a second fetch is a hit), pinned files under their real HTTPS URL, 502 for
 * other names, and nothing left after down. Needs this machine's route to Debian's mirrors
 * and the npm registry, or a warm cache (`${cacheDir}/internet`).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WAN } from './contracts.js';
import { rigCa } from './internet/ca.js';
import { isAlive } from './processes.js';
import { containerSpec, leftovers, rigForTests, waitFor } from './test-support.js';

const rig = rigForTests('rigt-inet');
const ca = rigCa();

/** curl in the node, the name resolved to the internet's address as the WAN's DNS would. */
async function curl(url: string, ...extra: string[]) {
  const { hostname, protocol } = new URL(url);
  const port = protocol === 'https:' ? 443 : 80;
  const marker = '\n@@rig ';
  const result = await rig().execInNode(
    ['curl', '-sS', '--max-time', '60', '--cacert', ca.certFile, '--resolve', `${hostname}:${port}:${WAN.internetAddress}`,
     '-w', `${marker}%{http_code} %header{x-rig-cache} %{size_download}`, ...extra, url],
    { timeoutMs: 90_000 },
  ); // prettier-ignore
  const at = result.stdout.lastIndexOf(marker);
  const [status, cache, size] = (at < 0 ? '' : result.stdout.slice(at + marker.length)).split(' ');
  return {
    ...result,
    body: at < 0 ? '' : result.stdout.slice(0, at),
    status: Number(status),
    cache,
    size: Number(size),
  };
}

async function dig(name: string) {
  const result = await rig().execInNode(['dig', `@${WAN.routerAddress}`, '+time=2', '+tries=1', name, 'A']);
  return {
    status: /status: (\w+)/.exec(result.stdout)?.[1],
    addresses: [...result.stdout.matchAll(new RegExp(`^${name.replace(/\./g, '\\.')}\\.\\s+\\d+\\s+IN\\s+A\\s+(\\S+)`, 'gm'))].map((m) => m[1]),
  }; // prettier-ignore
}

describe("the rig's internet", () => {
  it('answers the internet names with its address, keeps www.internet.test, and NXDOMAIN for the rest', async () => {
    for (const name of [
      'deb.debian.org',
      'security.debian.org',
      'registry.npmjs.org',
      'raw.githubusercontent.com',
    ])
      assert.deepEqual(await dig(name), { status: 'NOERROR', addresses: [WAN.internetAddress] }, name);
    assert.deepEqual(await dig('www.internet.test'), { status: 'NOERROR', addresses: [WAN.routerAddress] });
    assert.equal((await dig('example.com')).status, 'NXDOMAIN');
    assert.equal((await dig('nothing.invalid')).status, 'NXDOMAIN');
  });

  it("fetches Debian's InRelease over http and an npm packument and tarball over https, the second time from the cache", async () => {
    for (const url of [
      'http://deb.debian.org/debian/dists/trixie/InRelease',
      'https://registry.npmjs.org/is-number',
      'https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz',
    ]) {
      const first = await curl(url);
      assert.equal(first.status, 200, `${url}: ${first.stderr}`);
      assert.ok(first.cache === 'miss' || first.cache === 'hit' || first.cache === 'revalidated', url);
      const second = await curl(url);
      assert.equal(second.status, 200);
      assert.equal(second.cache, 'hit', url);
      assert.equal(second.size, first.size);
    }
    assert.match(
      (await curl('http://deb.debian.org/debian/dists/trixie/InRelease')).body,
      /^Origin: Debian$/m,
    );
    const packument = JSON.parse((await curl('https://registry.npmjs.org/is-number')).body) as {
      name: string;
    };
    assert.equal(packument.name, 'is-number');
    const log = readFileSync(path.join(rig().paths.logDir, 'internet.log'), 'utf8');
    assert.match(log, /GET registry\.npmjs\.org \/is-number\/-\/is-number-7\.0\.0\.tgz 200 hit \d+ \d+ms/);
  });

  it('serves a pinned file under its real https URL, 404 for one not pinned, 502 for an unknown name', async () => {
    const url = 'https://raw.githubusercontent.com/community-scripts/ProxmoxVE/main/misc/build.func';
    rig().pinFile(url, '# pinned by the test\n');
    const pinned = await curl(url);
    assert.deepEqual([pinned.status, pinned.cache, pinned.body], [200, 'pinned', '# pinned by the test\n']);
    const absent = await curl(
      'https://raw.githubusercontent.com/community-scripts/ProxmoxVE/main/ct/none.sh',
    );
    assert.equal(absent.status, 404);
    const unknownHttp = await curl('http://example.com/');
    assert.deepEqual(
      [unknownHttp.status, unknownHttp.body],
      [502, "example.com is not reachable from the rig's internet\n"],
    );
    // The certificate names only the internet's names: a client checking it refuses other names.
    assert.notEqual((await curl('https://example.com/')).code, 0);
    assert.equal((await curl('https://example.com/', '-k')).status, 502);
  });

  it('is what a container on vmbr0 reaches, by the DNS server its DHCP lease names', async () => {
    const spec = containerSpec(531, {
      nets: [{ index: 0, name: 'eth0', bridge: 'vmbr0', hwaddr: 'BC:24:11:53:10:00', ip: 'dhcp' }],
    });
    await rig().runtime.create(spec);
    await rig().runtime.start(spec);
    const resolv = await waitFor('a lease with a DNS server', async () => {
      const text = (await rig().runtime.exec(531, ['cat', '/etc/resolv.conf'])).stdout;
      return text.includes('nameserver') ? text : undefined;
    }, 15_000); // prettier-ignore
    assert.match(resolv, new RegExp(`nameserver ${WAN.routerAddress.replace(/\./g, '\\.')}`));
    const release = await rig().runtime.exec(531, ['wget', '-qO-', 'http://deb.debian.org/debian/dists/trixie/Release'], {
      timeoutMs: 90_000,
    }); // prettier-ignore
    assert.equal(release.code, 0, release.stderr);
    assert.match(release.stdout, /^Codename: trixie$/m);
    // busybox wget speaks HTTP/1.0 through an HTTP proxy too: the absolute-form target works.
    const proxied = await rig().runtime.exec(
      531,
      ['env', `http_proxy=http://${WAN.internetAddress}:80`, 'wget', '-qO-', 'http://deb.debian.org/debian/dists/trixie/Release'],
      { timeoutMs: 90_000 },
    ); // prettier-ignore
    assert.match(proxied.stdout, /^Codename: trixie$/m);
    await rig().runtime.destroy(531);
  });

  it('leaves no process, socket or listener after down', async () => {
    const { internet, paths } = rig();
    const pids = rig()
      .state()
      .processes.filter((p) => p.role.startsWith('internet'))
      .map((p) => p.pid);
    assert.equal(pids.length, 2, 'the server and the pipe are recorded');
    assert.ok(existsSync(internet.httpsSocket));
    await rig().down();
    assert.deepEqual(pids.filter(isAlive), []);
    assert.deepEqual(
      await leftovers(rig(), { pids, paths: [internet.httpSocket, internet.httpsSocket] }),
      [],
    );
    assert.equal(existsSync(paths.base), false);
  });
});
