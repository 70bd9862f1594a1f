/**
 * Reading the cgroup layout from mountinfo: pure v2 (Proxmox VE 9, Debian's default) and
 * the v1 + v2 hybrid of this lab machine need different LXC keys and mounts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupLayout, limitConfigLines } from './cgroup.js';
import { cgroupMounts } from './netns.js';

const PURE_V2 = [
  '22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
].join('\n');

const HYBRID = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

describe('cgroup layout', () => {
  it('finds /sys/fs/cgroup itself as the hierarchy on a pure v2 host and uses cgroup2 keys', () => {
    const mounts = cgroupMounts(PURE_V2);
    assert.deepEqual(mounts, [
      { dir: '.', fstype: 'cgroup2', options: 'rw,nsdelegate,memory_recursiveprot' },
    ]);
    assert.equal(cgroupLayout(mounts), 'v2');
    assert.deepEqual(limitConfigLines(512, 2, 'v2'), [
      'lxc.cgroup2.memory.max = 536870912',
      'lxc.cgroup2.cpu.max = 200000 100000',
    ]);
  });

  it('finds each v1 controller and the unified hierarchy on a hybrid host and uses v1 keys', () => {
    const mounts = cgroupMounts(HYBRID);
    assert.deepEqual(
      mounts.map((m) => `${m.dir} ${m.fstype} ${m.options}`),
      [
        'cpu cgroup rw,cpu',
        'memory cgroup rw,memory',
        'systemd cgroup rw,name=systemd',
        'unified cgroup2 rw',
      ],
    );
    assert.equal(cgroupLayout(mounts), 'hybrid');
    assert.deepEqual(limitConfigLines(128, 1, 'hybrid'), [
      'lxc.cgroup.memory.limit_in_bytes = 134217728',
      'lxc.cgroup.cpu.cfs_period_us = 100000',
      'lxc.cgroup.cpu.cfs_quota_us = 100000',
    ]);
  });
});
