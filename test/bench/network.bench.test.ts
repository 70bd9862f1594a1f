/**
 * Benchmark (issue "proximity-lan and the network appliance"), run on the rig with the real
 * dnsmasq, by the node suite. It prints its figures; the only assertions are the ones that
 * say the measured path is the one we claim (names added without restarting dnsmasq).
 *
 *   lease-to-DNS: a new container's start → address in the pool → its name answers.
 *                 Reference: the 2 s for the lease.
 *   500 names:    one API call → the last name answers, dnsmasq's pid unchanged (hostsdir,
 *                 inotify). Reference, same run: what a restart of dnsmasq (the way a conf
 *                 rewrite applies) costs, as the time DNS does not answer.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/src/core/logger.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import {
  apiClient,
  dig,
  eventually,
  lanBackendConfig,
  startLanContainer,
  tearDownLan,
  waitForAddress,
} from '../node/lan.js';
import { benchFigures } from './figures.js';

const VMIDS = [4301, 4302, 4303, 4304];
const { config, hostDir, interfacesDir } = lanBackendConfig({ reconcileIntervalMs: 60_000 });
const pve = new PveService(config, createLogger('silent'));
let service: RunningService;
let api: ReturnType<typeof apiClient>;

const { report, summary } = benchFigures('network benchmark');

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
  api = apiClient(service.url);
  assert.equal((await api('PUT', '/network/settings', { placement: 'host' })).status, 200);
  const init = await api<{ health: string }>('POST', '/system/network/initialize');
  assert.equal(init.data.health, 'healthy');
  // The client for the DNS queries: a container on the LAN.
  await startLanContainer(pve, { vmid: VMIDS[0]!, hostname: 'bench-client' });
  assert.ok(await waitForAddress(VMIDS[0]!, 5000));
});

after(async () => {
  summary();
  if (process.env.BENCH_DEBUG) {
    console.log(readdirSync(hostDir, { recursive: true }));
    for (const f of ['dnsmasq.log', 'dnsmasq.leases', 'dnsmasq.pid'])
      console.log(
        f,
        existsSync(path.join(hostDir, f))
          ? readFileSync(path.join(hostDir, f), 'utf8').slice(-5000)
          : 'MISSING',
      );
  }
  await tearDownLan({ pve, stopService: async () => service?.stop(), vmids: VMIDS, hostDir, interfacesDir });
});

const pid = async () => (await api<{ dhcp: { pid: number } }>('GET', '/system/network/status')).data.dhcp.pid;

describe('network benchmark', () => {
  it('lease-to-DNS time for new containers', async () => {
    const leases: number[] = [];
    const names: number[] = [];
    for (const [index, vmid] of VMIDS.slice(1).entries()) {
      const hostname = `bench-${index}`;
      await startLanContainer(pve, { vmid, hostname });
      const started = Date.now();
      const ip = await waitForAddress(vmid, 10_000);
      assert.ok(ip, `${hostname} got no lease`);
      leases.push(Date.now() - started);
      await eventually(`${hostname}.prox.local answers`, 10_000, async () =>
        (await dig(VMIDS[0]!, `${hostname}.prox.local`)) === ip ? true : undefined,
      );
      names.push(Date.now() - started);
    }
    report(
      `lease (container started → address in the pool): ${leases.join(', ')} ms (reference: under 2000 ms)`,
    );
    report(`lease-to-DNS (container started → name answers): ${names.join(', ')} ms`);
  });

  it('adding 500 names: one call, no restart; compared with what a restart costs', async () => {
    const before = await pid();
    const names = Array.from({ length: 500 }, (_, i) => ({
      hostname: `name-${i}`,
      ip: `10.20.0.${2 + (i % 98)}`,
    }));
    const started = Date.now();
    const answer = await api<{ applied: boolean }>('POST', '/network/names', { names });
    const callMs = Date.now() - started;
    assert.equal(answer.status, 200);
    assert.equal(answer.data.applied, true);
    const last = await eventually('the 500th name answers', 10_000, async () =>
      (await dig(VMIDS[0]!, 'name-499.prox.local')) === names[499]!.ip ? true : undefined,
    );
    const restarted = (await pid()) !== before;
    assert.equal(restarted, false, 'adding names restarted dnsmasq');
    report(
      `500 names: API call ${callMs} ms, last name answering ${callMs + last.ms} ms after the call began, dnsmasq restarted: ${restarted}`,
    );

    const single: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = Date.now();
      assert.equal((await api('PUT', `/network/names/single-${i}`, { ip: '10.20.0.50' })).status, 200);
      single.push(Date.now() - t);
    }
    report(`one name at a time (with 500 present): ${single.join(', ')} ms per call`);

    // Reference: a settings change rewrites the conf and restarts dnsmasq; measure the gap.
    const restartStarted = Date.now();
    const change = api('PUT', '/network/settings', { placement: 'host', leaseSeconds: 3600 });
    let firstFailure: number | undefined;
    let recovered: number | undefined;
    while (Date.now() - restartStarted < 15_000) {
      const ok = (await dig(VMIDS[0]!, 'name-499.prox.local')) === names[499]!.ip;
      if (!ok && firstFailure === undefined) firstFailure = Date.now();
      if (ok && firstFailure !== undefined) {
        recovered = Date.now();
        break;
      }
      if (ok && (await Promise.race([change.then(() => true), Promise.resolve(false)]))) break;
    }
    const changed = await change;
    assert.equal(changed.status, 200, JSON.stringify(changed.error));
    assert.notEqual(await pid(), before, 'the settings change restarted dnsmasq');
    report(
      firstFailure === undefined
        ? `reference, restart with 500 names: no failed query seen (restart ${Date.now() - restartStarted} ms end to end)`
        : `reference, restart with 500 names: DNS did not answer for ${(recovered ?? Date.now()) - firstFailure} ms`,
    );
  });
});
