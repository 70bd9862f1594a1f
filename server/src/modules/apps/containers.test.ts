import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppContainers, matchesTemplate } from './containers.js';

describe('finding a container template', () => {
  it('matches PVE template file names by OS and version', () => {
    const file = 'debian-13-standard_13.1-2_amd64.tar.zst';
    assert.equal(matchesTemplate(file, { os: 'debian', version: '13' }), true);
    assert.equal(matchesTemplate(file, { os: 'debian', version: '12' }), false);
    assert.equal(matchesTemplate(file, { os: 'ubuntu', version: '13' }), false);
    assert.equal(
      matchesTemplate('ubuntu-24.04-standard_24.04-2_amd64.tar.zst', { os: 'ubuntu', version: '24.04' }),
      true,
    );
    assert.equal(
      matchesTemplate('alpine-3.23-default_20251203_amd64.tar.xz', { os: 'alpine', version: '3.23' }),
      true,
    );
    assert.equal(matchesTemplate('busybox-rig_1.36_amd64.tar.zst', { os: 'busybox', version: '1.36' }), true);
    assert.equal(
      matchesTemplate('busybox-rig_1.37_amd64.tar.zst', { os: 'busybox', version: '1.36' }),
      false,
    );
  });

  it('matches aplinfo entries by their os and version fields, as pveam lists them', () => {
    const busybox = { os: 'busybox', version: '1.36' };
    assert.equal(matchesTemplate('busybox-rig_1.36_amd64.tar.zst', busybox, busybox), true);
    assert.equal(matchesTemplate('x.tar.zst', { os: 'busybox', version: '1.35' }, busybox), false);
    assert.equal(
      matchesTemplate(
        'debian-13-standard_13.1-2_amd64.tar.zst',
        { os: 'debian', version: '13' },
        {
          os: 'debian-13',
          version: '13.1-2',
        },
      ),
      true,
    );
  });
});

describe('telling our containers from others', () => {
  const config = {
    description: 'Proximity app wiki: managed by Proximity, change it there.\nproximity-app: wiki task t-1\n',
    net0: 'name=eth0,bridge=proximity-lan,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth',
  };

  it('destroys only a container whose description names this app (and task)', () => {
    assert.equal(AppContainers.isOurs(config, 'wiki'), true);
    assert.equal(AppContainers.isOurs(config, 'wiki', 't-1'), true);
    assert.equal(AppContainers.isOurs(config, 'wiki', 't-2'), false, 'another deploy of the name');
    assert.equal(AppContainers.isOurs(config, 'wik'), false);
    assert.equal(AppContainers.isOurs({ description: 'my own wiki' }, 'wiki'), false);
    assert.equal(AppContainers.isOurs(undefined, 'wiki'), false);
  });

  it("reads eth0's MAC and bridge from PVE's net0", () => {
    assert.equal(AppContainers.macOf(config), 'bc:24:11:aa:bb:cc');
    assert.equal(AppContainers.bridgeOf(config), 'proximity-lan');
    assert.equal(AppContainers.macOf({ net0: 'name=eth0,bridge=vmbr0,ip=dhcp' }), undefined);
  });
});
