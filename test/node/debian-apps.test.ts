/**
 * Real apps on real Debian, end to end: the network appliance is made from the plain Debian
 * 13 template and installs dnsmasq, nftables and Caddy with apt through the rig's internet;
 * then the starter catalog's nginx is deployed into an unprivileged Debian 13 container on
 * proximity-lan (apt through the appliance's NAT), answers through Caddy at
 * http://web.prox.local from another container, and again after `pct reboot`; the same
 * container installs a package from the npm registry. Figures are printed for the notes.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/src/core/logger.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
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
const CLIENT = 4601;
const { config, hostDir, interfacesDir } = lanBackendConfig({
  reconcileIntervalMs: 5000,
  // The product's default: PVE's Debian 13 template, nothing preinstalled.
  appliance: { template: `local:vztmpl/${RIG_DEBIAN_TEMPLATE}`, diskGb: 2, memoryMb: 512 },
});
config.apps.catalogDirs = [path.resolve('catalog')];
config.apps.healthIntervalMs = 2000;
const pve = new PveService(config, createLogger('silent'));
let service: RunningService;
let api: ReturnType<typeof apiClient>;
let appVmid: number;
const figures: string[] = [];

const inCt = (vmid: number, argv: string[], timeoutMs = 600_000) =>
  rig.execInNode(['pct', 'exec', String(vmid), '--', ...argv], { timeoutMs });

function figure(what: string, started: number): number {
  const seconds = (Date.now() - started) / 1000;
  figures.push(`${what}: ${seconds.toFixed(1)} s`);
  return seconds;
}

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
  api = apiClient(service.url);
});

after(async () => {
  console.log(`# figures (Debian apps on the rig)\n${figures.map((line) => `#   ${line}`).join('\n')}`);
  await tearDownApps({
    pve,
    stopService: async () => service?.stop(),
    vmids: [CLIENT, APPLIANCE_VMID],
    hostDir,
    interfacesDir,
  });
});

describe('the appliance from the plain Debian 13 template', () => {
  it('installs dnsmasq, nftables and Caddy with apt and becomes healthy', async () => {
    const started = Date.now();
    const init = await api<{ health: string; reasons: string[] }>('POST', '/system/network/initialize');
    assert.equal(init.status, 200, JSON.stringify(init.error));
    figure('appliance provisioning from the plain template (create, boot, apt install)', started);
    assert.equal(init.data.health, 'healthy', init.data.reasons.join('; '));

    const packages = await inCt(APPLIANCE_VMID, [
      'dpkg-query',
      '-W',
      '-f=${Package} ${Status}\\n',
      'dnsmasq-base',
      'nftables',
      'caddy',
    ]);
    assert.equal(packages.code, 0, packages.stderr);
    for (const pkg of ['dnsmasq-base', 'nftables', 'caddy'])
      assert.match(packages.stdout, new RegExp(`^${pkg} install ok installed$`, 'm'), 'installed by apt');
    // Debian's caddy.service would take :80 first: the product disabled it and runs its own.
    const unit = await inCt(APPLIANCE_VMID, ['systemctl', 'is-enabled', 'caddy.service']);
    assert.equal(unit.stdout.trim(), 'disabled');
    assert.equal((await inCt(APPLIANCE_VMID, ['cat', '/proc/1/comm'])).stdout.trim(), 'systemd');

    await startLanContainer(pve, { vmid: CLIENT, hostname: 'client' });
    assert.ok(await waitForAddress(CLIENT, 20_000), 'the client got no address from the appliance');
  });
});

describe('nginx from the starter catalog on Debian 13', () => {
  it('deploys unprivileged, installs nginx with apt through the NAT, and answers at http://web.prox.local', async () => {
    const started = Date.now();
    const answer = await api<{ taskId: string; app: { vmid: number | null } }>('POST', '/apps', {
      catalogId: 'nginx',
      hostname: 'web',
    });
    assert.equal(answer.status, 202, JSON.stringify(answer.error));
    const task = await settledTask(api, answer.data.taskId, 900_000);
    assert.equal(task.state, 'succeeded', `${task.error} ${JSON.stringify(task.steps)}`);
    figure('deploy nginx (create, boot, apt-get install nginx, route, health)', started);

    const app = (await api<{ hostname: string; vmid: number }[]>('GET', '/apps')).data.find(
      (candidate) => candidate.hostname === 'web',
    );
    assert.ok(app?.vmid, 'the app has a container');
    appVmid = app.vmid;
    const ctConfig = await rig.execInNode(['pct', 'config', String(appVmid)]);
    assert.match(ctConfig.stdout, /^unprivileged: 1$/m);
    assert.match((await inCt(appVmid, ['cat', '/proc/self/uid_map'])).stdout, /^\s*0\s+100000\s+65536\s*$/);
    assert.equal((await inCt(appVmid, ['systemctl', 'is-active', 'nginx'])).stdout.trim(), 'active');

    const page = await getByName(CLIENT, 'web');
    assert.equal(page.code, 200, page.body);
    assert.match(page.body, /Welcome to nginx/);
  });

  it('answers again after pct reboot (nginx enabled at boot)', async () => {
    const reboot = await rig.execInNode(['pct', 'reboot', String(appVmid)]);
    assert.equal(reboot.code, 0, reboot.stderr);
    const started = Date.now();
    const { value: page } = await eventually('nginx after the reboot', 120_000, async () => {
      const answer = await getByName(CLIENT, 'web');
      return answer.code === 200 ? answer : undefined;
    });
    figure('pct reboot to first 200 again', started);
    assert.match(page.body, /Welcome to nginx/);
  });

  it('installs a package from the npm registry in the same container', async () => {
    const started = Date.now();
    const node = await inCt(appVmid, [
      'env', 'DEBIAN_FRONTEND=noninteractive',
      'apt-get', 'install', '-y', '--no-install-recommends', 'nodejs', 'npm',
    ]); // prettier-ignore
    assert.equal(node.code, 0, node.stderr.slice(-2000));
    figure('apt-get install nodejs npm', started);
    const npmStarted = Date.now();
    const install = await inCt(appVmid, [
      'sh', '-c', 'mkdir -p /opt/npmtest && cd /opt/npmtest && npm install --no-audit --no-fund is-number@7.0.0',
    ]); // prettier-ignore
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    figure('npm install is-number', npmStarted);
    const required = await inCt(appVmid, [
      'node', '-e', 'console.log(require("/opt/npmtest/node_modules/is-number")(42))',
    ]); // prettier-ignore
    assert.equal(required.stdout.trim(), 'true');
  });
});
