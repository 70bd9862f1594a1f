/**
 * Benchmark (issue "Apps"): deploys and the app list, on the rig.
 *
 *   ours:      POST /api/v1/apps of the rig test app → first 200 at http://<name>.prox.local
 *              from a LAN container; median of 10 (each deleted after).
 *   reference: the same app made by hand in the same run, the way the seed scripts did it:
 *              PVE API create + start, wait for the address, `pct exec` the install steps,
 *              POST /routes, first 200. The difference is what the task machinery costs
 *              (persisted steps, checks before acting, the health step).
 *   also:      GET /api/v1/apps latency with 1,000 apps in the store, against the one PVE
 *              call it makes (GET /cluster/resources) and against the list with 10 apps.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../server/src/core/logger.js';
import { AppRepository } from '../../server/src/modules/apps/repository.js';
import type { AppSpec } from '../../server/src/modules/apps/app.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import {
  apiClient,
  APPLIANCE_VMID,
  lanBackendConfig,
  startLanContainer,
  waitForAddress,
} from '../node/lan.js';
import { getByName, rigHelloManifest, settledTask, tearDownApps } from '../node/apps-support.js';
import { nodeName, rigTemplate } from '../node/support.js';
import { benchFigures, median } from './figures.js';

const CLIENT = 4701;
const RUNS = 10;
const { config, hostDir, interfacesDir } = lanBackendConfig({ reconcileIntervalMs: 5000 });
const pve = new PveService(config, createLogger('silent'));
let service: RunningService;
let api: ReturnType<typeof apiClient>;
const { report, summary } = benchFigures('deploy benchmark');

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

/** Polls the name from the client container every 100 ms; returns when it answers 200. */
async function firstOk(name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await getByName(CLIENT, name).catch(() => ({ code: 0 }))).code !== 200) {
    if (Date.now() > deadline) throw new Error(`${name} never answered 200`);
    await sleep(100);
  }
}

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
  api = apiClient(service.url);
  assert.equal((await api('POST', '/system/network/initialize')).status, 200);
  await startLanContainer(pve, { vmid: CLIENT, hostname: 'client' });
  assert.ok(await waitForAddress(CLIENT, 10_000));
});

after(async () => {
  await tearDownApps({
    pve,
    stopService: async () => service?.stop(),
    vmids: [CLIENT, 4790, APPLIANCE_VMID],
    hostDir,
    interfacesDir,
  });
  summary();
});

describe('deploy benchmark', () => {
  it(`request → first 200 through the proxy, median of ${RUNS}, against the manual way`, async () => {
    const ours: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const name = `bench-${run}`;
      const started = performance.now();
      const answer = await api<{ taskId: string }>('POST', '/apps', {
        catalog_id: 'rig-hello',
        hostname: name,
      });
      assert.equal(answer.status, 202, JSON.stringify(answer.error));
      await firstOk(name);
      ours.push(performance.now() - started);
      assert.equal((await settledTask(api, answer.data.taskId)).state, 'succeeded');
      await settledTask(api, (await api<{ taskId: string }>('DELETE', `/apps/${name}`)).data.taskId);
    }

    // The reference: the same container, install and route by hand, no task engine.
    const manifest = rigHelloManifest() as { install: { argv: string[] }[] };
    const manual: number[] = [];
    const lxc = pve.service.api.nodes.$(nodeName).lxc;
    for (let run = 0; run < RUNS; run++) {
      const name = `manual-${run}`;
      const vmid = 4790;
      const started = performance.now();
      const created = await lxc.$post({
        vmid,
        ostemplate: rigTemplate,
        hostname: name,
        net0: 'name=eth0,bridge=proximity-lan,ip=dhcp',
        rootfs: 'local-lvm:1',
        memory: 64,
        cores: 1,
      });
      await pve.service.waitForTask(created);
      await pve.service.waitForTask(await lxc.$(vmid).status.start.$post());
      const ip = await waitForAddress(vmid, 30_000);
      assert.ok(ip);
      for (const step of manifest.install) {
        const result = await pve.pct().exec(vmid, step.argv);
        assert.equal(result.code, 0, result.stderr);
      }
      const route = await api('POST', '/routes', {
        hostnames: [name],
        upstreams: [{ host: ip, port: 8080 }],
      });
      assert.equal(route.status, 201, JSON.stringify(route.error));
      await firstOk(name);
      manual.push(performance.now() - started);
      await api('DELETE', `/routes/${name}`);
      await pve.service.waitForTask(await lxc.$(vmid).status.stop.$post());
      await pve.service.waitForTask(await lxc.$(vmid).$delete());
    }
    report(
      `deploy → first 200: ours median ${median(ours).toFixed(0)} ms (min ${Math.min(...ours).toFixed(0)}, max ${Math.max(...ours).toFixed(0)}); ` +
        `by hand median ${median(manual).toFixed(0)} ms (min ${Math.min(...manual).toFixed(0)}, max ${Math.max(...manual).toFixed(0)}); ` +
        `ours/by hand ${(median(ours) / median(manual)).toFixed(2)}×`,
    );
  });

  it('GET /api/v1/apps with 1,000 apps in the store, against the PVE call it makes', async () => {
    const repository = new AppRepository(service.store.db);
    const spec: AppSpec = {
      catalog: { id: 'rig-hello', name: 'rig-hello', source: 'proximity' },
      template: { os: 'busybox', version: '1.36' },
      resources: { cores: 1, memoryMb: 64, diskGb: 1, unprivileged: true, nesting: false },
      port: { port: 8080, protocol: 'http' },
      healthCheck: { path: '/', expectStatus: 200, timeoutSeconds: 30 },
      install: [],
      env: {},
      secretKeys: [],
      safeCommands: [],
    };
    const insert = (count: number, from: number) => {
      service.store.db.transaction(() => {
        for (let i = from; i < from + count; i++)
          repository.insert({
            hostname: `listed-${i}`,
            catalogId: 'rig-hello',
            node: nodeName,
            vmid: 100_000 + i,
            state: 'ready',
            taskId: null,
            spec,
            ip: `10.20.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`,
            mac: null,
            owner: 'root@pam',
          });
      })();
    };
    const time = async (what: () => Promise<unknown>, samples = 50) => {
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        const started = performance.now();
        await what();
        times.push(performance.now() - started);
      }
      return { median: median(times), p95: percentile(times, 0.95) };
    };
    const list = async () => {
      const answer = await api<unknown[]>('GET', '/apps');
      assert.equal(answer.status, 200);
      return answer.data.length;
    };
    insert(10, 0);
    assert.equal(await list(), 10);
    const ten = await time(list);
    insert(990, 10);
    assert.equal(await list(), 1000);
    const thousand = await time(list);
    const pveCall = await time(() => pve.service.api.cluster.resources.$get({ type: 'vm' }));
    report(
      `GET /apps: 1,000 apps median ${thousand.median.toFixed(1)} ms (p95 ${thousand.p95.toFixed(1)}); ` +
        `10 apps median ${ten.median.toFixed(1)} ms; PVE GET /cluster/resources alone median ${pveCall.median.toFixed(1)} ms`,
    );
    service.store.db.prepare("DELETE FROM apps WHERE hostname LIKE 'listed-%'").run();
  });
});
