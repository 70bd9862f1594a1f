/**
 * Long-running processes of the rig (dnsmasq, httpd, sshd, the simulator): started
 * detached so they outlive the process that ran `rig up`, identified by pid AND start time
 * so that a pid reused after a crash is never mistaken for ours, and ended by pid only.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ProcessRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot): tells a reused pid apart. */
  startTime: number;
  role: string;
  argv: string[];
  logFile: string;
}

/** Starts argv in its own session with stdout and stderr appended to logFile; resolves with its pid. */
export function spawnDetached(
  argv: readonly string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv | undefined; cwd?: string | undefined },
): Promise<number> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('spawnDetached: empty argv'));
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid!);
      });
    });
  } finally {
    closeSync(log);
  }
}

/** The start time of a live process, or undefined if there is no such process. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: count after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = Number(fields[19]);
  return Number.isFinite(startTime) ? startTime : undefined;
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** True if the recorded process still runs (same pid and start time). */
export function isRecordedAlive(record: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  return isAlive(record.pid) && processStartTime(record.pid) === record.startTime;
}

/**
 * SIGTERM to each pid, SIGKILL to those still alive after `graceMs`. Callers pass only pids
 * they know are theirs (recorded with a matching start time, or inside a namespace of ours).
 */
export async function terminate(pids: readonly number[], graceMs = 1500): Promise<void> {
  const targets = pids.filter(isAlive);
  for (const pid of targets) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (targets.some(isAlive) && Date.now() < deadline) await sleep(25);
  for (const pid of targets.filter(isAlive)) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (targets.some(isAlive) && Date.now() < killDeadline) await sleep(25);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone meanwhile: that is what we wanted.
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
