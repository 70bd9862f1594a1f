import type { Logger } from '../../core/logger.js';
import type { SiteComponent, SitePlan } from '../network/component.js';
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
/** The proxy's plan for one pass: routes resolved once, what DNS and nft need, and Caddy's document. */
export interface ProxyPlan extends SitePlan {
  /** Upstream names that resolved to no address, per route. */
  unresolved: Map<string, string[]>;
  /** The whole document Caddy should run on `site`. */
  document(site: ServiceSite): Record<string, unknown>;
}

export class ProxyComponent implements SiteComponent {
  readonly name = 'proxy';
  /** Reloads done (config pushes): the benchmark and the status report it. */
  pushes = 0;

  constructor(
    private readonly repository: ProxyRepository,
    private readonly network: NetworkService,
    private readonly logger: Logger,
  ) {}

  plan(settings: NetworkSettings): ProxyPlan {
    const { routes, unresolved } = this.resolveRoutes();
    const dynamic = partitionRoutes(routes).dynamic;
    // LAN clients reach every app through the proxy, on the gateway address; the
    // catch-all finds a dynamic route's replicas by DNS and their ports by the nft map.
    const dnsRecords = [
      ...routes.flatMap((route) =>
        route.hostnames.map((hostname) => ({ name: `${hostname}.${settings.domain}`, ip: settings.gateway })),
      ),
      ...dynamic.flatMap((route) =>
        route.hostnames.flatMap((hostname) =>
          route.upstreams.map((u) => ({
            name: `${hostname}.${UPSTREAM_ZONE}.${settings.domain}`,
            ip: u.host,
          })),
        ),
      ),
    ];
    const upstreamPorts = dynamic.flatMap((route) =>
      route.upstreams.map((u) => ({ ip: u.host, port: u.port })),
    );
    const document = (site: ServiceSite) => this.document(routes, site, settings);
    return {
      dnsRecords,
      upstreamPorts,
      unresolved,
      document,
      apply: (site) => this.apply(site, document(site)),
    };
  }

  /** Routes with every upstream host as an address (LAN names resolved from DHCP/DNS). */
  private resolveRoutes(): { routes: ResolvedRoute[]; unresolved: Map<string, string[]> } {
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
    return { routes: routes.filter((route) => route.upstreams.length > 0), unresolved };
  }

  private document(
    routes: ResolvedRoute[],
    site: ServiceSite,
    settings: NetworkSettings,
  ): Record<string, unknown> {
    const caddy = new CaddyService(site);
    const config = renderCaddyConfig({
      routes,
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

  private async apply(site: ServiceSite, document: Record<string, unknown>): Promise<string[]> {
    const caddy = new CaddyService(site);
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
