/**
 * Real figures of the machine the rig runs on, for the node's status and resource entries
 * (PVE reads the same from /proc: pve-manager API2/Nodes.pm status, PVE::ProcFSTools).
 */
import { readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, machine, release, totalmem, uptime, version } from 'node:os';

let lastTimes: { idle: number; total: number } | undefined;

function cpuTimes(): { idle: number; total: number } {
  return cpus().reduce(
    (sum, cpu) => {
      const t = cpu.times;
      return { idle: sum.idle + t.idle, total: sum.total + t.user + t.nice + t.sys + t.idle + t.irq };
    },
    { idle: 0, total: 0 },
  );
}

/** CPU usage (0..1) since the previous call. */
export function cpuUsage(): number {
  const now = cpuTimes();
  const before = lastTimes;
  lastTimes = now;
  if (!before || now.total <= before.total) return 0;
  return Math.max(0, Math.min(1, 1 - (now.idle - before.idle) / (now.total - before.total)));
}

function meminfo(key: string): number {
  try {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface NodeFigures {
  cpu: number;
  maxcpu: number;
  mem: number;
  maxmem: number;
  disk: number;
  maxdisk: number;
  uptime: number;
}

export function nodeFigures(): NodeFigures {
  const root = statfsSync('/');
  return {
    cpu: cpuUsage(),
    maxcpu: cpus().length,
    mem: totalmem() - freemem(),
    maxmem: totalmem(),
    disk: (root.blocks - root.bfree) * root.bsize,
    maxdisk: root.blocks * root.bsize,
    uptime: Math.floor(uptime()),
  };
}

/** GET /nodes/{node}/status */
export function nodeStatus(pveVersion: string): Record<string, unknown> {
  const figures = nodeFigures();
  const root = statfsSync('/');
  const cpuList = cpus();
  const available = meminfo('MemAvailable') || freemem();
  const swapTotal = meminfo('SwapTotal');
  const swapFree = meminfo('SwapFree');
  return {
    cpu: figures.cpu,
    wait: 0,
    idle: 0,
    uptime: figures.uptime,
    loadavg: loadavg().map((value) => value.toFixed(2)),
    kversion: `Linux ${release()} ${version()}`,
    pveversion: pveVersion,
    'current-kernel': { sysname: 'Linux', release: release(), version: version(), machine: machine() },
    'boot-info': { mode: 'efi', secureboot: 0 },
    cpuinfo: {
      cpus: cpuList.length,
      cores: cpuList.length,
      sockets: 1,
      model: cpuList[0]?.model ?? 'unknown',
      mhz: String(cpuList[0]?.speed ?? 0),
      hvm: '1',
      user_hz: 100,
      flags: '',
    },
    memory: { total: totalmem(), used: totalmem() - available, free: available, available },
    swap: { total: swapTotal, used: swapTotal - swapFree, free: swapFree },
    rootfs: {
      total: root.blocks * root.bsize,
      used: (root.blocks - root.bfree) * root.bsize,
      free: root.bfree * root.bsize,
      avail: root.bavail * root.bsize,
    },
    ksm: { shared: 0 },
  };
}
