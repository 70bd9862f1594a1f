/**
 * LxcRuntime drives real LXC containers plugged into the node's bridges as PVE plugs them,
 * called here from the root namespace (the runtime's `netns` option). Every client in
 * these tests (wget, ping) runs inside a container.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WAN } from './contracts.js';
import { containerSpec, rigForTests, waitFor } from './test-support.js';

const rig = rigForTests('rigt-lxc');

/** 198.51.100.100-199: the WAN's DHCP range. */
function inDhcpRange(cidr: string | undefined): boolean {
  const match = /^198\.51\.100\.(\d+)\/24$/.exec(cidr ?? '');
  return !!match && Number(match[1]) >= 100 && Number(match[1]) <= 199;
}

async function nodeHasLink(name: string): Promise<boolean> {
  return (await rig().execInNode(['ip', 'link', 'show', 'dev', name])).code === 0;
}

describe('LxcRuntime', () => {
  it('makes an unprivileged busybox container as PVE does: root is 100000 on the node', async () => {
    const runtime = rig().runtime;
    const spec = containerSpec(305, { hostname: 'unpriv-ct', memoryMb: 64, unprivileged: true });
    await runtime.create(spec);
    try {
      const rootfs = path.join(rig().paths.lxcPath, '305', 'rootfs');
      assert.equal(statSync(path.join(rootfs, 'bin/busybox')).uid, 100000, 'files shifted into the map');
      await runtime.start(spec);
      assert.match(
        (await runtime.exec(305, ['cat', '/proc/self/uid_map'])).stdout,
        /^\s*0\s+100000\s+65536\s*$/,
      );
      const init = await runtime.initPid(305);
      assert.match(
        readFileSync(`/proc/${init}/status`, 'utf8'),
        /^Uid:\s+100000\s/m,
        'init runs as 100000 on the node',
      );
      assert.equal((await runtime.exec(305, ['id', '-u'])).stdout.trim(), '0', 'and as root inside');
    } finally {
      await runtime.destroy(305);
    }
  });

  it('runs a DHCP container on vmbr0: address, hostname sent, exec, real stats, stop, destroy', async () => {
    const runtime = rig().runtime;
    const hwaddr = 'BC:24:11:30:10:01';
    const spec = containerSpec(301, {
      hostname: 'dhcp-ct',
      memoryMb: 96,
      nets: [{ index: 0, name: 'eth0', bridge: 'vmbr0', hwaddr, ip: 'dhcp' }],
    });
    await runtime.create(spec);
    assert.equal(await runtime.state(301), 'stopped');
    assert.deepEqual(await runtime.list(), [301]);

    await runtime.start(spec);
    assert.equal(await runtime.state(301), 'running');
    assert.ok(await nodeHasLink('veth301i0'), 'the node end is veth<vmid>i<n>');
    const master = await rig().execInNode(['ip', '-j', 'link', 'show', 'dev', 'veth301i0']);
    assert.equal((JSON.parse(master.stdout) as { master?: string }[])[0]?.master, 'vmbr0');

    const eth0 = await waitFor('a DHCP address on eth0', async () =>
      (await runtime.interfaces(301)).find((i) => i.name === 'eth0' && inDhcpRange(i.inet)),
    );
    assert.equal(eth0.hwaddr, hwaddr.toLowerCase());
    const address = eth0.inet!.split('/')[0]!;
    const leaseOf = (ip: string) =>
      rig()
        .leases()
        .find((l) => l.ip === ip);
    const lease = await waitFor('the lease in dnsmasq', () => leaseOf(address));
    assert.equal(lease.hostname, 'dhcp-ct', 'udhcpc sent the hostname');
    assert.equal(lease.mac, hwaddr.toLowerCase());

    assert.equal((await runtime.exec(301, ['cat', '/etc/hostname'])).stdout.trim(), 'dhcp-ct');
    assert.equal((await runtime.exec(301, ['hostname'])).stdout.trim(), 'dhcp-ct');
    assert.match(
      (await runtime.exec(301, ['cat', '/etc/resolv.conf'])).stdout,
      /^nameserver 198\.51\.100\.1$/m,
    );
    assert.equal((await runtime.exec(301, ['sh', '-c', 'exit 3'])).code, 3);
    assert.equal((await runtime.exec(301, ['cat'], { input: 'from stdin' })).stdout, 'from stdin');
    await assert.rejects(
      runtime.exec(301, ['sleep', '5'], { timeoutMs: 300 }),
      /did not finish within 300 ms/,
    );

    const before = await runtime.stats(301);
    const whoami = await runtime.exec(301, ['wget', '-qO-', `http://${WAN.routerAddress}/cgi-bin/whoami`]);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.equal(whoami.stdout.trim(), address, 'the WAN sees the container itself');
    const stats = await runtime.stats(301);
    assert.ok(stats.memoryBytes > 0);
    assert.equal(stats.memoryMaxBytes, 96 * 1024 * 1024, 'the memory limit is applied to the cgroup');
    assert.ok(stats.cpuSeconds > 0);
    assert.ok(stats.netInBytes > before.netInBytes, 'the answer counts as received by the container');
    assert.ok(stats.netOutBytes > before.netOutBytes);
    assert.ok(stats.uptimeSeconds >= 0 && stats.uptimeSeconds < 60);

    await runtime.stop(301);
    assert.equal(await runtime.state(301), 'stopped');
    assert.equal(await runtime.initPid(301), undefined);
    assert.equal(await nodeHasLink('veth301i0'), false);
    await assert.rejects(runtime.exec(301, ['true']), /not running/);

    await runtime.destroy(301);
    assert.equal(await runtime.state(301), 'absent');
    assert.deepEqual(await runtime.list(), []);
    assert.equal(existsSync(path.join(rig().paths.lxcPath, '301')), false);
  });

  it('runs a static-IP container on another bridge of the node', async () => {
    const runtime = rig().runtime;
    for (const argv of [
      ['ip', 'link', 'add', 'testbr0', 'type', 'bridge'],
      ['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'testbr0'],
      ['ip', 'link', 'set', 'dev', 'testbr0', 'up'],
    ]) {
      assert.equal((await rig().execInNode(argv)).code, 0, argv.join(' '));
    }
    const spec = containerSpec(302, {
      nets: [
        {
          index: 0,
          name: 'eth0',
          bridge: 'testbr0',
          hwaddr: 'BC:24:11:30:20:01',
          ip: '10.99.0.5/24',
          gw: '10.99.0.1',
        },
      ],
    });
    await runtime.create(spec);
    await runtime.start(spec);
    const eth0 = (await runtime.interfaces(302)).find((i) => i.name === 'eth0');
    assert.equal(eth0?.inet, '10.99.0.5/24');
    assert.match((await runtime.exec(302, ['ip', 'route'])).stdout, /default via 10\.99\.0\.1/);
    const ping = await runtime.exec(302, ['ping', '-c1', '-W2', '10.99.0.1']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    await runtime.destroy(302);
    assert.equal(await runtime.state(302), 'absent');
    assert.equal(await nodeHasLink('veth302i0'), false);
  });

  it('refuses to start on a bridge that does not exist, and leaves the container stopped', async () => {
    const runtime = rig().runtime;
    const spec = containerSpec(303, {
      nets: [{ index: 0, name: 'eth0', bridge: 'nosuchbr', hwaddr: 'BC:24:11:30:30:01', ip: 'dhcp' }],
    });
    await runtime.create(spec);
    await assert.rejects(runtime.start(spec), /bridge 'nosuchbr' does not exist/);
    assert.equal(await runtime.state(303), 'stopped');
    await runtime.destroy(303);
  });
});
