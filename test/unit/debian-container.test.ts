/** The rig's Debian container files and LXC config, as PVE writes them (test/rig/debian-container.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  debianLxcConfig,
  renderHosts,
  renderInterfaces,
  seccompExtraRules,
} from '../rig/debian-container.js';

const nets = [
  { index: 0, name: 'eth0', bridge: 'vmbr0', hwaddr: 'BC:24:11:00:00:01', ip: 'dhcp' },
  {
    index: 1,
    name: 'eth1',
    bridge: 'proximity-lan',
    hwaddr: 'BC:24:11:00:00:02',
    ip: '10.20.0.1/24',
    gw: '10.20.0.254',
  },
  { index: 2, name: 'eth2', bridge: 'vmbr1', hwaddr: 'BC:24:11:00:00:03' },
];

describe('Debian container setup (rig)', () => {
  it('writes /etc/network/interfaces for dhcp, static and unconfigured NICs', () => {
    assert.equal(
      renderInterfaces(nets),
      'auto lo\niface lo inet loopback\n\n' +
        'auto eth0\niface eth0 inet dhcp\n\n' +
        'auto eth1\niface eth1 inet static\n\taddress 10.20.0.1/24\n\tgateway 10.20.0.254\n\n' +
        'auto eth2\niface eth2 inet manual\n\n',
    );
  });

  it('puts the name on 127.0.1.1, short name too for a dotted one', () => {
    assert.match(renderHosts('app'), /^127\.0\.1\.1 app$/m);
    assert.match(renderHosts('app.prox.local'), /^127\.0\.1\.1 app\.prox\.local app$/m);
  });

  it('maps ids only for unprivileged containers, and names the host veth as PVE does', () => {
    const spec = { vmid: 105, hostname: 'app', nets, memoryMb: 256, cores: 1 };
    const privileged = debianLxcConfig(spec, '/r');
    const unprivileged = debianLxcConfig({ ...spec, unprivileged: true, features: { nesting: true } }, '/r');
    assert.ok(!privileged.some((line) => line.startsWith('lxc.idmap')));
    assert.deepEqual(
      unprivileged.filter((line) => /idmap|userns|sys:mixed|nesting/.test(line)),
      [
        'lxc.include = /usr/share/lxc/config/debian.userns.conf',
        'lxc.mount.auto = sys:mixed',
        'lxc.include = /usr/share/lxc/config/nesting.conf',
        'lxc.idmap = u 0 100000 65536',
        'lxc.idmap = g 0 100000 65536',
      ],
    );
    assert.ok(unprivileged.includes('lxc.net.1.veth.pair = veth105i1'));
    assert.ok(unprivileged.includes('lxc.net.1.link = proximity-lan'));
  });

  it('adds PVE’s seccomp rules for unprivileged containers, keyctl only without the feature', () => {
    assert.equal(
      seccompExtraRules({}),
      'ioctl errno 1 [1,0x9400,SCMP_CMP_MASKED_EQ,0xff00]\nkeyctl errno 38\nsocket errno 97 [0,38,SCMP_CMP_EQ]\n',
    );
    assert.doesNotMatch(seccompExtraRules({ keyctl: true }), /keyctl/);
  });
});
