/**
 * proximity-lan on the rig, both placements, with the real programs: the bridge applied by
 * ifreload, dnsmasq handing out leases and answering DNS, nftables NAT, and the appliance
 * as a real container created with pct. One file, run in order: the placements share the
 * bridge and its subnet, so they must never run side by side.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/src/core/logger.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import { run } from '../rig/command.js';
import { WAN } from '../rig/contracts.js';
import {
  apiClient,
  destroyContainer,
  dig,
  eventually,
  lanBackendConfig,
  lanHostDir,
  APPLIANCE_VMID,
  startLanContainer,
  tearDownLan,
  waitForAddress,
} from './lan.js';
import { RIG_DEBIAN_TEMPLATE } from '../rig/pve-sim/config.js';
import { backendConfig, currentRig } from './support.js';

const rig = currentRig();
const APPLIANCE = APPLIANCE_VMID;
const CT = { alpha: 4201, beta: 4202, gamma: 4203, outsider: 4204 } as const;
const RESERVED_MAC = 'BC:24:11:AA:00:02';
/** Fixed, so the file never depends on the order Object.entries gives. */
const containers = Object.values(CT);

// Slow enough that a test sees the broken state, fast enough to repair within 10 s.
// The appliance is made from the plain Debian 13 template, as on a node: provisioning
// installs dnsmasq, nftables and Caddy with apt, and the fault tests run on real systemd.
const { config, hostDir, interfacesDir } = lanBackendConfig({
  reconcileIntervalMs: 3000,
  appliance: { template: `local:vztmpl/${RIG_DEBIAN_TEMPLATE}`, memoryMb: 256, diskGb: 2 },
});
const pve = new PveService(config, createLogger('silent'));
let service: RunningService;
let api: ReturnType<typeof apiClient>;

interface Status {
  health: string;
  reasons: string[];
  placement: string;
  bridge: { exists: boolean; up: boolean; addresses: string[]; ok: boolean; conflict?: string };
  appliance?: { vmid: number; state: string };
  dhcp: { running: boolean; pid: number | null; leaseCount: number };
  nat: { present: boolean; ipForward: boolean };
  fallback: { active: boolean; reason?: string };
}

const status = async () => (await api<Status>('GET', '/system/network/status')).data;

async function waitHealthy(what: string, timeoutMs = 10_000): Promise<{ value: Status; ms: number }> {
  return eventually(what, timeoutMs, async () => {
    const current = await status();
    return current.health === 'healthy' ? current : undefined;
  });
}

/** mtime and content of every file we write, to prove a repeated call touches nothing. */
function snapshot(dir: string): Record<string, number> {
  const result: Record<string, number> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (!/leases|\.log|\.pid$/.test(entry.name)) result[file] = statSync(file).mtimeMs;
    }
  };
  walk(dir);
  return result;
}

/** The container's own wget (busybox), as an app would reach the internet. */
async function fetchFromContainer(vmid: number, url: string) {
  // Not wget -T: BusyBox 1.35's wget crashes with it.
  return rig.runtime.exec(vmid, ['timeout', '5', 'wget', '-q', '-O', '-', url], { timeoutMs: 15_000 });
}

const whoami = `http://${WAN.routerAddress}/cgi-bin/whoami`;

/**
 * The WAN ("the internet") tries to open a connection to a container, with a route to the
 * LAN through `via` as an attacker next door would set; true if it got an answer.
 */
async function wanCanReach(containerIp: string, via: string): Promise<boolean> {
  await rig.execInWan(['ip', 'route', 'replace', '10.20.0.0/24', 'via', via]);
  try {
    const result = await rig.execInWan(['curl', '-s', '-m', '2', `http://${containerIp}:8080/`], {
      timeoutMs: 10_000,
    });
    return result.code === 0;
  } finally {
    await rig.execInWan(['ip', 'route', 'del', '10.20.0.0/24']);
  }
}

/** A killed process is gone only once the kernel has finished with it (or it is a zombie). */
async function processGone(statFile: string): Promise<void> {
  await eventually('the killed process is gone', 5000, async () => {
    try {
      return /^\d+ \(.*\) [ZX]/.test(readFileSync(statFile, 'utf8')) ? true : undefined;
    } catch {
      return true;
    }
  });
}

