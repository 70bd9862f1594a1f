/**
 * Real resource figures of a container from its cgroup, on both layouts: pure cgroup v2
 * (Proxmox VE 9, Debian's default) and the hybrid v1 + v2 layout some hosts (and this lab
 * machine) run. The cgroup is found from the container's init process, so whatever name
 * LXC gave it (lxc.payload.<vmid>, or with a suffix after a clash) does not matter.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import path from 'node:path';
import { cgroupMounts, type CgroupMount } from './netns.js';

export type CgroupLayout = 'v2' | 'hybrid';

/** Pure v2 when /sys/fs/cgroup itself is the v2 hierarchy; LXC's cgroup keys differ by layout. */
export function cgroupLayout(mounts: CgroupMount[] = cgroupMounts()): CgroupLayout {
  return mounts.some((mount) => mount.dir === '.' && mount.fstype === 'cgroup2') ? 'v2' : 'hybrid';
}

/** LXC config lines limiting memory and CPU, in the keys the layout understands. */
export function limitConfigLines(memoryMb: number, cores: number, layout = cgroupLayout()): string[] {
  const memoryBytes = memoryMb * 1024 * 1024;
  const periodUs = 100_000;
  const quotaUs = Math.round(cores * periodUs);
  return layout === 'v2'
    ? [`lxc.cgroup2.memory.max = ${memoryBytes}`, `lxc.cgroup2.cpu.max = ${quotaUs} ${periodUs}`]
    : [
        `lxc.cgroup.memory.limit_in_bytes = ${memoryBytes}`,
        `lxc.cgroup.cpu.cfs_period_us = ${periodUs}`,
        `lxc.cgroup.cpu.cfs_quota_us = ${quotaUs}`,
      ];
}

export interface CgroupFigures {
  cpuSeconds: number;
  memoryBytes: number;
  memoryMaxBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
}

/** Reads the figures of the cgroup `pid` belongs to. Throws if the process has no cgroup of its own. */
export function cgroupFigures(pid: number, mounts: CgroupMount[] = cgroupMounts()): CgroupFigures {
  const dirs = cgroupDirs(pid, mounts);
  const v2 = dirs.get('');
  const cpuSeconds =
    v2 && exists(v2, 'cpu.stat') ? cpuStatSeconds(v2) : cpuacctSeconds(need(dirs, 'cpuacct'));
  const memoryDir = v2 && exists(v2, 'memory.current') ? v2 : undefined;
  const memoryBytes = memoryDir
    ? readNumber(memoryDir, 'memory.current')
    : readNumber(need(dirs, 'memory'), 'memory.usage_in_bytes');
  const limit = memoryDir
    ? readNumber(memoryDir, 'memory.max')
    : readNumber(need(dirs, 'memory'), 'memory.limit_in_bytes');
  const io = v2 && exists(v2, 'io.stat') ? ioStatV2(v2) : blkioV1(need(dirs, 'blkio'));
  return {
    cpuSeconds,
    memoryBytes,
    // "max" (v2) or a page-rounded 2^63 (v1) means unlimited: the host's memory is the bound.
    memoryMaxBytes: Number.isFinite(limit) && limit < totalmem() ? limit : totalmem(),
    diskReadBytes: io.read,
    diskWriteBytes: io.write,
  };
}

/**
 * Maps controller ('' for v2) to the directory of pid's cgroup in it. /proc/<pid>/cgroup
 * lines are `<id>:<controllers>:<path>`; v1 hierarchies are found by their mount options.
 */
export function cgroupDirs(pid: number, mounts: CgroupMount[] = cgroupMounts()): Map<string, string> {
  const dirs = new Map<string, string>();
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  for (const line of lines) {
    const [, controllers = '', found = '/'] = /^(?:\d+):([^:]*):(.*)$/.exec(line) ?? [];
    // systemd as the container's init moves itself into init.scope of the container's cgroup.
    const cgroupPath = found.endsWith('/init.scope') ? path.dirname(found) : found;
    if (cgroupPath === '/') continue; // the root cgroup: not the container's own
    if (controllers === '') {
      const v2 = mounts.find((mount) => mount.fstype === 'cgroup2');
      if (v2) dirs.set('', path.join('/sys/fs/cgroup', v2.dir, cgroupPath));
      continue;
    }
    for (const controller of controllers.split(',')) {
      const mount = mounts.find((m) => m.fstype === 'cgroup' && m.options.split(',').includes(controller));
      if (mount) dirs.set(controller, path.join('/sys/fs/cgroup', mount.dir, cgroupPath));
    }
  }
  if (dirs.size === 0)
    throw new Error(`process ${pid} has no cgroup of its own (started without cgroup mounts?)`);
  return dirs;
}

function need(dirs: Map<string, string>, controller: string): string {
  const dir = dirs.get(controller);
  if (!dir) throw new Error(`no ${controller} cgroup found for the container`);
  return dir;
}

function exists(dir: string, file: string): boolean {
  try {
    readFileSync(path.join(dir, file));
    return true;
  } catch {
    return false;
  }
}

function readNumber(dir: string, file: string): number {
  const text = readFileSync(path.join(dir, file), 'utf8').trim();
  return text === 'max' ? Infinity : Number(text);
}

function cpuStatSeconds(dir: string): number {
  const match = /^usage_usec (\d+)$/m.exec(readFileSync(path.join(dir, 'cpu.stat'), 'utf8'));
  return match ? Number(match[1]) / 1e6 : 0;
}

function cpuacctSeconds(dir: string): number {
  return readNumber(dir, 'cpuacct.usage') / 1e9;
}

/** v2 io.stat: one line per device, `<maj:min> rbytes=N wbytes=N ...`. */
function ioStatV2(dir: string): { read: number; write: number } {
  const text = readFileSync(path.join(dir, 'io.stat'), 'utf8');
  const sum = (key: string) =>
    [...text.matchAll(new RegExp(`\\b${key}=(\\d+)`, 'g'))].reduce((t, m) => t + Number(m[1]), 0);
  return { read: sum('rbytes'), write: sum('wbytes') };
}

/** v1 blkio: `<maj:min> Read N` / `<maj:min> Write N` lines (and a Total). */
function blkioV1(dir: string): { read: number; write: number } {
  const text = readFileSync(path.join(dir, 'blkio.throttle.io_service_bytes'), 'utf8');
  const sum = (op: string) =>
    [...text.matchAll(new RegExp(`^\\S+ ${op} (\\d+)$`, 'gm'))].reduce((t, m) => t + Number(m[1]), 0);
  return { read: sum('Read'), write: sum('Write') };
}
