import type { Config } from '../../core/config/schema.js';
import { CommandError, runChecked } from '../pve/executor/executor.js';
import type { PveService } from '../pve/service.js';
import type { NetworkSettings } from './settings.js';
import { ApplianceSite } from './site/appliance.js';

type ApplianceConfig = Config['network']['appliance'];

export type ApplianceState = 'absent' | 'running' | 'stopped';

/**
 * The programs the appliance must have, and the Debian packages that bring them: a plain
 * Debian 13 template may have none of them. `unit` is a systemd unit the package enables and
 * starts on its own; Proximity runs the program itself (with its own config and pid file),
 * so the packaged unit is disabled, or it would take the ports first (Caddy's :80).
 */
const REQUIRED_TOOLS = [
  { binary: 'dnsmasq', pkg: 'dnsmasq-base' },
  // Ends a deleted app's lease, so its name leaves DNS at once (network/dns.ts, release).
  { binary: 'dhcp_release', pkg: 'dnsmasq-utils' },
  { binary: 'nft', pkg: 'nftables' },
  { binary: 'caddy', pkg: 'caddy', unit: 'caddy.service' },
  // Health probes and reachability checks run wget in the appliance (apps/health.ts).
  { binary: 'wget', pkg: 'wget' },
  // Announces the gateway address when it moves here, or LAN clients keep the old MAC.
  { binary: 'arping', pkg: 'iputils-arping' },
] as const;

/** The appliance could not be made ready: the status says "fallback" with this reason. */
export class ApplianceError extends Error {}

/**
 * The network appliance: a privileged dual-NIC container (eth0 on the node's uplink by
 * DHCP, eth1 = the gateway on proximity-lan) created with the node's own `pct` as root,
 * because API tokens may not set the features it needs. Every step checks before it acts.
 */
export class Appliance {
  /** The init pid of the appliance whose programs were last found installed. */
  private toolsCheckedFor: number | undefined;

  constructor(
    private readonly pve: PveService,
    private readonly config: ApplianceConfig,
    private readonly wanBridge: string,
  ) {}

  get vmid(): number {
    return this.config.vmid;
  }

  async state(): Promise<ApplianceState> {
    const result = await this.pve.executor().run(['pct', 'status', String(this.vmid)]);
    if (result.code !== 0) {
      if (/does not exist/.test(result.stderr)) return 'absent';
      throw new CommandError(`pct status ${this.vmid}: ${result.stderr.trim()}`, ['pct', 'status'], result);
    }
    return /status:\s*running/.test(result.stdout) ? 'running' : 'stopped';
  }

  /**
   * Creates, reconfigures and starts the appliance as needed and makes sure its programs
   * are installed. Returns the running site and what had to be done.
   */
  async ensure(settings: NetworkSettings): Promise<{ site: ApplianceSite; actions: string[] }> {
    const actions: string[] = [];
    try {
      let state = await this.state();
      if (state === 'absent') {
        await this.pct(['create', String(this.vmid), this.config.template, ...this.createOptions(settings)]);
        actions.push(`appliance CT ${this.vmid} created from ${this.config.template}`);
        state = 'stopped';
      } else if (await this.reconfigure(settings)) {
        actions.push(`appliance CT ${this.vmid} network reconfigured`);
        if (state === 'running') {
          await this.pct(['reboot', String(this.vmid)]);
          actions.push(`appliance CT ${this.vmid} rebooted to apply it`);
        }
      }
      const starting = state === 'stopped';
      if (starting) {
        await this.pct(['start', String(this.vmid)]);
        actions.push(`appliance CT ${this.vmid} was stopped: started`);
      }
      const site = new ApplianceSite(this.pve.pct(), this.vmid, await this.initPid());
      // Checked once per boot of the appliance: each check is a process in the container.
      if (this.toolsCheckedFor !== site.initPid) {
        actions.push(...(await this.installTools(site)));
        this.toolsCheckedFor = site.initPid;
      }
      // The gateway address may have just moved here (from the node, or a rebuilt
      // appliance): tell the LAN's ARP caches now rather than after they time out.
      if (starting)
        await site.run(['arping', '-U', '-c', '2', '-I', 'eth1', settings.gateway]).catch(() => {});
      return { site, actions };
    } catch (error) {
      if (error instanceof ApplianceError) throw error;
      throw new ApplianceError((error as Error).message, { cause: error });
    }
  }

  /** The running appliance as a site, without changing anything; undefined unless running. */
  async site(): Promise<ApplianceSite | undefined> {
    if ((await this.state()) !== 'running') return undefined;
    return new ApplianceSite(this.pve.pct(), this.vmid, await this.initPid());
  }

  async restart(): Promise<void> {
    await this.pct([(await this.state()) === 'running' ? 'reboot' : 'start', String(this.vmid)]);
  }

