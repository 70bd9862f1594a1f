/**
 * Real LXC containers for the rig (Debian's lxc 5, busybox template, privileged), plugged
 * into the node's bridges the way Proxmox VE does it: the container starts with no network
 * (`lxc.net.0.type = empty`), then for each NIC a veth pair `veth<vmid>i<n>` (node side, on
 * the bridge) / `eth<n>` (container side, with the configured MAC) is created straight into
 * the container's network namespace.
 *
 * The runtime normally runs inside the node namespace (the simulator does). Callers in the
 * root namespace (tests, the CLI) pass `netns`: every command then runs through
 * `inNodeNetns`, which also matters for LXC itself: its command sockets are abstract unix
 * sockets, which belong to the network namespace of the container's monitor.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupFigures, limitConfigLines } from './cgroup.js';
import { run, runChecked, type RunOptions } from './command.js';
import { DHCP_START, templateConfigLines, writeContainerFiles } from './container-files.js';
import type {
  ContainerRuntime,
  ContainerSpec,
  ContainerState,
  ContainerStats,
  ExecResult,
  InterfaceInfo,
  NetSpec,
} from './contracts.js';
import {
  debianLxcConfig,
  extractTemplate,
  writeGuestSetup,
  writeSeccompProfile,
} from './debian-container.js';
import { cachedDebianTemplate } from './debian-template.js';
import { idmapConfigLines, shiftTree } from './idmap.js';
import { inNodeNetns } from './netns.js';
import { processStartTime } from './processes.js';

export interface LxcRuntimeOptions {
  /** lxc -P: containers live in <lxcPath>/<vmid>. */
  lxcPath: string;
  /** The node's network namespace, when the caller runs outside it. */
  netns?: string | undefined;
}

export class LxcRuntime implements ContainerRuntime {
  readonly lxcPath: string;
  readonly netns: string | undefined;

  constructor(options: LxcRuntimeOptions) {
    this.lxcPath = options.lxcPath;
    this.netns = options.netns;
  }

  async create(spec: ContainerSpec): Promise<void> {
    checkHostname(spec.hostname);
    if ((await this.state(spec.vmid)) !== 'absent') throw new Error(`CT ${spec.vmid} already exists`);
    mkdirSync(this.lxcPath, { recursive: true });
    if (spec.template === 'debian') return this.createDebian(spec);
    const dir = this.containerDir(spec.vmid);
    // lxc-create would otherwise use /etc/lxc/default.conf (a veth on lxcbr0).
    const baseConfig = path.join(this.lxcPath, `.create-${spec.vmid}.conf`);
    writeFileSync(baseConfig, 'lxc.net.0.type = empty\n');
    try {
      await this.inNode([
        'lxc-create',
        '-P',
        this.lxcPath,
        '-n',
        String(spec.vmid),
        '-t',
        'busybox',
        '-f',
        baseConfig,
      ]);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    } finally {
      rmSync(baseConfig, { force: true });
    }
    const template = spec.template ?? 'busybox';
    writeContainerFiles(path.join(dir, 'rootfs'), spec.hostname, template);
    // The appliance stand-in mounts the node's programs and is always made privileged.
    const unprivileged = spec.unprivileged === true && template === 'busybox';
    if (unprivileged) {
      shiftTree(path.join(dir, 'rootfs'));
      chmodSync(dir, 0o755); // lxc-create makes it 0770: the mapped root must reach its rootfs
    }
    const generated = readFileSync(path.join(dir, 'config'), 'utf8');
    const config = [
      ...generated.split('\n').filter((line) => !/^lxc\.uts\.name\s*=/.test(line)),
      '# Proximity rig',
      `lxc.uts.name = ${spec.hostname}`,
      `lxc.log.file = ${path.join(dir, 'lxc.log')}`,
      'lxc.log.level = WARN',
      ...limitConfigLines(spec.memoryMb, spec.cores),
      ...templateConfigLines(template),
      ...(unprivileged ? ['lxc.include = /usr/share/lxc/config/userns.conf', ...idmapConfigLines()] : []),
      '',
    ];
    writeFileSync(path.join(dir, 'config'), config.join('\n'));
  }

