/**
 * IpNodeNetwork's iproute2 commands, with the command runner replaced by a recorder (the
 * real `ip` in the node namespace is exercised with the rest of the rig, as root).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IpNodeNetwork } from './node-network.js';

/** Answers `ip -j` queries from a small model of links and addresses; records every argv. */
function recordingRunner(links: { ifname: string; flags: string[]; addresses: string[] }[]) {
  const calls: string[][] = [];
  const run = async (argv: string[]) => {
    calls.push(argv);
    const joined = argv.join(' ');
    if (joined === 'ip -j link show type bridge')
      return JSON.stringify(links.filter((l) => l.ifname.startsWith('vmbr')));
    if (joined === 'ip -j link show') return JSON.stringify(links);
    const addr = /^ip -j -4 addr show dev (\S+)$/.exec(joined);
    if (addr) {
      const link = links.find((l) => l.ifname === addr[1]);
      return JSON.stringify(
        link
          ? [
              {
                ifname: link.ifname,
                addr_info: link.addresses.map((a) => ({
                  family: 'inet',
                  local: a.split('/')[0],
                  prefixlen: Number(a.split('/')[1]),
                })),
              },
            ]
          : [],
      );
    }
    return '';
  };
  return { run, calls };
}

test('listBridges reads bridges, their state and IPv4 address from ip -j', async () => {
  const { run } = recordingRunner([
    { ifname: 'vmbr0', flags: ['BROADCAST', 'UP'], addresses: ['198.51.100.2/24'] },
    { ifname: 'vmbr1', flags: ['BROADCAST'], addresses: [] },
  ]);
  assert.deepEqual(await new IpNodeNetwork(run).listBridges(), [
    { name: 'vmbr0', active: true, cidr: '198.51.100.2/24' },
    { name: 'vmbr1', active: false },
  ]);
});

test('ensureBridge creates a missing bridge, sets exactly its address and ports, and brings it up', async () => {
  const { run, calls } = recordingRunner([{ ifname: 'eth1', flags: [], addresses: [] }]);
  await new IpNodeNetwork(run).ensureBridge({ name: 'vmbr9', cidr: '10.99.0.1/24', ports: ['eth1'] });
  assert.deepEqual(
    calls.filter((argv) => !argv.includes('-j')),
    [
      ['ip', 'link', 'add', 'name', 'vmbr9', 'type', 'bridge'],
      ['ip', 'addr', 'replace', '10.99.0.1/24', 'dev', 'vmbr9'],
      ['ip', 'link', 'set', 'dev', 'eth1', 'master', 'vmbr9'],
      ['ip', 'link', 'set', 'dev', 'eth1', 'up'],
      ['ip', 'link', 'set', 'dev', 'vmbr9', 'up'],
    ],
  );
});

test('ensureBridge on an existing bridge only replaces a changed address', async () => {
  const { run, calls } = recordingRunner([{ ifname: 'vmbr9', flags: ['UP'], addresses: ['10.99.0.1/24'] }]);
  await new IpNodeNetwork(run).ensureBridge({ name: 'vmbr9', cidr: '10.99.0.2/24' });
  assert.deepEqual(
    calls.filter((argv) => !argv.includes('-j')),
    [
      ['ip', 'addr', 'del', '10.99.0.1/24', 'dev', 'vmbr9'],
      ['ip', 'addr', 'replace', '10.99.0.2/24', 'dev', 'vmbr9'],
      ['ip', 'link', 'set', 'dev', 'vmbr9', 'up'],
    ],
  );
});

test('deleteBridge removes an existing bridge and ignores a missing one', async () => {
  const { run, calls } = recordingRunner([{ ifname: 'vmbr9', flags: ['UP'], addresses: [] }]);
  const network = new IpNodeNetwork(run);
  await network.deleteBridge('vmbr9');
  await network.deleteBridge('vmbr8');
  assert.deepEqual(
    calls.filter((argv) => !argv.includes('-j')),
    [['ip', 'link', 'del', 'dev', 'vmbr9']],
  );
});
