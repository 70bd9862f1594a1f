import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../server/src/core/logger.js';
import { PveError } from '../../server/src/modules/pve/errors.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { WAN } from '../rig/contracts.js';
import { backendConfig, currentRig, login, nodeName, rigTemplate } from './support.js';

const rig = currentRig();
const vmid = 4101;
const config = backendConfig({
  // The node's own sshd stands in for a second cluster node: the same pct, reached over SSH.
  nodes: {
    pve2: {
      host: '127.0.0.1',
      port: 2222,
      username: 'root',
      privateKeyFile: rig.ssh.clientKey,
      hostKeyFingerprint: rig.sshHostKeyFingerprint(),
    },
    impostor: {
      host: '127.0.0.1',
      port: 2222,
      username: 'root',
      privateKeyFile: rig.ssh.clientKey,
      hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
    },
  },
});
const pve = new PveService(config, createLogger('silent'));
after(() => pve.stop());

async function lxcAddress(): Promise<string | undefined> {
  const interfaces = await pve.service.api.nodes.$(nodeName).lxc.$(vmid).interfaces.$get();
  return interfaces.find((i) => i.name === 'eth0')?.inet;
}

describe('the pve client against the rig', () => {
  it('creates, starts, reads the address of, runs commands in, stops and deletes a container', async () => {
    const lxc = pve.service.api.nodes.$(nodeName).lxc;
    const created = await lxc.$post({
      vmid,
      ostemplate: rigTemplate,
      hostname: 'clienttest',
      net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
      // PVE's default storage 'local' holds no container disks on a stock install.
      rootfs: 'local-lvm:1',
      memory: 128,
      cores: 1,
    });
    const log: string[] = [];
    const task = await pve.service.waitForTask(created, {
      timeoutMs: 60_000,
      onLog: (line) => log.push(line),
    });
    assert.equal(task.exitstatus, 'OK');
    assert.ok(log.length > 0, 'the task log streamed');

    await pve.service.waitForTask(await lxc.$(vmid).status.start.$post(), { timeoutMs: 60_000 });
    let address: string | undefined;
    for (let i = 0; i < 50 && !address; i++) {
      address = await lxcAddress();
      if (!address) await sleep(100);
    }
    assert.ok(address, 'eth0 got an address by DHCP');
    const [ip] = address.split('/');
    const wanPrefix = WAN.routerAddress.split('.').slice(0, 3).join('.');
    assert.ok(ip!.startsWith(`${wanPrefix}.`), `address ${address} is on the rig's vmbr0 subnet`);
    assert.ok(
      rig.leases().some((lease) => lease.hostname === 'clienttest'),
      'the WAN DHCP server saw the hostname',
    );

    const local = await pve.pct().exec(vmid, ['hostname']);
    assert.deepEqual([local.code, local.stdout.trim()], [0, 'clienttest']);
    const remote = await pve.pct('pve2').exec(vmid, ['cat', '/etc/hostname']);
    assert.deepEqual([remote.code, remote.stdout.trim()], [0, 'clienttest']);
    await assert.rejects(
      pve.pct('impostor').exec(vmid, ['hostname']),
      /host key SHA256:\S+ does not match the pinned/,
    );

    await pve.service.waitForTask(await lxc.$(vmid).status.stop.$post(), { timeoutMs: 60_000 });
    assert.equal(await pve.pct().status(vmid), 'stopped');
    await pve.service.waitForTask(await lxc.$(vmid).$delete(), { timeoutMs: 60_000 });
    const remaining = await lxc.$get();
    assert.equal(
      remaining.some((ct) => Number(ct.vmid) === vmid),
      false,
    );
    assert.equal(await rig.runtime.state(vmid), 'absent');
  });

  it("keeps PVE's own words when PVE refuses: bad interface name, unknown parameter, missing privilege", async () => {
    const network = pve.service.api.nodes.$(nodeName).network;
    await assert.rejects(network.$post({ iface: 'proximity-lan', type: 'bridge' }), (error: unknown) => {
      assert.ok(error instanceof PveError);
      assert.equal(error.kind, 'validation');
      assert.equal(error.status, 400);
      assert.ok(error.fields?.iface, `fields: ${JSON.stringify(error.fields)}`);
      return true;
    });
    await assert.rejects(
      pve.transport.request(
        'GET',
        `/api2/json/nodes/${nodeName}/lxc`,
        { frobnicate: 1 },
        pve.service.credentials,
      ),
      (error: unknown) =>
        error instanceof PveError && error.kind === 'validation' && 'frobnicate' in (error.fields ?? {}),
    );
    const alice = await login('alice@pve', 'alicepassword');
    const asAlice = pve.as({ kind: 'ticket', ticket: alice.ticket, csrfToken: alice.csrfToken });
    await assert.rejects(
      asAlice.api.nodes
        .$(nodeName)
        .lxc.$post({ vmid: vmid + 1, ostemplate: rigTemplate, hostname: 'nope', memory: 64 }),
      (error: unknown) =>
        error instanceof PveError &&
        error.kind === 'permission' &&
        /Permission check failed/.test(error.message),
    );
  });

  it('reports PVE down with the reason when nothing answers', async () => {
    const offline = new PveService({ ...config, pve: { ...config.pve, port: 9 } }, createLogger('silent'));
    try {
      const status = await offline.status();
      assert.equal(status.health, 'down');
      assert.match(String(status.reasons?.[0]), /unreachable/);
    } finally {
      await offline.stop();
    }
  });
});