  async start(spec: ContainerSpec): Promise<void> {
    const vmid = spec.vmid;
    const state = await this.state(vmid);
    if (state === 'absent') throw new Error(`CT ${vmid} does not exist`);
    if (state === 'running') throw new Error(`CT ${vmid} already running`);
    const debian = this.debianSpec(vmid);
    if (debian) return this.startDebian({ ...spec, ...debian });
    await this.inNode(['lxc-start', '-P', this.lxcPath, '-n', String(vmid)]);
    try {
      await this.inNode(['lxc-wait', '-P', this.lxcPath, '-n', String(vmid), '-s', 'RUNNING', '-t', '10']);
      const pid = await this.initPid(vmid);
      if (pid === undefined) throw new Error(`CT ${vmid} has no init process after start`);
      // Fails loudly if we were started without the cgroup mounts (plain `ip netns exec`).
      cgroupFigures(pid);
      await this.inNode(['nsenter', '-t', String(pid), '-n', 'ip', 'link', 'set', 'dev', 'lo', 'up']);
      for (const net of spec.nets) await this.plug(vmid, pid, net, spec.hostname);
    } catch (error) {
      await this.stop(vmid, { force: true }).catch(() => {});
      throw error;
    }
  }

  async stop(vmid: number, options: { timeoutSeconds?: number; force?: boolean } = {}): Promise<void> {
    const state = await this.state(vmid);
    if (state === 'absent') throw new Error(`CT ${vmid} does not exist`);
    if (state === 'running') {
      // -t: ask init to halt (busybox init: SIGUSR1, ~2 s), kill after the timeout.
      const how = options.force ? ['-k'] : ['-t', String(options.timeoutSeconds ?? 10)];
      await this.inNode(['lxc-stop', '-P', this.lxcPath, '-n', String(vmid), ...how]);
    }
    // The veths die with the container's network namespace; this only catches leftovers
    // of a start that failed halfway.
    await this.deleteVeths(vmid);
  }

  async destroy(vmid: number): Promise<void> {
    const state = await this.state(vmid);
    if (state === 'absent') return;
    if (state === 'running') await this.stop(vmid, { force: true });
    await this.inNode(['lxc-destroy', '-P', this.lxcPath, '-n', String(vmid), '-f']);
    rmSync(this.containerDir(vmid), { recursive: true, force: true });
    await this.deleteVeths(vmid);
  }

  async state(vmid: number): Promise<ContainerState | 'absent'> {
    if (!existsSync(path.join(this.containerDir(vmid), 'config'))) return 'absent';
    const result = await this.runInNode(['lxc-info', '-P', this.lxcPath, '-n', String(vmid), '-s', '-H']);
    return result.code === 0 && result.stdout.trim() === 'RUNNING' ? 'running' : 'stopped';
  }

