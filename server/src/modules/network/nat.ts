import { readIfExists, writeFileIfChanged } from '../../core/fs/atomic.js';
import { runChecked } from '../pve/executor/executor.js';
import {
  NFT_TABLE,
  renderNatRuleset,
  renderPortMapUpdate,
  withoutElements,
  type UpstreamPort,
} from './render/nftables.js';
import type { NetworkSettings } from './settings.js';
import type { ServiceSite } from './site/site.js';

export interface NatState {
  /** Our table exists with its masquerade and isolation rules. */
  present: boolean;
  ipForward: boolean;
}

/** Comments on the rules we must find; a flushed or half-deleted table lacks them. */
const REQUIRED_COMMENTS = [
  'proximity: containers reach the internet',
  'proximity: no inbound path to the LAN except the reverse proxy',
];

/**
 * NAT and isolation with nftables on a site, plus IPv4 forwarding there. Applying is one
 * `nft -f` transaction that replaces only our table.
 */
export class NatService {
  constructor(private readonly site: ServiceSite) {}

  async state(): Promise<NatState> {
    const [table, forward] = await Promise.all([
      this.site.run(['nft', '-j', 'list', 'table', 'inet', NFT_TABLE]),
      // Read on the site, not through its filesystem: /proc/sys/net is per network namespace
      // of the reader.
      this.site.run(['cat', '/proc/sys/net/ipv4/ip_forward']),
    ]);
    return {
      present: table.code === 0 && REQUIRED_COMMENTS.every((comment) => table.stdout.includes(comment)),
      ipForward: forward.code === 0 && forward.stdout.trim() === '1',
    };
  }

  /**
   * The proxy's port map only, for a route change between full passes: nothing when the
   * ruleset is unchanged (a new route to a known address and port), else the map's elements
   * swapped in one `nft -f`. Anything more (the table gone, other rules changed) is left to
   * a full `apply`; the caller runs one when this returns false.
   */
  async applyPortMap(
    settings: NetworkSettings,
    upstreamPorts: readonly UpstreamPort[],
  ): Promise<string[] | false> {
    const ruleset = renderNatRuleset(settings, this.site, upstreamPorts);
    const file = this.site.local(this.site.paths.nftFile);
    const previous = readIfExists(file);
    if (previous === ruleset) return [];
    if (previous === undefined || withoutElements(previous) !== withoutElements(ruleset)) return false;
    writeFileIfChanged(this.site.local(this.site.paths.nftMapFile), renderPortMapUpdate(upstreamPorts));
    await runChecked(this.site, ['nft', '-f', this.site.paths.nftMapFile]);
    writeFileIfChanged(file, ruleset);
    return [`proxy port map updated (${upstreamPorts.length} upstreams)`];
  }

  /**
   * Makes NAT what the settings say; returns what had to be repaired. When only the
   * proxy's port map changed, the map's elements are swapped in one transaction and the
   * table stays: re-creating a NAT table makes the kernel drop the NAT state of every
   * connection it translated (the proxy's to its upstreams, the containers' masqueraded
   * ones), which would cut live traffic on each app change.
   */
  async apply(
    settings: NetworkSettings,
    upstreamPorts: readonly UpstreamPort[] = [],
    options: { force?: boolean } = {},
  ): Promise<string[]> {
    const repaired: string[] = [];
    const ruleset = renderNatRuleset(settings, this.site, upstreamPorts);
    const file = this.site.local(this.site.paths.nftFile);
    const previous = readIfExists(file);
    const changed = writeFileIfChanged(file, ruleset);
    const before = await this.state();
    if (!before.present || options.force) {
      await runChecked(this.site, ['nft', '-f', this.site.paths.nftFile]);
      repaired.push(changed ? 'NAT rules updated' : 'NAT rules were missing: restored');
    } else if (changed && previous !== undefined && withoutElements(previous) === withoutElements(ruleset)) {
      const update = renderPortMapUpdate(upstreamPorts);
      writeFileIfChanged(this.site.local(this.site.paths.nftMapFile), update);
      await runChecked(this.site, ['nft', '-f', this.site.paths.nftMapFile]);
      repaired.push(`proxy port map updated (${upstreamPorts.length} upstreams)`);
    } else if (changed) {
      await runChecked(this.site, ['nft', '-f', this.site.paths.nftFile]);
      repaired.push('NAT rules updated');
    }
    if (!before.ipForward) {
      await runChecked(this.site, ['sysctl', '-w', 'net.ipv4.ip_forward=1']);
      repaired.push('IPv4 forwarding was off: enabled');
    }
    return repaired;
  }

  /** Removes our table (placement switched away from this site). */
  async remove(): Promise<boolean> {
    const result = await this.site.run(['nft', 'delete', 'table', 'inet', NFT_TABLE]);
    return result.code === 0;
  }
}