async function serveHttp(vmid: number): Promise<void> {
  const result = await rig.runtime.exec(vmid, [
    'sh',
    '-c',
    'mkdir -p /srv && echo inside > /srv/index.html && httpd -p 8080 -h /srv',
  ]);
  assert.equal(result.code, 0, result.stderr);
}

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
  api = apiClient(service.url);
});

after(() =>
  tearDownLan({
    pve,
    stopService: async () => service?.stop(),
    vmids: [...containers, APPLIANCE],
    hostDir,
    interfacesDir,
  }),
);

describe('proximity-lan on the node (host placement)', () => {
  let alphaIp: string;

  it('refuses bad settings with the field named, and stores nothing', async () => {
    const overlapping = await api('PUT', '/network/settings', {
      pool: { start: '10.20.0.50', end: '10.20.0.200' },
    });
    assert.equal(overlapping.status, 400);
    assert.ok(overlapping.error?.fields?.pool, JSON.stringify(overlapping.error));
    const outside = await api('PUT', '/network/settings', { gateway: '10.30.0.1' });
    assert.equal(outside.status, 400);
    assert.ok(outside.error?.fields?.gateway);
    const settings = await api<{ pool: { start: string } }>('GET', '/network/settings');
    assert.equal(settings.data.pool.start, '10.20.0.100');
  });

  it('initialises from nothing: bridge with the gateway, dnsmasq, NAT, forwarding', async () => {
    assert.equal((await api('PUT', '/network/settings', { placement: 'host' })).status, 200);
    const before = await status();
    assert.equal(before.health, 'down');
    assert.deepEqual(before.reasons, ['the network is not initialised']);

    const init = await api<Status>('POST', '/system/network/initialize');
    assert.equal(init.status, 200, JSON.stringify(init.error));
    assert.equal(init.data.health, 'healthy', init.data.reasons.join('; '));
    assert.deepEqual(init.data.bridge.addresses, ['10.20.0.1/24']);
    assert.ok(init.data.dhcp.running);
    assert.deepEqual(init.data.nat, { present: true, ipForward: true });
    assert.match(readFileSync(path.join(interfacesDir, 'proximity-lan'), 'utf8'), /^auto proximity-lan$/m);
  });

  it('gives a new container a lease from the pool within 2 s, and its name resolves', async () => {
    await startLanContainer(pve, { vmid: CT.alpha, hostname: 'alpha' });
    const started = Date.now();
    alphaIp = (await waitForAddress(CT.alpha, 10_000))!;
    const leaseMs = Date.now() - started;
    assert.ok(alphaIp, 'alpha got no address');
    const last = Number(alphaIp.split('.')[3]);
    assert.ok(alphaIp.startsWith('10.20.0.') && last >= 100 && last <= 250, `${alphaIp} is outside the pool`);
    assert.ok(leaseMs < 2000, `lease took ${leaseMs} ms`);

    const lease = await eventually('the lease reaches the store', 3000, async () => {
      const leases = (await api<{ mac: string; ip: string; hostname: string }[]>('GET', '/network/leases'))
        .data;
      return leases.find((l) => l.hostname === 'alpha');
    });
    assert.equal(lease.value.ip, alphaIp);
  });

  it('gives a reserved MAC its static address; another container resolves both names', async () => {
    const reserved = await api<{ ip: string; applied: boolean }>('POST', '/network/reservations', {
      mac: RESERVED_MAC,
      hostname: 'beta',
    });
    assert.equal(reserved.status, 201, JSON.stringify(reserved.error));
    assert.equal(reserved.data.ip, '10.20.0.2');
    assert.equal(reserved.data.applied, true);
    await startLanContainer(pve, { vmid: CT.beta, hostname: 'beta', hwaddr: RESERVED_MAC });
    assert.equal(await waitForAddress(CT.beta, 5000), '10.20.0.2');
    assert.equal(await dig(CT.beta, 'alpha.prox.local'), alphaIp);
    assert.equal(await dig(CT.alpha, 'beta.prox.local'), '10.20.0.2');
  });

  it('lets containers reach the WAN through NAT as the node, and nothing reach them from it', async () => {
    const seen = await fetchFromContainer(CT.alpha, whoami);
    assert.equal(seen.code, 0, seen.stderr);
    assert.equal(seen.stdout.trim(), WAN.nodeAddress, 'the WAN server sees the node');
    await serveHttp(CT.alpha);
    // The control: the service answers on the LAN side (the node is on it in this placement).
    assert.equal((await run(['curl', '-s', '-m', '2', `http://${alphaIp}:8080/`])).stdout, 'inside\n');
    assert.equal(
      await wanCanReach(alphaIp, WAN.nodeAddress),
      false,
      'the WAN opened a connection to a container',
    );
  });

  it('does nothing when initialised again: no file rewritten, no restart', async () => {
    const files = { ...snapshot(hostDir), [path.join(interfacesDir, 'proximity-lan')]: 0 };
    files[path.join(interfacesDir, 'proximity-lan')] = statSync(
      path.join(interfacesDir, 'proximity-lan'),
    ).mtimeMs;
    const pid = (await status()).dhcp.pid;
    const again = await api<Status>('POST', '/system/network/initialize');
    assert.equal(again.status, 200);
    assert.equal(again.data.dhcp.pid, pid, 'dnsmasq was restarted');
    const after = { ...snapshot(hostDir) };
    after[path.join(interfacesDir, 'proximity-lan')] = statSync(
      path.join(interfacesDir, 'proximity-lan'),
    ).mtimeMs;
    assert.deepEqual(after, files);
  });

  it('heals a killed dnsmasq, a flushed NAT table and a downed bridge within 10 s', async () => {
    const events = async () =>
      (await api<{ message: string }[]>('GET', '/system/infrastructure/events?limit=50')).data.map(
        (e) => e.message,
      );

    const pid = (await status()).dhcp.pid!;
    process.kill(pid, 'SIGKILL');
    await processGone(`/proc/${pid}/stat`);
    const broken = await status();
    assert.notEqual(broken.health, 'healthy');
    assert.ok(broken.reasons.includes('DHCP/DNS (dnsmasq) is not running'), broken.reasons.join('; '));
    const healed = await waitHealthy('dnsmasq restarted');
    assert.notEqual(healed.value.dhcp.pid, pid);
    assert.ok((await events()).some((m) => /dnsmasq was not running/.test(m)));

    await run(['nft', 'flush', 'table', 'inet', 'proximity']);
    assert.ok((await status()).reasons.includes('the NAT rules are missing'));
    await waitHealthy('NAT restored');

    await run(['ip', 'link', 'set', 'dev', 'proximity-lan', 'down']);
    assert.ok((await status()).reasons.some((r) => /bridge proximity-lan is not as configured/.test(r)));
    await waitHealthy('bridge up again');

    const leases = (await api<{ hostname: string }[]>('GET', '/network/leases')).data.map((l) => l.hostname);
    assert.ok(leases.includes('alpha') && leases.includes('beta'), `leases lost: ${leases.join(', ')}`);
    const reservations = (await api<{ mac: string }[]>('GET', '/network/reservations')).data;
    assert.deepEqual(
      reservations.map((r) => r.mac),
      [RESERVED_MAC.toLowerCase()],
    );
  });

  it('refuses bad names, MACs and addresses with the field named; the files never contain them', async () => {
    const badNames = ['evil\naddress=/x/6.6.6.6', 'a;b', 'with space', 'x'.repeat(64), 'café', '-lead'];
    for (const hostname of badNames) {
      const answer = await api('POST', '/network/reservations', { mac: 'BC:24:11:AA:00:09', hostname });
      assert.equal(answer.status, 400, `accepted ${JSON.stringify(hostname)}`);
      assert.ok(answer.error?.fields?.hostname, JSON.stringify(answer.error));
    }
    for (const mac of ['BC:24:11:AA:00', 'ZZ:24:11:AA:00:01', '01:00:5e:00:00:01']) {
      const answer = await api('POST', '/network/reservations', { mac, hostname: 'okname' });
      assert.equal(answer.status, 400, `accepted ${mac}`);
      assert.ok(answer.error?.fields?.mac);
    }
    for (const ip of ['10.20.0.256', '10.20.0.150', '10.30.0.5']) {
      const answer = await api('POST', '/network/reservations', {
        mac: 'BC:24:11:AA:00:09',
        hostname: 'okname',
        ip,
      });
      assert.equal(answer.status, 400, `accepted ${ip}`);
      assert.ok(answer.error?.fields?.ip);
    }
    const badName = await api('PUT', '/network/names/bad%0Aname', { ip: '10.20.0.1' });
    assert.equal(badName.status, 400);

    const duplicate = await api('POST', '/network/reservations', { mac: RESERVED_MAC, hostname: 'other' });
    assert.equal(duplicate.status, 409);
    assert.ok(duplicate.error?.fields?.mac);
    const takenName = await api('POST', '/network/reservations', {
      mac: 'BC:24:11:AA:00:09',
      hostname: 'beta',
    });
    assert.equal(takenName.status, 409);
    assert.ok(takenName.error?.fields?.hostname);

    const written = readdirSync(hostDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !/\.log$/.test(e.name))
      .map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8'))
      .join('\n');
    for (const bad of [...badNames, 'okname', 'other', '6.6.6.6'])
      assert.ok(!written.includes(bad), `a file holds ${bad}`);
  });

  it('answers 507 when the static range is exhausted', async () => {
    const narrow = await api('PUT', '/network/settings', {
      placement: 'host',
      statics: { start: '10.20.0.2', end: '10.20.0.3' },
    });
    assert.equal(narrow.status, 200, JSON.stringify(narrow.error));
    const third = await api('POST', '/network/reservations', { mac: 'BC:24:11:AA:00:03', hostname: 'third' });
    assert.equal(third.status, 201);
    const full = await api('POST', '/network/reservations', { mac: 'BC:24:11:AA:00:04', hostname: 'fourth' });
    assert.equal(full.status, 507, JSON.stringify(full));
    assert.equal((await api('DELETE', '/network/reservations/BC:24:11:AA:00:03')).status, 200);
    assert.equal((await api('PUT', '/network/settings', { placement: 'host' })).status, 200);
    await waitHealthy('dnsmasq back with the default settings');
  });
});

