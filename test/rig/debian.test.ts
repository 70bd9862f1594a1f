/**
 * Containers from the rig's Debian 13 template, made through the simulator as a deploy
 * makes them (unprivileged, nesting): systemd is PID 1 and reaches `degraded` with only the
 * two units a user namespace cannot have (debian-container.ts), journald works, the id map
 * is PVE's, the guest's own ifupdown gets a lease that carries the hostname, and an enabled
 * service starts at boot and again after `pct reboot`. Privileged (the appliance) works too.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXPECTED_FAILED_UNITS, ID_SHIFT } from './debian-container.js';
import { RIG_DEBIAN_TEMPLATE } from './pve-sim/config.js';
import { startSimulator } from './simulator-process.js';
import { rigForTests, waitFor } from './test-support.js';

const rig = rigForTests('rigt-deb');
const pct = (...args: string[]) => rig().execInNode(['pct', ...args]);
const inCt = (vmid: number, ...argv: string[]) => pct('exec', String(vmid), '--', ...argv);
const template = `local:vztmpl/${RIG_DEBIAN_TEMPLATE}`;

async function systemState(vmid: number): Promise<string> {
  // --wait returns once boot is over (running, degraded, ...).
  const result = await inCt(vmid, 'timeout', '60', 'systemctl', 'is-system-running', '--wait');
  return result.stdout.trim();
}

async function failedUnits(vmid: number): Promise<string[]> {
  const result = await inCt(vmid, 'systemctl', 'list-units', '--failed', '--plain', '--no-legend');
  return result.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0]!)
    .filter(Boolean)
    .sort();
}

describe('containers from the Debian 13 template', () => {
  before(async () => {
    await startSimulator(rig());
  });
  after(async () => {
    for (const vmid of [510, 511]) await rig().runtime.destroy(vmid);
  });

  it('boots systemd unprivileged, with PVE’s id map, a lease with its name, and journald', async () => {
    const create = await pct(
      'create',
      '510',
      template,
      ...['--hostname', 'deb-one', '--memory', '256', '--cores', '1', '--rootfs', 'local-lvm:2'],
      ...['--unprivileged', '1', '--features', 'nesting=1'],
      ...['--net0', 'name=eth0,bridge=vmbr0,ip=dhcp', '--start', '1'],
    );
    assert.equal(create.code, 0, create.stderr);
    assert.match((await pct('config', '510')).stdout, /^unprivileged: 1$/m);

    const state = await systemState(510);
    assert.ok(['running', 'degraded'].includes(state), `systemctl is-system-running: ${state}`);
    const failed = await failedUnits(510);
    assert.ok(
      failed.every((unit) => (EXPECTED_FAILED_UNITS as readonly string[]).includes(unit)),
      `failed units: ${failed.join(', ')}`,
    );
    assert.equal((await inCt(510, 'cat', '/proc/1/comm')).stdout.trim(), 'systemd');
    assert.match((await inCt(510, 'cat', '/proc/self/uid_map')).stdout, /^\s*0\s+100000\s+65536\s*$/);
    const rootfs = path.join(rig().paths.lxcPath, '510', 'rootfs');
    assert.equal(statSync(path.join(rootfs, 'etc/passwd')).uid, ID_SHIFT, 'files shifted as pct create does');

    const lease = await waitFor(
      'a WAN lease for deb-one',
      () =>
        rig()
          .leases()
          .find((l) => l.hostname === 'deb-one'),
      30_000,
    );
    const eth0 = (await rig().runtime.interfaces(510)).find((nic) => nic.name === 'eth0');
    assert.equal(eth0?.inet, `${lease.ip}/24`);
    assert.equal((await inCt(510, 'hostname')).stdout.trim(), 'deb-one');

    // keyctl() is refused (ENOSYS) without the keyctl feature, as PVE's seccomp rules do.
    const keyctl = await inCt(510, 'perl', '-e', 'syscall(250, 0, 0, 0, 0, 0); print $! + 0');
    assert.equal(keyctl.stdout, '38');

    const marker = `rig-journal-${Date.now()}`;
    assert.equal((await inCt(510, 'logger', '-t', 'rigtest', marker)).code, 0);
    const journal = await waitFor('the message in the journal', async () => {
      const result = await inCt(510, 'journalctl', '-t', 'rigtest', '--no-pager', '-o', 'cat');
      return result.stdout.includes(marker) ? result.stdout : undefined;
    });
    assert.match(journal, new RegExp(marker));
  });

  it('starts an enabled service at boot and again after pct reboot', async () => {
    const unit = [
      '[Unit]',
      'Description=rig boot marker',
      '[Service]',
      'Type=oneshot',
      "ExecStart=/bin/sh -c 'echo boot >> /var/lib/rig-boots'",
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
    const write = await rig().execInNode(
      ['pct', 'exec', '510', '--', 'sh', '-c', 'cat > /etc/systemd/system/rig-boot.service'],
      { input: unit },
    );
    assert.equal(write.code, 0, write.stderr);
    assert.equal((await inCt(510, 'systemctl', 'enable', 'rig-boot.service')).code, 0);

    const reboot = await pct('reboot', '510');
    assert.equal(reboot.code, 0, reboot.stderr);
    assert.ok(['running', 'degraded'].includes(await systemState(510)));
    assert.equal((await inCt(510, 'cat', '/var/lib/rig-boots')).stdout, 'boot\n');
    assert.equal((await inCt(510, 'systemctl', 'is-active', 'systemd-journald')).stdout.trim(), 'active');
    await waitFor(
      'the lease again after the reboot',
      async () => (await rig().runtime.interfaces(510)).find((nic) => nic.name === 'eth0')?.inet,
      30_000,
    );
  });

  it('boots privileged too (the appliance is made so), with a static address', async () => {
    const create = await pct(
      'create',
      '511',
      template,
      ...['--hostname', 'deb-two', '--memory', '256', '--rootfs', 'local-lvm:2'],
      ...['--unprivileged', '0', '--features', 'nesting=1'],
      ...['--net0', 'name=eth0,bridge=vmbr0,ip=198.51.100.50/24,gw=198.51.100.1', '--start', '1'],
    );
    assert.equal(create.code, 0, create.stderr);
    const keyctl = await inCt(511, 'perl', '-e', 'syscall(250, 0, 0, 0, 0, 0); print $! + 0');
    assert.notEqual(keyctl.stdout, '38', 'privileged containers keep LXC’s default profile');
    const state = await systemState(511);
    assert.ok(['running', 'degraded'].includes(state), `systemctl is-system-running: ${state}`);
    assert.match((await inCt(511, 'cat', '/proc/self/uid_map')).stdout, /^\s*0\s+0\s+4294967295\s*$/);
    const ping = await inCt(511, 'ping', '-c', '1', '-W', '2', '198.51.100.1');
    assert.equal(ping.code, 0, `static address and gateway from /etc/network/interfaces: ${ping.stdout}`);
  });
});
