import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { readIfExists } from '../../../core/fs/atomic.js';
import type { ServiceSite } from './site.js';

/**
 * Whether `pid` (as the site sees it) is a live process named `comm`. From
 * /proc/<pid>/stat, not cmdline: an exiting process loses its cmdline before it closes its
 * sockets, and a successor started in that gap cannot bind its ports. For the appliance,
 * /proc is the container's own procfs mount (its pid namespace).
 */
export function isLiveProcess(site: ServiceSite, pid: number, comm: string): boolean {
  try {
    const stat = readFileSync(site.local(`/proc/${pid}/stat`), 'utf8');
    const match = /^\d+ \((.*)\) (\S)/.exec(stat);
    return match?.[1] === comm && match[2] !== 'Z' && match[2] !== 'X';
  } catch {
    return false;
  }
}

/** The pid a daemon's pid file names, if that process is alive and is `comm`. */
export function pidFromFile(site: ServiceSite, pidFile: string, comm: string): number | undefined {
  const text = readIfExists(site.local(pidFile))?.trim();
  if (!text || !/^\d+$/.test(text)) return undefined;
  return isLiveProcess(site, Number(text), comm) ? Number(text) : undefined;
}

/** The last `lines` lines of a log on the site, reading at most 256 KiB of it. */
export function logTail(site: ServiceSite, file: string, lines: number): string[] {
  return readTail(site.local(file), 256 * 1024)
    .split('\n')
    .filter(Boolean)
    .slice(-lines);
}

/** The last maxBytes of a file, from the first whole line on: a big log is never read whole. */
function readTail(file: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } finally {
    closeSync(fd);
  }
}