describe('proximity-lan behind the appliance (appliance placement)', () => {
  let gammaIp: string;
  let applianceWan: string;

  it('moves the services into a new appliance: the node keeps no gateway, dnsmasq or NAT', async () => {
    const moved = await api('PUT', '/network/settings', { placement: 'appliance' });
    assert.equal(moved.status, 200, JSON.stringify(moved.error));
    const current = (await waitHealthy('appliance ready', 60_000)).value;
    assert.deepEqual(current.appliance, { vmid: APPLIANCE, state: 'running' });
    assert.deepEqual(current.bridge.addresses, [], 'the node left the LAN');
    assert.equal((await run(['nft', 'list', 'table', 'inet', 'proximity'])).code, 1, 'NAT left the node');
    const infra = await api<{ appliance: { wanAddress: string } }>('GET', '/system/infrastructure/status');
    applianceWan = infra.data.appliance.wanAddress.split('/')[0]!;
    assert.ok(applianceWan.startsWith('198.51.100.'), applianceWan);
  });

  it('leases, names and NAT through the appliance', async () => {
    await startLanContainer(pve, { vmid: CT.gamma, hostname: 'gamma' });
    const started = Date.now();
    gammaIp = (await waitForAddress(CT.gamma, 10_000))!;
    assert.ok(Date.now() - started < 2000, `lease took ${Date.now() - started} ms`);
    assert.ok(gammaIp.startsWith('10.20.0.'));
    assert.equal(await dig(CT.beta, 'gamma.prox.local'), gammaIp);
    assert.equal(await dig(CT.beta, 'beta.prox.local'), '10.20.0.2', 'reservations moved along');

    const seen = await fetchFromContainer(CT.gamma, whoami);
    assert.equal(seen.stdout.trim(), applianceWan, 'the WAN server sees the appliance');
    await serveHttp(CT.gamma);
    const control = await fetchFromContainer(APPLIANCE, `http://${gammaIp}:8080/`);
    assert.equal(control.stdout, 'inside\n', 'the service answers on the LAN side');
    assert.equal(
      await wanCanReach(gammaIp, applianceWan),
      false,
      'the WAN opened a connection to a container',
    );

    const natTest = await api<{ ok: boolean; output: string; from: string }>(
      'POST',
      '/system/infrastructure/test-nat',
      {
        target: WAN.routerAddress,
        vmid: CT.gamma,
      },
    );
    assert.equal(natTest.status, 200, JSON.stringify(natTest.error));
    assert.equal(natTest.data.ok, true, natTest.data.output);
    const refused = await api('POST', '/system/infrastructure/test-nat', { target: 'x; reboot' });
    assert.equal(refused.status, 400);
    assert.ok(refused.error?.fields?.target);
  });

  it("shows dnsmasq's log, bounded", async () => {
    const logs = await api<{ lines: string[] }>('GET', '/system/infrastructure/appliance/logs?lines=5');
    assert.equal(logs.status, 200, JSON.stringify(logs.error));
    assert.ok(logs.data.lines.length > 0 && logs.data.lines.length <= 5);
    assert.ok(logs.data.lines.some((line) => /dnsmasq/.test(line)));
  });

  it('heals a killed dnsmasq, flushed NAT and a stopped appliance inside 10 s', async () => {
    const pid = (await status()).dhcp.pid!;
    await rig.runtime.exec(APPLIANCE, ['kill', '-9', String(pid)]);
    await processGone(`/proc/${(await rig.runtime.initPid(APPLIANCE))!}/root/proc/${pid}/stat`);
    assert.ok((await status()).reasons.includes('DHCP/DNS (dnsmasq) is not running'));
    await waitHealthy('dnsmasq restarted in the appliance');

    await rig.runtime.exec(APPLIANCE, ['nft', 'flush', 'table', 'inet', 'proximity']);
    assert.ok((await status()).reasons.includes('the NAT rules are missing'));
    await waitHealthy('NAT restored in the appliance');

    await rig.execInNode(['pct', 'stop', String(APPLIANCE)]);
    const stopped = await status();
    assert.equal(stopped.health, 'down');
    assert.ok(stopped.reasons.includes(`appliance CT ${APPLIANCE} is stopped`), stopped.reasons.join('; '));
    const restarted = await waitHealthy('appliance started again');
    console.log(`appliance stopped → healthy again in ${restarted.ms} ms`);
    // The lease survived in the appliance's own file and in our store.
    const leases = (await api<{ hostname: string }[]>('GET', '/network/leases')).data.map((l) => l.hostname);
    assert.ok(leases.includes('gamma'), leases.join(', '));
    assert.equal(await dig(CT.beta, 'gamma.prox.local'), gammaIp);
  });
});

