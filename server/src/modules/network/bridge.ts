import path from 'node:path';
import { errors } from '../../core/errors.js';
import { readIfExists, writeFileIfChanged } from '../../core/fs/atomic.js';
import { runChecked, type Executor } from '../pve/executor/executor.js';
import { inSubnet } from './addresses.js';
import { BRIDGE_HEADER, renderBridgeStanza } from './render/bridge.js';
import type { NetworkSettings } from './settings.js';

export interface BridgeStatus {
  name: string;
  exists: boolean;
  up: boolean;
  /** IPv4 addresses on the bridge (CIDR). */
  addresses: string[];
  /** What the placement wants on it: the gateway (host) or nothing (appliance). */
  expectedAddress: string | null;
  ok: boolean;
  /** Something else claims the name or the subnet: we refuse to touch it. */
  conflict?: string;
}

interface IpLink {
  ifname: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/**
 * proximity-lan as a file in /etc/network/interfaces.d applied with `ifreload -a`: the
 * PVE API refuses hyphenated interface names, and the file is what survives a reboot.
 */
export class BridgeManager {
  constructor(
    private readonly executor: Executor,
    private readonly options: { interfacesDir: string; applyCommand: readonly string[] },
  ) {}

  get file(): string {
    return path.join(this.options.interfacesDir, 'proximity-lan');
  }

  async status(settings: NetworkSettings, options: { adopt?: boolean } = {}): Promise<BridgeStatus> {
    const links = await this.links();
    const bridge = links.find((link) => link.ifname === settings.bridge);
    const addresses = ipv4(bridge);
    const expectedAddress =
      settings.placement === 'host' ? `${settings.gateway}/${settings.subnet.prefix}` : null;
    const status: BridgeStatus = {
      name: settings.bridge,
      exists: bridge?.linkinfo?.info_kind === 'bridge',
      up: (bridge?.flags ?? []).includes('UP'),
      addresses,
      expectedAddress,
      ok: false,
    };
    const conflict = this.conflict(settings, links, options.adopt);
    if (conflict) status.conflict = conflict;
    status.ok =
      !conflict &&
      status.exists &&
      status.up &&
      (expectedAddress ? addresses.length === 1 && addresses[0] === expectedAddress : addresses.length === 0);
    return status;
  }

  /**
   * Writes the stanza (only if it differs) and applies it when the file changed, the
   * bridge is not as wanted, or `force` (the rebuild-bridge action). Refuses with 409 when
   * something that is not ours holds the name or the subnet.
   */
  async ensure(settings: NetworkSettings, options: { force?: boolean } = {}): Promise<string[]> {
    const before = await this.status(settings, { adopt: options.force });
    if (before.conflict) throw errors.conflict(before.conflict, { bridge: before.conflict });
    const changed = writeFileIfChanged(this.file, renderBridgeStanza(settings));
    if (!changed && before.ok && !options.force) return [];
    await runChecked(this.executor, this.options.applyCommand);
    const after = await this.status(settings);
    if (!after.ok) {
      throw errors.unavailable(
        `${this.options.applyCommand.join(' ')} did not bring ${settings.bridge} up as configured ` +
          `(exists: ${after.exists}, up: ${after.up}, addresses: ${after.addresses.join(', ') || 'none'})`,
      );
    }
    if (changed) return [`${this.file} written and applied`];
    return [
      before.exists
        ? `bridge ${settings.bridge} was not as configured: re-applied`
        : `bridge ${settings.bridge} was missing: created`,
    ];
  }

  /** Why we must not manage the bridge, if anything else claims its name or subnet. */
  private conflict(settings: NetworkSettings, links: IpLink[], adopt = false): string | undefined {
    const own = readIfExists(this.file);
    if (own !== undefined && !own.startsWith(BRIDGE_HEADER))
      return `${this.file} exists and was not written by Proximity`;
    const main = readIfExists(path.join(path.dirname(this.options.interfacesDir), 'interfaces')) ?? '';
    if (new RegExp(`^\\s*iface\\s+${escape(settings.bridge)}\\s`, 'm').test(main))
      return `${settings.bridge} is already defined in /etc/network/interfaces`;
    const named = links.find((link) => link.ifname === settings.bridge);
    if (named && named.linkinfo?.info_kind !== 'bridge')
      return `an interface named ${settings.bridge} exists and is not a bridge`;
    if (named && own === undefined && !adopt)
      return `a bridge named ${settings.bridge} exists that Proximity did not create; rebuild the bridge to let Proximity manage it`;
    for (const link of links) {
      if (link.ifname === settings.bridge) continue;
      const inUse = ipv4(link).find((cidr) => inSubnet(cidr.split('/')[0]!, settings.subnet));
      if (inUse) {
        const subnet = `${settings.subnet.network}/${settings.subnet.prefix}`;
        return `subnet ${subnet} is already in use on ${link.ifname} (${inUse})`;
      }
    }
    return undefined;
  }

  private async links(): Promise<IpLink[]> {
    const { stdout } = await runChecked(this.executor, ['ip', '-j', '-d', 'addr', 'show']);
    return JSON.parse(stdout || '[]') as IpLink[];
  }
}

function ipv4(link: IpLink | undefined): string[] {
  return (link?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
