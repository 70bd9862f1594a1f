import path from 'node:path';
import type { RunOptions, RunResult } from '../../pve/executor/executor.js';
import type { DnsmasqPlacement } from '../render/dnsmasq.js';
import type { NatPlacement } from '../render/nftables.js';

/** The files of our services, as the services see them (inside the appliance, or on the node). */
export interface SitePaths extends DnsmasqPlacement {
  conf: string;
  nftFile: string;
  /** The last update of the proxy's port map alone (see NatService.apply). */
  nftMapFile: string;
  /** The proxy's config, storage (internal CA), admin socket, pid file and log. */
  caddyDir: string;
}

/**
 * Where dnsmasq and NAT run: the node itself (`host`) or the appliance container. The
 * services' code is the same for both; only the paths, the interfaces, how a file of the
 * site is reached and how a command runs there differ (docs/decisions.md#3-two-placements-one-generator).
 */
export interface ServiceSite extends NatPlacement {
  readonly kind: 'host' | 'appliance';
  /** For messages: "the node", "appliance CT 9999". */
  readonly description: string;
  readonly paths: SitePaths;
  /** The path on our filesystem of a path on the site. */
  local(sitePath: string): string;
  /** Runs argv on the site (argv, never a shell); resolves whatever the exit code. */
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** One layout under a base directory: host placement uses the configured directory. */
export function sitePaths(base: string, lanInterface: string): SitePaths {
  return {
    lanInterface,
    conf: path.join(base, 'dnsmasq.conf'),
    reservationsFile: path.join(base, 'reservations'),
    hostsDir: path.join(base, 'hosts.d'),
    leaseFile: path.join(base, 'dnsmasq.leases'),
    pidFile: path.join(base, 'dnsmasq.pid'),
    logFile: path.join(base, 'dnsmasq.log'),
    nftFile: path.join(base, 'nat.nft'),
    nftMapFile: path.join(base, 'nat-ports.nft'),
    caddyDir: path.join(base, 'caddy'),
  };
}

/** Inside the appliance everything of ours lives in one directory. */
export const APPLIANCE_BASE = '/var/lib/proximity';
