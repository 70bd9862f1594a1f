/**
 * Benchmark (issue 16, Performance): what the appliance's package cache saves a deploy.
 *
 *   cold: POST /api/v1/apps → first 200 through Caddy at http://<name>.prox.local, with
 *         apt-cacher-ng's cache emptied before each deploy;
 *   warm: the same, the cache left as the previous deploy of the same app filled it;
 *   off:  the same with the cache turned off (packageCache.enabled false): apt goes to the
 *         mirror directly, as a node without the cache would.
 * Median of BENCH_RUNS for each app of BENCH_APPS; each app deleted
 * after its run. The rig's internet keeps its own copy of Debian's files on this machine, so
 * "cold" here is a fast mirror: on a real, slower link the cache saves more.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../server/src/core/logger.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import { RIG_DEBIAN_TEMPLATE } from '../rig/pve-sim/config.js';
import { getByName, settledTask, tearDownApps } from '../node/apps-support.js';
import {
  APPLIANCE_VMID,
  apiClient,
  lanBackendConfig,
  startLanContainer,
  waitForAddress,
} from '../node/lan.js';
import { currentRig } from '../node/support.js';
import { benchFigures, median } from './figures.js';

const rig = currentRig();
const CLIENT = 4801;
// In npm test one run of nginx (three deploys, ~2 minutes); the median of 3 over
// nginx, node-red and wordpress: BENCH_RUNS=3 BENCH_APPS=nginx,node-red,wordpress.
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const APPS = (process.env.BENCH_APPS ?? 'nginx').split(',').filter(Boolean);
const { config, hostDir, interfacesDir } = lanBackendConfig({
  reconcileIntervalMs: 5000,
  appliance: { template: `local:vztmpl/${RIG_DEBIAN_TEMPLATE}`, diskGb: 3, memoryMb: 512 },
});
config.apps.catalogDirs = [path.resolve('catalog')];
config.apps.healthIntervalMs = 2000;
const pve = new PveService(config, createLogger('silent'));
let service: RunningService;
let api: ReturnType<typeof apiClient>;
const { report, summary } = benchFigures('package cache benchmark');
let serial = 0;

const inAppliance = (argv: string[]) =>
  rig.execInNode(['pct', 'exec', String(APPLIANCE_VMID), '--', ...argv], { timeoutMs: 120_000 });

async function emptyCache(): Promise<void> {
  const script =
    'systemctl stop apt-cacher-ng && rm -rf /var/cache/apt-cacher-ng/* && systemctl start apt-cacher-ng';
  const result = await inAppliance(['sh', '-c', script]);
  assert.equal(result.code, 0, result.stderr);
}

async function setCache(enabled: boolean): Promise<void> {
  const put = await api('PUT', '/network/settings', { packageCache: { enabled } });
  assert.equal(put.status, 200, JSON.stringify(put.error));
}

/** Deploy → first 200 through Caddy by name from the client container; then delete it. */
async function deployToFirstOk(catalogId: string): Promise<number> {
  const hostname = `b${++serial}-${catalogId}`.slice(0, 30);
  const started = Date.now();
  const answer = await api<{ taskId: string }>('POST', '/apps', { catalogId, hostname });
  assert.equal(answer.status, 202, JSON.stringify(answer.error));
  const task = await settledTask(api, answer.data.taskId, 900_000);
  assert.equal(task.state, 'succeeded', `${task.error} ${JSON.stringify(task.steps)}`);
  while ((await getByName(CLIENT, hostname).catch(() => ({ code: 0 }))).code !== 200) {
    if (Date.now() - started > 900_000) throw new Error(`${hostname} never answered 200`);
    await sleep(100);
  }
  const seconds = (Date.now() - started) / 1000;
  const removal = await api<{ taskId: string }>('DELETE', `/apps/${hostname}`);
  if (removal.status === 202) await settledTask(api, removal.data.taskId, 300_000);
  return seconds;
}

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
  api = apiClient(service.url);
  assert.equal((await api('POST', '/system/network/initialize')).status, 200);
  await startLanContainer(pve, { vmid: CLIENT, hostname: 'client' });
  assert.ok(await waitForAddress(CLIENT, 20_000));
});

after(async () => {
  summary();
  await tearDownApps({
    pve,
    stopService: async () => service?.stop(),
    vmids: [CLIENT, APPLIANCE_VMID],
    hostDir,
    interfacesDir,
  });
});

describe('package cache: deploy → first healthy answer through Caddy', () => {
  for (const app of APPS) {
    it(`${app}: cache cold, warm and off, median of ${RUNS}`, async () => {
      await setCache(true);
      const cold: number[] = [];
      const warm: number[] = [];
      const off: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        await emptyCache();
        cold.push(await deployToFirstOk(app));
        warm.push(await deployToFirstOk(app));
      }
      await setCache(false);
      for (let run = 0; run < RUNS; run++) off.push(await deployToFirstOk(app));
      await setCache(true);
      const [c, w, o] = [median(cold), median(warm), median(off)];
      report(`${app}: cold ${c.toFixed(1)} s [${cold.map((s) => s.toFixed(1)).join(', ')}]`);
      report(`${app}: warm ${w.toFixed(1)} s [${warm.map((s) => s.toFixed(1)).join(', ')}]`);
      report(`${app}: off  ${o.toFixed(1)} s [${off.map((s) => s.toFixed(1)).join(', ')}]`);
      report(`${app}: cold/off ${(c / o).toFixed(2)}x, cold/warm ${(c / w).toFixed(2)}x`);
    });
  }
});