  async initPid(vmid: number): Promise<number | undefined> {
    if (!existsSync(path.join(this.containerDir(vmid), 'config'))) return undefined;
    const result = await this.runInNode(['lxc-info', '-P', this.lxcPath, '-n', String(vmid), '-p', '-H']);
    const pid = Number(result.stdout.trim());
    return result.code === 0 && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  async interfaces(vmid: number): Promise<InterfaceInfo[]> {
    const pid = await this.requirePid(vmid);
    const out = await this.inNode(['nsenter', '-t', String(pid), '-n', 'ip', '-j', 'addr', 'show']);
    return (JSON.parse(out) as IpAddrEntry[]).map((entry) => {
      const pick = (family: string) => {
        const addresses = (entry.addr_info ?? []).filter((a) => a.family === family);
        const chosen = addresses.find((a) => a.scope === 'global') ?? addresses[0];
        return chosen && `${chosen.local}/${chosen.prefixlen}`;
      };
      const info: InterfaceInfo = {
        name: entry.ifname,
        hwaddr: (entry.address ?? '00:00:00:00:00:00').toLowerCase(),
      };
      const inet = pick('inet');
      const inet6 = pick('inet6');
      if (inet) info.inet = inet;
      if (inet6) info.inet6 = inet6;
      return info;
    });
  }

  async stats(vmid: number): Promise<ContainerStats> {
    let pid = await this.initPid(vmid);
    if (pid === undefined) {
      if ((await this.state(vmid)) === 'absent') throw new Error(`CT ${vmid} does not exist`);
      return { ...ZERO_STATS };
    }
    let figures;
    try {
      figures = cgroupFigures(pid);
    } catch (error) {
      // A container stopping or starting while it is listed (another app's restart): its init
      // leaves, or is not yet in, its cgroup. PVE lists such a container with zero figures;
      // one that is settled and still has no cgroup is a broken rig and fails loudly.
      await sleep(200);
      const again = await this.initPid(vmid);
      if (again === undefined) return { ...ZERO_STATS };
      try {
        figures = cgroupFigures(again);
      } catch {
        if ((await this.state(vmid)) !== 'running' || again !== pid) return { ...ZERO_STATS };
        throw error;
      }
      pid = again;
    }
    const net = await this.vethCounters(vmid);
    return { ...figures, netInBytes: net.in, netOutBytes: net.out, uptimeSeconds: await uptimeOf(pid) };
  }

  /**
   * Runs argv in the container (lxc-attach, environment cleared). On timeout it rejects at
   * once; lxc-attach is killed, the command itself may run on inside the container.
   */
  async exec(
    vmid: number,
    argv: string[],
    options: { timeoutMs?: number; input?: string } = {},
  ): Promise<ExecResult> {
    if ((await this.state(vmid)) !== 'running') throw new Error(`CT ${vmid} not running`);
    return this.runInNode(
      ['lxc-attach', '-P', this.lxcPath, '-n', String(vmid), '--clear-env', '--', ...argv],
      {
        input: options.input,
        timeoutMs: options.timeoutMs,
      },
    );
  }

  async list(): Promise<number[]> {
    let names: string[];
    try {
      names = readdirSync(this.lxcPath);
    } catch {
      return [];
    }
    return names
      .filter((name) => /^\d+$/.test(name) && existsSync(path.join(this.lxcPath, name, 'config')))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** The template and id map a Debian container was created with; undefined for busybox ones. */
  private debianSpec(vmid: number): Pick<ContainerSpec, 'unprivileged' | 'features'> | undefined {
    try {
      const saved = JSON.parse(
        readFileSync(path.join(this.containerDir(vmid), DEBIAN_MARKER), 'utf8'),
      ) as Pick<ContainerSpec, 'unprivileged' | 'features'>;
      return { unprivileged: saved.unprivileged === true, features: saved.features ?? {} };
    } catch {
      return undefined;
    }
  }

  private async createDebian(spec: ContainerSpec): Promise<void> {
    const dir = this.containerDir(spec.vmid);
    const archive = cachedDebianTemplate();
    if (!archive)
      throw new Error(
        "the rig's Debian template is not built (node --import tsx test/rig/debian-template.ts)",
      );
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    try {
      await extractTemplate(archive, path.join(dir, 'rootfs'), spec.unprivileged === true);
      writeFileSync(
        path.join(dir, DEBIAN_MARKER),
        JSON.stringify({ unprivileged: spec.unprivileged === true, features: spec.features ?? {} }),
      );
      this.writeDebianConfig(spec);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** PVE regenerates the LXC config and the guest's network files before every start. */
  private writeDebianConfig(spec: ContainerSpec): void {
    const dir = this.containerDir(spec.vmid);
    const seccomp = spec.unprivileged ? writeSeccompProfile(dir, spec.features) : undefined;
    const config = [
      ...debianLxcConfig(spec, path.join(dir, 'rootfs'), seccomp),
      '# Proximity rig',
      `lxc.log.file = ${path.join(dir, 'lxc.log')}`,
      'lxc.log.level = WARN',
      ...limitConfigLines(spec.memoryMb, spec.cores),
      '',
    ];
    writeFileSync(path.join(dir, 'config'), config.join('\n'));
    writeGuestSetup(path.join(dir, 'rootfs'), spec);
  }

  private async startDebian(spec: ContainerSpec): Promise<void> {
    const vmid = spec.vmid;
    checkHostname(spec.hostname);
    for (const net of spec.nets) await this.requireBridge(net.bridge);
    this.writeDebianConfig(spec);
    await this.inNode(['lxc-start', '-P', this.lxcPath, '-n', String(vmid)]);
    try {
      await this.inNode(['lxc-wait', '-P', this.lxcPath, '-n', String(vmid), '-s', 'RUNNING', '-t', '10']);
      const pid = await this.initPid(vmid);
      if (pid === undefined) throw new Error(`CT ${vmid} has no init process after start`);
      cgroupFigures(pid);
    } catch (error) {
      await this.stop(vmid, { force: true }).catch(() => {});
      throw error;
    }
  }

  /** The host-side name PVE gives NIC `index` of container `vmid`. */
  static vethName(vmid: number, index: number): string {
    return `veth${vmid}i${index}`;
  }

  private async plug(vmid: number, pid: number, net: NetSpec, hostname: string): Promise<void> {
    const veth = LxcRuntime.vethName(vmid, net.index);
    await this.requireBridge(net.bridge);
    const mtu = net.mtu ? ['mtu', String(net.mtu)] : [];
    // Both ends are born where they belong: no interface ever appears in the wrong namespace.
    const nodeEnd = ['name', veth, ...mtu];
    const containerEnd = [
      'name',
      net.name,
      'address',
      net.hwaddr.toLowerCase(),
      ...mtu,
      'netns',
      String(pid),
    ];
    await this.inNode(['ip', 'link', 'add', ...nodeEnd, 'type', 'veth', 'peer', ...containerEnd]);
    await this.inNode(['ip', 'link', 'set', 'dev', veth, 'master', net.bridge]);
    await this.inNode(['ip', 'link', 'set', 'dev', veth, 'up']);
    const inContainer = (argv: string[]) => this.inNode(['nsenter', '-t', String(pid), '-n', ...argv]);
    await inContainer(['ip', 'link', 'set', 'dev', net.name, 'up']);
    if (net.ip === 'dhcp') {
      const result = await this.exec(vmid, [DHCP_START, net.name, hostname]);
      if (result.code !== 0) throw new Error(`CT ${vmid}: DHCP client did not start: ${result.stderr}`);
    } else if (net.ip && net.ip !== 'manual') {
      await inContainer(['ip', 'addr', 'add', net.ip, 'dev', net.name]);
      if (net.gw) await inContainer(['ip', 'route', 'add', 'default', 'via', net.gw, 'dev', net.name]);
    }
  }

  private async requireBridge(bridge: string): Promise<void> {
    const result = await this.runInNode(['ip', '-j', '-d', 'link', 'show', 'dev', bridge]);
    const kind =
      result.code === 0 ? (JSON.parse(result.stdout) as IpLinkEntry[])[0]?.linkinfo?.info_kind : undefined;
    if (kind !== 'bridge') throw new Error(`bridge '${bridge}' does not exist`);
  }

  private async vethCounters(vmid: number): Promise<{ in: number; out: number }> {
    const out = await this.inNode(['ip', '-j', '-s', 'link', 'show', 'type', 'veth']);
    const ours = (JSON.parse(out) as IpLinkEntry[]).filter((link) =>
      new RegExp(`^veth${vmid}i\\d+$`).test(link.ifname),
    );
    // The node end's transmitted bytes are what the container received, and vice versa.
    return {
      in: ours.reduce((sum, link) => sum + (link.stats64?.tx.bytes ?? 0), 0),
      out: ours.reduce((sum, link) => sum + (link.stats64?.rx.bytes ?? 0), 0),
    };
  }

  private async deleteVeths(vmid: number): Promise<void> {
    const result = await this.runInNode(['ip', '-j', 'link', 'show', 'type', 'veth']);
    if (result.code !== 0) return;
    for (const link of JSON.parse(result.stdout || '[]') as IpLinkEntry[]) {
      if (new RegExp(`^veth${vmid}i\\d+$`).test(link.ifname)) {
        await this.runInNode(['ip', 'link', 'delete', 'dev', link.ifname]);
      }
    }
  }

  private async requirePid(vmid: number): Promise<number> {
    const pid = await this.initPid(vmid);
    if (pid === undefined) throw new Error(`CT ${vmid} not running`);
    return pid;
  }

  private containerDir(vmid: number): string {
    return path.join(this.lxcPath, String(vmid));
  }

  /** Runs argv in the node (directly, or through `netns`); resolves with the result, whatever the code. */
  private runInNode(argv: string[], options?: RunOptions): Promise<ExecResult> {
    return run(this.netns ? inNodeNetns(this.netns, argv) : argv, options);
  }

  /** Like runInNode, but rejects unless the command exits 0; resolves with its stdout. */
  private inNode(argv: string[]): Promise<string> {
    return runChecked(this.netns ? inNodeNetns(this.netns, argv) : argv);
  }
}

/** Marks a container made from the Debian template; holds its id map and features. */
const DEBIAN_MARKER = 'rig-debian.json';

const ZERO_STATS: ContainerStats = {
  cpuSeconds: 0,
  memoryBytes: 0,
  memoryMaxBytes: 0,
  netInBytes: 0,
  netOutBytes: 0,
  diskReadBytes: 0,
  diskWriteBytes: 0,
  uptimeSeconds: 0,
};

interface IpAddrEntry {
  ifname: string;
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}

interface IpLinkEntry {
  ifname: string;
  linkinfo?: { info_kind?: string };
  stats64?: { rx: { bytes: number }; tx: { bytes: number } };
}

/** PVE accepts DNS names; anything else could break the LXC config or the DHCP option. */
function checkHostname(hostname: string): void {
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}))*$/.test(hostname)) {
    throw new Error(`invalid hostname '${hostname}'`);
  }
}

let clockTicks: number | undefined;

/** Seconds since the container's init started: /proc/uptime minus its start time. */
async function uptimeOf(pid: number): Promise<number> {
  clockTicks ??= Number((await runChecked(['getconf', 'CLK_TCK'])).trim()) || 100;
  const startTicks = processStartTime(pid);
  if (startTicks === undefined) return 0;
  const systemUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Math.max(0, Math.floor(systemUptime - startTicks / clockTicks));
}