describe('fallback when the appliance cannot be provisioned', () => {
  it('says "fallback" with the reason, and a retry tries again', async () => {
    await service.stop();
    const fallbackConfig = backendConfig({
      network: {
        interfacesDir,
        hostDir: lanHostDir(),
        reconcileIntervalMs: 60_000,
        // A template without dnsmasq, on a node that cannot install it (no network).
        appliance: {
          vmid: 9998,
          template: `local:vztmpl/${(await import('../rig/pve-sim/config.js')).RIG_TEMPLATE}`,
          diskGb: 1,
          memoryMb: 64,
        },
      },
    });
    service = await startService(fallbackConfig, { logger: createLogger('silent'), modules: defaultModules });
    api = apiClient(service.url);
    try {
      const init = await api<Status>('POST', '/system/network/initialize');
      assert.equal(init.status, 200, JSON.stringify(init.error));
      assert.equal(init.data.fallback.active, true);
      assert.match(init.data.fallback.reason!, /dnsmasq-base/);
      assert.ok(
        init.data.reasons.some((r) => /^fallback: containers use vmbr0/.test(r)),
        init.data.reasons.join('; '),
      );
      const retry = await api<Status>('POST', '/system/infrastructure/retry');
      assert.equal(retry.data.fallback.active, true);
    } finally {
      await destroyContainer(pve, 9998);
    }
  });
});

describe('a bridge or subnet that is not ours', () => {
  it('is reported as a conflict and left alone', async () => {
    await run(['ip', 'link', 'add', 'name', 'otherbr', 'type', 'bridge']);
    await run(['ip', 'addr', 'add', '10.20.0.77/24', 'dev', 'otherbr']);
    try {
      const refused = await api('POST', '/system/network/rebuild-bridge');
      assert.equal(refused.status, 409, JSON.stringify(refused));
      assert.match(refused.error!.message, /10\.20\.0\.0\/24 is already in use on otherbr/);
      const current = await status();
      assert.equal(current.health, 'down');
      assert.ok(current.bridge.conflict);
      const addresses = await run(['ip', '-j', 'addr', 'show', 'dev', 'otherbr']);
      assert.match(addresses.stdout, /10\.20\.0\.77/, 'the other bridge was not touched');
    } finally {
      await run(['ip', 'link', 'del', 'dev', 'otherbr']);
    }
  });
});