  /** Stops it (placement moved to the node): two DHCP servers must never share the LAN. */
  async stop(): Promise<boolean> {
    if ((await this.state()) !== 'running') return false;
    await this.pct(['shutdown', String(this.vmid)]);
    return true;
  }

  /** Its address on the node's uplink, as PVE reports it. */
  async wanAddress(): Promise<string | undefined> {
    const interfaces = await this.pve.service.api.nodes.$(this.pve.node).lxc.$(this.vmid).interfaces.$get();
    return (interfaces as { name: string; inet?: string }[]).find((i) => i.name === 'eth0')?.inet;
  }

  private createOptions(settings: NetworkSettings): string[] {
    const c = this.config;
    return [
      '--hostname', c.hostname,
      '--description', 'Proximity network appliance: DHCP, DNS and NAT for proximity-lan. Managed by Proximity.',
      '--memory', String(c.memoryMb),
      '--cores', String(c.cores),
      '--rootfs', `${c.storage}:${c.diskGb}`,
      '--unprivileged', '0',
      '--features', 'nesting=1',
      '--onboot', '1',
      '--net0', this.net0(),
      '--net1', this.net1(settings),
    ]; // prettier-ignore
  }

  private net0(): string {
    return `name=eth0,bridge=${this.wanBridge},ip=dhcp,firewall=0`;
  }

  private net1(settings: NetworkSettings): string {
    return `name=eth1,bridge=${settings.bridge},ip=${settings.gateway}/${settings.subnet.prefix}`;
  }

  /** Brings net1 in line with the settings (gateway or bridge changed); true if it did. */
  private async reconfigure(settings: NetworkSettings): Promise<boolean> {
    const { stdout } = await this.pct(['config', String(this.vmid)]);
    const net1 = /^net1:\s*(.*)$/m.exec(stdout)?.[1] ?? '';
    const wanted = this.net1(settings);
    const has = (part: string) => net1.split(',').includes(part);
    const inLine = wanted.split(',').every(has);
    if (inLine) return false;
    await this.pct(['set', String(this.vmid), '--net1', wanted]);
    return true;
  }

  private async installTools(site: ApplianceSite): Promise<string[]> {
    const missing = [];
    for (const tool of REQUIRED_TOOLS) {
      if ((await site.run(['which', tool.binary])).code !== 0) missing.push(tool);
    }
    const actions = missing.length === 0 ? [] : await this.aptInstall(site, missing);
    return [...actions, ...(await this.disablePackagedUnits(site))];
  }

  private async aptInstall(
    site: ApplianceSite,
    missing: (typeof REQUIRED_TOOLS)[number][],
  ): Promise<string[]> {
    const packages = missing.map((tool) => tool.pkg);
    const apt = (args: string[]) =>
      site.run(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args], { timeoutMs: 600_000 });
    const update = await apt(['update']);
    const install =
      update.code === 0 ? await apt(['install', '-y', '--no-install-recommends', ...packages]) : update;
    if (install.code !== 0) {
      const why = (install.stderr.trim() || install.stdout.trim()).split('\n').slice(-2).join(' ');
      throw new ApplianceError(`the appliance lacks ${packages.join(', ')} and installing failed: ${why}`);
    }
    return [`installed ${packages.join(', ')} in the appliance`];
  }

  /** Stops and disables the packaged units of our programs (only where systemd is init). */
  private async disablePackagedUnits(site: ApplianceSite): Promise<string[]> {
    const actions: string[] = [];
    for (const tool of REQUIRED_TOOLS) {
      if (!('unit' in tool)) continue;
      const enabled = await site.run(['systemctl', 'is-enabled', tool.unit]);
      const active = await site.run(['systemctl', 'is-active', tool.unit]);
      // is-enabled prints enabled/disabled/masked; no systemd or no such unit: nothing to do
      if (enabled.stdout.trim() !== 'enabled' && active.stdout.trim() !== 'active') continue;
      const disable = await site.run(['systemctl', 'disable', '--now', tool.unit]);
      if (disable.code !== 0)
        throw new ApplianceError(`could not disable ${tool.unit} in the appliance: ${disable.stderr.trim()}`);
      actions.push(
        `disabled the packaged ${tool.unit} in the appliance (Proximity runs ${tool.binary} itself)`,
      );
    }
    return actions;
  }

  private async initPid(): Promise<number> {
    const status = await this.pve.service.api.nodes.$(this.pve.node).lxc.$(this.vmid).status.current.$get();
    const pid = Number((status as { pid?: number | string }).pid);
    if (!Number.isInteger(pid) || pid <= 0)
      throw new ApplianceError(`appliance CT ${this.vmid} has no init process`);
    return pid;
  }

  private pct(args: string[]) {
    return runChecked(this.pve.executor(), ['pct', ...args], { timeoutMs: 300_000 });
  }
}
