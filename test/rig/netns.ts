/**
 * Network namespaces of the rig: create, list, delete, and build argv that runs a program
 * inside one (`ip netns exec NS argv...`, which execs in place: the pid we get is the
 * program's own).
 *
 * `ip netns exec` mounts a fresh /sys for the namespace (so /sys/class/net shows its
 * interfaces), which hides the cgroup hierarchies under /sys/fs/cgroup. LXC needs them to
 * put containers in cgroups (limits, stats), so programs of the node namespace run through
 * `inNodeNetns`, which mounts the hierarchies again in that private mount namespace before
 * exec'ing the program. Nothing of it is visible outside; it ends with the process tree.
 */
import { readFileSync } from 'node:fs';
import { run, runChecked } from './command.js';

/** argv running `argv` in network namespace `netns` (no cgroup mounts: for the WAN side). */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', netns, ...argv];
}

/**
 * argv running `argv` in `netns` with the cgroup hierarchies mounted as in the calling
 * process: what every program of the node namespace (simulator, lxc-*, pct) needs.
 */
export function inNodeNetns(netns: string, argv: readonly string[]): string[] {
  return [
    'ip',
    'netns',
    'exec',
    netns,
    '/bin/sh',
    '-c',
    REMOUNT_CGROUPS,
    'rig-enter',
    ...cgroupMountArgs(),
    '--',
    ...argv,
  ];
}

/**
 * The fixed script behind inNodeNetns. Values arrive as positional parameters, never
 * spliced into the script text: `(dir fstype options)... -- command args...`.
 */
export const REMOUNT_CGROUPS = `set -e
if [ "$1" != "--" ] && [ "$1" != "." ]; then
  mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup_root /sys/fs/cgroup
fi
while [ "$1" != "--" ]; do
  mkdir -p "/sys/fs/cgroup/$1"
  mount -t "$2" -o "$3" cgroup "/sys/fs/cgroup/$1"
  shift 3
done
shift
exec "$@"`;

export interface CgroupMount {
  dir: string; // relative to /sys/fs/cgroup; '.' when /sys/fs/cgroup itself is the (v2) hierarchy
  fstype: 'cgroup' | 'cgroup2';
  options: string; // super options, e.g. "rw,memory" or "rw,nsdelegate"
}

/** The cgroup hierarchies mounted under /sys/fs/cgroup in this process's mount namespace. */
export function cgroupMounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    // "<id> <parent> <maj:min> <root> <mountpoint> <opts> [optional...] - <fstype> <source> <superopts>"
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountpoint = unescapeMountinfo(left.split(' ')[4] ?? '');
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    if (mountpoint === '/sys/fs/cgroup') mounts.push({ dir: '.', fstype, options: superOptions });
    else if (mountpoint.startsWith('/sys/fs/cgroup/'))
      mounts.push({ dir: mountpoint.slice('/sys/fs/cgroup/'.length), fstype, options: superOptions });
  }
  return mounts;
}

function cgroupMountArgs(): string[] {
  return cgroupMounts().flatMap((mount) => [mount.dir, mount.fstype, mount.options]);
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export async function listNetns(): Promise<string[]> {
  const out = await runChecked(['ip', '-j', 'netns', 'list']);
  if (!out.trim()) return [];
  return (JSON.parse(out) as { name: string }[]).map((ns) => ns.name);
}

export async function netnsExists(netns: string): Promise<boolean> {
  return (await listNetns()).includes(netns);
}

export async function addNetns(netns: string): Promise<void> {
  await runChecked(['ip', 'netns', 'add', netns]);
  await runChecked(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
}

/** Pids of every process whose network namespace is `netns` (empty if it does not exist). */
export async function netnsPids(netns: string): Promise<number[]> {
  const result = await run(['ip', 'netns', 'pids', netns]);
  if (result.code !== 0) return [];
  return result.stdout
    .split('\n')
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}

export async function deleteNetns(netns: string): Promise<void> {
  if (await netnsExists(netns)) await runChecked(['ip', 'netns', 'delete', netns]);
}

/** Waits until a TCP or UDP socket listens on `port` (of `address`, if given) inside `netns` (checked with `ss`, no traffic). */
export async function waitForListener(
  netns: string,
  protocol: 'tcp' | 'udp',
  port: number,
  timeoutMs = 5000,
  address?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const flag = protocol === 'tcp' ? '-Hltn' : '-Hlun';
  const filter = address === undefined ? ['sport', '=', `:${port}`] : ['src', `${address}:${port}`];
  for (;;) {
    const result = await run(inNetns(netns, ['ss', flag, ...filter]));
    if (result.code === 0 && result.stdout.trim()) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${protocol} port ${port} in ${netns}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
