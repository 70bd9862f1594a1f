/**
 * The appliance template (RIG_APPLIANCE_TEMPLATE): a container made from it through the
 * simulator, as the backend makes its network appliance (`pct create` as root), has the
 * node's dnsmasq, nft and Caddy, runs dnsmasq as its default user and serves DHCP with it,
 * and may change its own firewall and forwarding (privileged, its own network namespace).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APPLIANCE_PROGRAMS } from './contracts.js';
import { RIG_APPLIANCE_TEMPLATE, RIG_TEMPLATE } from './pve-sim/config.js';
import { startSimulator } from './simulator-process.js';
import { rigForTests, waitFor } from './test-support.js';

const rig = rigForTests('rigt-appl');
const pct = (...args: string[]) => rig().execInNode(['pct', ...args]);
const inAppliance = (...argv: string[]) => pct('exec', '420', '--', ...argv);

/** A LAN of its own for the appliance's eth1, like proximity-lan. */
const LAN_BRIDGE = 'appltest';

describe('the appliance template', () => {
  before(async () => {
    await startSimulator(rig());
    for (const argv of [
      ['ip', 'link', 'add', LAN_BRIDGE, 'type', 'bridge'],
      ['ip', 'link', 'set', 'dev', LAN_BRIDGE, 'up'],
    ]) {
      const result = await rig().execInNode(argv);
      assert.equal(result.code, 0, result.stderr);
    }
    // As the backend creates it (server/src/modules/network/appliance.ts).
    const create = await pct(
      'create',
      '420',
      `local:vztmpl/${RIG_APPLIANCE_TEMPLATE}`,
      ...['--hostname', 'appliance', '--memory', '128', '--cores', '1', '--rootfs', 'local-lvm:1'],
      ...['--unprivileged', '0', '--features', 'nesting=1', '--onboot', '1'],
      ...['--net0', 'name=eth0,bridge=vmbr0,ip=dhcp,firewall=0'],
      ...['--net1', `name=eth1,bridge=${LAN_BRIDGE},ip=10.20.9.1/24`],
      ...['--start', '1'],
    );
    assert.equal(create.code, 0, create.stderr);
  });
  after(async () => {
    for (const vmid of [420, 421]) await rig().runtime.destroy(vmid);
  });

  it('has the node’s dnsmasq, dhcp_release, nft and caddy, read-only, and PVE sees a Debian system', async () => {
    const which = await inAppliance('which', 'dnsmasq', 'nft', 'caddy', 'dhcp_release');
    assert.deepEqual(which.stdout.split('\n').filter(Boolean), [...APPLIANCE_PROGRAMS]);
    assert.match((await inAppliance('dnsmasq', '--version')).stdout, /^Dnsmasq version 2\.\d+/);
    assert.match((await inAppliance('nft', '--version')).stdout, /^nftables v1\.\d+/);
    const caddy = await inAppliance('caddy', 'version');
    assert.equal(caddy.code, 0, caddy.stderr);
    assert.match(caddy.stdout, /^v?2\.\d+\.\d+/);

    const write = await inAppliance('sh', '-c', ': >> /usr/sbin/nft');
    assert.notEqual(write.code, 0, 'the host’s programs are mounted read-only');
    assert.match(write.stderr, /Read-only file system/);
    assert.match((await pct('config', '420')).stdout, /^ostype: debian$/m);
  });

  it('runs dnsmasq as its default user (nobody) and serves DHCP on the LAN', async () => {
    const start = await inAppliance(
      'dnsmasq',
      '--interface=eth1',
      '--bind-interfaces',
      '--dhcp-range=10.20.9.100,10.20.9.150,1h',
      '--no-ping',
      '--no-resolv',
      '--pid-file=/tmp/dnsmasq.pid',
    );
    assert.equal(start.code, 0, start.stderr);
    const uid = await inAppliance('sh', '-c', 'grep ^Uid: "/proc/$(cat /tmp/dnsmasq.pid)/status"');
    assert.match(uid.stdout, /^Uid:\s+65534\s+65534\s/, 'dnsmasq dropped root for nobody');

    // A plain busybox container on the LAN gets its address from the appliance's dnsmasq.
    const client = await pct(
      'create',
      '421',
      `local:vztmpl/${RIG_TEMPLATE}`,
      ...['--hostname', 'lan-client', '--memory', '64', '--rootfs', 'local-lvm:1'],
      ...['--net0', `name=eth0,bridge=${LAN_BRIDGE},ip=dhcp`, '--start', '1'],
    );
    assert.equal(client.code, 0, client.stderr);
    const address = await waitFor('a DHCP lease from the appliance', async () => {
      const eth0 = (await rig().runtime.interfaces(421)).find((nic) => nic.name === 'eth0');
      return /^10\.20\.9\.1[0-4]\d\/24$/.test(eth0?.inet ?? '') ? eth0!.inet : undefined;
    });
    // dnsmasq's default lease file, in the dnsmasq user's home as Debian has it.
    const leases = await inAppliance('cat', '/var/lib/misc/dnsmasq.leases');
    assert.match(leases.stdout, new RegExp(` ${address.split('/')[0]!.replace(/\./g, '\\.')} lan-client `));
    assert.notEqual((await pct('exec', '421', '--', 'which', 'dnsmasq')).code, 0, 'busybox has none');
  });

  it('changes its own nftables ruleset and IPv4 forwarding (privileged, own netns)', async () => {
    assert.equal((await inAppliance('nft', 'add', 'table', 'inet', 't')).code, 0);
    const nat = await inAppliance(
      'nft',
      'add chain inet t post { type nat hook postrouting priority 100 ; }',
    );
    assert.equal(nat.code, 0, nat.stderr);
    const masquerade = await inAppliance('nft', 'add rule inet t post oifname eth0 masquerade');
    assert.equal(masquerade.code, 0, masquerade.stderr);
    assert.match((await inAppliance('nft', 'list', 'tables')).stdout, /^table inet t$/m);
    const node = await rig().execInNode(['nft', 'list', 'tables']);
    assert.doesNotMatch(node.stdout, /^table inet t$/m, 'the ruleset is the container’s own');

    const forward = '/proc/sys/net/ipv4/ip_forward';
    assert.equal((await inAppliance('cat', forward)).stdout, '0\n', 'a fresh netns starts with it off');
    const enable = await inAppliance('sh', '-c', `echo 1 > ${forward}`);
    assert.equal(enable.code, 0, enable.stderr);
    assert.equal((await inAppliance('cat', forward)).stdout, '1\n');
    // LXC's proc:mixed, as PVE mounts it: /proc/sys/net writable, the rest of /proc/sys not.
    const kernel = await inAppliance('sh', '-c', 'cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname');
    assert.match(kernel.stderr, /Read-only file system/);
  });
});
