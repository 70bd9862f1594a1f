import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { evictOverLimit, transferStats } from './package-cache.js';
import { defaultNetworkSettings, networkSettingsSchema } from './settings.js';
import { renderAptProxyConf, renderAptProxyDetect, renderPackageCacheConf } from './render/apt-cacher-ng.js';

const goldenDir = path.join(import.meta.dirname, 'render', 'golden');
function assertGolden(name: string, actual: string): void {
  const file = path.join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from its golden file`);
}

describe('package cache', () => {
  it('renders apt-cacher-ng bound to the gateway only, and the containers apt file', () => {
    const conf = renderPackageCacheConf(defaultNetworkSettings);
    assertGolden('apt-cacher-ng.conf', conf);
    assert.match(conf, /^BindAddress: 10\.20\.0\.1$/m);
    assert.doesNotMatch(conf, /PassThroughPattern/);
    assertGolden('apt-proxy.conf', renderAptProxyConf('10.20.0.1'));
    assertGolden('apt-proxy-detect.sh', renderAptProxyDetect('10.20.0.1'));
    assert.throws(() => renderAptProxyDetect('10.20.0.1/x; reboot'));
    assert.throws(() => renderAptProxyConf('10.20.0.1"; Acquire::x "y'));
  });

  it('is on by default and validates its settings', () => {
    assert.deepEqual(defaultNetworkSettings.packageCache, { enabled: true, maxSizeMb: 1024 });
    const off = networkSettingsSchema.parse({ packageCache: { enabled: false } });
    assert.deepEqual(off.packageCache, { enabled: false, maxSizeMb: 1024 });
    for (const bad of [{ maxSizeMb: 10 }, { maxSizeMb: 1.5 }, { enabled: 'no' }, { other: 1 }])
      assert.equal(
        networkSettingsSchema.safeParse({ packageCache: bad }).success,
        false,
        JSON.stringify(bad),
      );
  });

  it('evicts the least recently used packages (with their .head) down to the limit, never indexes', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'acng-'));
    try {
      const put = (rel: string, bytes: number, ageS: number) => {
        const file = path.join(dir, rel);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, Buffer.alloc(bytes));
        const t = Date.now() / 1000 - ageS;
        utimesSync(file, t, t);
      };
      put('debrep/pool/main/o/old.deb', 4000, 3000);
      put('debrep/pool/main/o/old.deb.head', 100, 3000);
      put('debrep/pool/main/m/mid.deb', 4000, 2000);
      put('debrep/pool/main/n/new.deb', 4000, 10);
      put('debrep/dists/trixie/InRelease', 5000, 9000);
      assert.deepEqual(evictOverLimit(dir, 100_000), { files: 0, bytes: 0 });
      const removed = evictOverLimit(dir, 14_000);
      assert.deepEqual(removed, { files: 1, bytes: 4100 });
      assert.equal(existsSync(path.join(dir, 'debrep/pool/main/o/old.deb.head')), false);
      assert.ok(existsSync(path.join(dir, 'debrep/dists/trixie/InRelease')));
      assert.deepEqual(evictOverLimit(dir, 5000), { files: 2, bytes: 8000 });
      assert.deepEqual(evictOverLimit(path.join(dir, 'missing'), 1), { files: 0, bytes: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts hits and misses from the transfer log', () => {
    // As apt-cacher-ng 3.7 wrote it: one .deb fetched (I, then O), asked again (O alone), an index.
    const log = [
      '1796304808|I|53344|127.0.0.1|deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_amd64.deb',
      '1796304808|O|53313|127.0.0.1|deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_amd64.deb',
      '1796304808|O|53313|127.0.0.1|deb.debian.org/debian/pool/main/h/hello/hello_2.10-3_amd64.deb',
      '1796304808|I|151287|127.0.0.1|deb.debian.org/debian/dists/bookworm/InRelease',
      '1796304808|O|151293|127.0.0.1|deb.debian.org/debian/dists/bookworm/InRelease',
      'garbage',
      '',
    ].join('\n');
    const stats = transferStats(log);
    assert.deepEqual(stats.requests, { hits: 1, misses: 2 });
    assert.deepEqual(stats.bytes, { fromCache: 53288, fromInternet: 204631 });
    assert.ok(Math.abs(stats.hitRatio! - 53288 / 257919) < 1e-9);
    assert.equal(transferStats('').hitRatio, null);
  });
});
