import type { Logger } from '../../core/logger.js';
import type { SiteComponent } from '../network/component.js';
import type { DnsRecord } from '../network/render/dnsmasq.js';
import type { UpstreamPort } from '../network/render/nftables.js';
import type { NetworkService } from '../network/service.js';
import type { NetworkSettings } from '../network/settings.js';
import type { ServiceSite } from '../network/site/site.js';
import { CaddyService } from './caddy.js';
import {
  canonicalJson,
  partitionRoutes,
  renderCaddyConfig,
  UPSTREAM_ZONE,
  type ResolvedRoute,
} from './render/caddy.js';
import type { ProxyRepository } from './repository.js';

/**
 * Caddy as a component of the network's site. Routes that need nothing of their own
 * (most apps) are served by one catch-all route whose upstreams come from DNS and whose
 * ports come from an nft map, so adding, removing, scaling or moving them changes DNS
 * and nft only: Caddy's config, and every connection it carries, stays untouched. Only
 * routes with their own options are rendered into the config, and a change to those is
 * one `POST /load`, sent only when the document differs from what Caddy runs.
 */
export class ProxyComponent implements SiteComponent {
  readonly name = 'proxy';
  /** Set by each apply: upstream names that resolved to nothing, per route. */
  unresolved = new Map<string, string[]>();
  /** Reloads done (config pushes): the benchmark and the status report it. */
  pushes = 0;

  constructor(
    private readonly repository: ProxyRepository,
    private readonly network: NetworkService,
    private readonly logger: Logger,
  ) {}

  /** Routes with every upstream host as an address (LAN names resolved from DHCP/DNS). */
  resolvedRoutes(): ResolvedRoute[] {
    const addresses = this.lanAddresses();
    const unresolved = new Map<string, string[]>();
    const routes = this.repository.routes().map((route) => {
      const upstreams = route.upstreams.flatMap((upstream) => {
        if (/^\d+\.\d+\.\d+\.\d+$/.test(upstream.host)) return [upstream];
        const ip = addresses.get(upstream.host);
        if (!ip) {
          unresolved.set(route.id, [...(unresolved.get(route.id) ?? []), upstream.host]);
          return [];
        }
        return [{ host: ip, port: upstream.port }];
      });
      return { ...route, upstreams };
    });
    this.unresolved = unresolved;
    return routes.filter((route) => route.upstreams.length > 0);
  }

  dnsRecords(settings: NetworkSettings): DnsRecord[] {
    const routes = this.resolvedRoutes();
    // LAN clients reach every app through the proxy, on the gateway address.
    const records = routes.flatMap((route) =>
      route.hostnames.map((hostname) => ({ name: `${hostname}.${settings.domain}`, ip: settings.gateway })),
    );
    // The catch-all finds a dynamic route's replicas by DNS (as the renderer partitions them).
    for (const route of partitionRoutes(routes).dynamic)
      for (const hostname of route.hostnames)
        for (const upstream of route.upstreams)
          records.push({ name: `${hostname}.${UPSTREAM_ZONE}.${settings.domain}`, ip: upstream.host });
    return records;
  }

  upstreamPorts(): UpstreamPort[] {
    return partitionRoutes(this.resolvedRoutes()).dynamic.flatMap((route) =>
      route.upstreams.map((u) => ({ ip: u.host, port: u.port })),
    );
  }

  /** The whole document Caddy should run on `site`. */
  document(site: ServiceSite, settings: NetworkSettings): Record<string, unknown> {
    const caddy = new CaddyService(site);
    const config = renderCaddyConfig({
      routes: this.resolvedRoutes(),
      settings: { domain: settings.domain, metrics: this.repository.metrics() },
      site: {
        adminSocket: caddy.paths.adminSocket,
        dataDir: caddy.paths.dataDir,
        resolver: `${settings.gateway}:53`,
      },
    }) as Record<string, unknown>;
    // Caddy's own log goes to a file on the site (read by the status and the logs API).
    return {
      ...config,
      logging: {
        logs: { default: { level: 'INFO', writer: { output: 'file', filename: caddy.paths.logFile } } },
      },
    };
  }

  async apply(site: ServiceSite, settings: NetworkSettings): Promise<string[]> {
    const caddy = new CaddyService(site);
    const document = this.document(site, settings);
    const text = canonicalJson(document);
    if (caddy.pid() === undefined) {
      await caddy.start(text);
      return [`Caddy was not running on ${site.description}: started`];
    }
    const current = await caddy.currentConfig();
    if (canonicalJson(current) === text) return [];
    await caddy.load(text);
    this.pushes++;
    // Read back: what Caddy runs now must be exactly what we sent.
    if (canonicalJson(await caddy.currentConfig()) !== text)
      throw new Error('Caddy runs a different config than the one just loaded');
    this.logger.info({ site: site.description }, 'Caddy config pushed');
    return [`Caddy config pushed on ${site.description}`];
  }

  async leave(site: ServiceSite): Promise<string[]> {
    return (await new CaddyService(site).stop())
      ? [`Caddy on ${site.description} stopped (services moved)`]
      : [];
  }

  /** Names of the LAN (leases, reservations, names) to addresses. */
  private lanAddresses(): Map<string, string> {
    const map = new Map<string, string>();
    for (const lease of this.network.leases()) if (lease.hostname) map.set(lease.hostname, lease.ip);
    for (const reservation of this.network.reservations()) map.set(reservation.hostname, reservation.ip);
    for (const name of this.network.names()) map.set(name.hostname, name.ip);
    return map;
  }
}
