import type { DnsRecord } from './render/dnsmasq.js';
import type { UpstreamPort } from './render/nftables.js';
import type { NetworkSettings } from './settings.js';
import type { ServiceSite } from './site/site.js';

/** What a component wants on the site in one reconcile pass, computed once for the pass. */
export interface SitePlan {
  dnsRecords: DnsRecord[];
  upstreamPorts: UpstreamPort[];
  /** Makes the component's service on `site` what the plan says; returns what it changed. */
  apply(site: ServiceSite): Promise<string[]>;
}

/**
 * Another module's service on the network's site (the proxy's Caddy): the reconciler
 * writes its DNS records and upstream ports with its own, then lets it apply itself on the
 * same site, in the same pass, so a placement switch moves it along.
 */
export interface SiteComponent {
  readonly name: string;
  plan(settings: NetworkSettings): SitePlan;
  /** The placement moved away from `site`: stop there. */
  leave(site: ServiceSite): Promise<string[]>;
}
