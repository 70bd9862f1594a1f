/**
 * The appliance's package cache on real Debian: apt-cacher-ng installed in the appliance
 * (made from the plain Debian 13 template), listening on the gateway only; a second deploy of
 * nginx gets its packages from the cache (hits rise, the rig's internet sees no second
 * download of them); the cache survives `pct reboot` of the appliance; with the cache off a
 * new container's apt has no proxy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/src/core/logger.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import type { PackageCacheStatus } from '../../server/src/modules/network/package-cache.js';
import { RIG_DEBIAN_TEMPLATE } from '../rig/pve-sim/config.js';
import { getByName, settledTask, tearDownApps } from './apps-support.js';
import {
  APPLIANCE_VMID,
  apiClient,
  eventually,
  lanBackendConfig,
  startLanContainer,
  waitForAddress,
} from './lan.js';
import { currentRig } from './support.js';

const rig = currentRig();
const CLIENT = 4701;
const PROXY_FILE = '/etc/apt/apt.conf.d/00proximity-package-cache';
const DETECT = '/usr/local/lib/proximity/apt-proxy-detect';
/** web1, deployed while the cache was on: its apt must not break when the cache goes off. */
let firstVmid: number;
const { config, hostDir, interfacesDir } = lanBackendConfig({
  reconcileIntervalMs: 5000,
  appliance: { template: `local:vztmpl/${RIG_DEBIAN_TEMPLATE}`, diskGb: 3, memoryMb: 512 },
});
config.apps.catalogDirs = [path.resolve('catalog')];
config.apps.healthIntervalMs = 2000;
const pve = new PveService(config, createLogger('silent'));
let service: RunningService;
let api: ReturnType<typeof apiClient>;
const figures: string[] = [];

const inCt = (vmid: number, argv: string[], timeoutMs = 120_000) =>
  rig.execInNode(['pct', 'exec', String(vmid), '--', ...argv], { timeoutMs });

async function cacheStatus(): Promise<PackageCacheStatus> {
  const status = await api<{ packageCache: PackageCacheStatus }>('GET', '/system/network/status');
  assert.equal(status.status, 200, JSON.stringify(status.error));
  return status.data.packageCache;
}

/**
 * Requests for nginx's .deb files the rig's internet saw (whatever its own cache did), from
 * the archive or the security archive (pool/updates/: trixie's nginx has security updates).
 */
function internetNginxFetches(): number {
  const log = readFileSync(path.join(rig.paths.logDir, 'internet.log'), 'utf8');
  return log.split('\n').filter((line) => / \/\S*\/pool\/(updates\/)?main\/n\/nginx\/\S+\.deb /.test(line))
    .length;
}

async function deploy(hostname: string): Promise<{ vmid: number; seconds: number }> {
  const started = Date.now();
  const answer = await api<{ taskId: string }>('POST', '/apps', { catalogId: 'nginx', hostname });
  assert.equal(answer.status, 202, JSON.stringify(answer.error));
  const task = await settledTask(api, answer.data.taskId, 900_000);
  assert.equal(task.state, 'succeeded', `${task.error} ${JSON.stringify(task.steps)}`);
  const seconds = (Date.now() - started) / 1000;
  const app = (await api<{ hostname: string; vmid: number }[]>('GET', '/apps')).data.find(
    (candidate) => candidate.hostname === hostname,
  );
  assert.ok(app?.vmid);
  const page = await getByName(CLIENT, hostname);
  assert.equal(page.code, 200, page.body);
  return { vmid: app.vmid, seconds };
}

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
  api = apiClient(service.url);
});

after(async () => {
  console.log(`# figures (package cache)\n${figures.map((line) => `#   ${line}`).join('\n')}`);
  await tearDownApps({
    pve,
    stopService: async () => service?.stop(),
    vmids: [CLIENT, APPLIANCE_VMID],
    hostDir,
    interfacesDir,
  });
});

describe('the package cache on the appliance', () => {
  it('is installed with the appliance, on by default, and listens on the gateway only', async () => {
    const init = await api<{ health: string; reasons: string[] }>('POST', '/system/network/initialize');
    assert.equal(init.status, 200, JSON.stringify(init.error));
    assert.equal(init.data.health, 'healthy', init.data.reasons.join('; '));
    const cache = await cacheStatus();
    assert.equal(cache.enabled, true);
    assert.equal(cache.running, true);
    assert.equal(cache.url, 'http://10.20.0.1:3142');
    const listening = await inCt(APPLIANCE_VMID, ['ss', '-Hltn', 'sport = :3142']);
    assert.equal(listening.code, 0, listening.stderr);
    const addresses = listening.stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[3]);
    assert.deepEqual(addresses, ['10.20.0.1:3142'], 'never on the uplink (eth0) or a wildcard');
    await startLanContainer(pve, { vmid: CLIENT, hostname: 'client' });
    assert.ok(await waitForAddress(CLIENT, 20_000), 'the client got no address');
  });

  it('serves a second deploy of the same app from the cache', async () => {
    const fetchesBefore = internetNginxFetches();
    const first = await deploy('web1');
    figures.push(`deploy nginx, cache cold: ${first.seconds.toFixed(1)} s`);
    const proxyFile = await inCt(first.vmid, ['cat', PROXY_FILE]);
    assert.equal(proxyFile.code, 0, 'the deploy gave apt the proxy');
    assert.match(proxyFile.stdout, new RegExp(`^Acquire::http::Proxy-Auto-Detect "${DETECT}";$`, 'm'));
    const detected = await inCt(first.vmid, [DETECT]);
    assert.equal(detected.stdout.trim(), 'http://10.20.0.1:3142', 'the cache answers: apt uses it');
    firstVmid = first.vmid;
    const fetchesAfterFirst = internetNginxFetches();
    assert.ok(fetchesAfterFirst > fetchesBefore, 'the first deploy fetched nginx from the internet');
    const afterFirst = await cacheStatus();
    assert.ok(afterFirst.requests && afterFirst.requests.misses > 0, JSON.stringify(afterFirst));
    assert.ok((afterFirst.sizeBytes ?? 0) > 100_000, `cache size ${afterFirst.sizeBytes}`);

    const second = await deploy('web2');
    figures.push(`deploy nginx, cache warm: ${second.seconds.toFixed(1)} s`);
    const afterSecond = await cacheStatus();
    figures.push(
      `after two deploys: ${JSON.stringify({ ...afterSecond.requests, hitRatio: afterSecond.hitRatio, sizeBytes: afterSecond.sizeBytes })}`,
    );
    assert.equal(internetNginxFetches(), fetchesAfterFirst, 'no second download of nginx from the internet');
    assert.ok(afterSecond.requests!.hits > afterFirst.requests!.hits, 'the hit count rose');
    assert.ok((afterSecond.hitRatio ?? 0) > (afterFirst.hitRatio ?? 0));
  });

  it('keeps the cache across a reboot of the appliance', async () => {
    const before = await cacheStatus();
    const reboot = await rig.execInNode(['pct', 'reboot', String(APPLIANCE_VMID)], { timeoutMs: 300_000 });
    assert.equal(reboot.code, 0, reboot.stderr);
    const { value: after } = await eventually('the cache after the reboot', 120_000, async () => {
      const status = await cacheStatus().catch(() => undefined);
      return status?.running ? status : undefined;
    });
    assert.ok(
      (after.sizeBytes ?? 0) >= (before.sizeBytes ?? 0) * 0.9,
      `${before.sizeBytes} → ${after.sizeBytes}`,
    );
    const enabled = await inCt(APPLIANCE_VMID, ['systemctl', 'is-enabled', 'apt-cacher-ng.service']);
    assert.equal(enabled.stdout.trim(), 'enabled');
  });

  it('turned off: stopped, and a new container gets no proxy', async () => {
    const put = await api('PUT', '/network/settings', { packageCache: { enabled: false } });
    assert.equal(put.status, 200, JSON.stringify(put.error));
    const cache = await cacheStatus();
    assert.equal(cache.enabled, false);
    assert.equal(cache.running, false);
    const active = await inCt(APPLIANCE_VMID, ['systemctl', 'is-active', 'apt-cacher-ng.service']);
    assert.notEqual(active.stdout.trim(), 'active');
    const third = await deploy('web3');
    figures.push(`deploy nginx, cache off: ${third.seconds.toFixed(1)} s`);
    assert.notEqual((await inCt(third.vmid, ['test', '-e', PROXY_FILE])).code, 0, 'no proxy file');
    const dump = await inCt(third.vmid, ['apt-config', 'dump', 'Acquire::http::Proxy']);
    assert.doesNotMatch(dump.stdout, /3142/);
    // The app made while the cache was on asks the cache, finds it gone, and goes direct.
    const detected = await inCt(firstVmid, [DETECT]);
    assert.equal(detected.stdout.trim(), 'DIRECT', 'an older app does not wait on a cache that is off');
    const update = await inCt(firstVmid, ['apt-get', 'update'], 300_000);
    assert.equal(update.code, 0, `apt in the older app after the cache went off: ${update.stderr}`);
  });
});
