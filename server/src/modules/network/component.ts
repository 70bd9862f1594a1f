import type { DnsRecord } from './render/dnsmasq.js';
import type { UpstreamPort } from './render/nftables.js';
import type { NetworkSettings } from './settings.js';
import type { ServiceSite } from './site/site.js';

/**
 * Another module's service on the network's site (the proxy's Caddy): the reconciler
 * writes its DNS records and upstream ports with its own, then lets it apply itself on the
 * same site, in the same pass, so a placement switch moves it along.
 */
export interface SiteComponent {
  readonly name: string;
  dnsRecords(settings: NetworkSettings): DnsRecord[];
  upstreamPorts(settings: NetworkSettings): UpstreamPort[];
  /** Makes the component's service on `site` what it should be; returns what it changed. */
  apply(site: ServiceSite, settings: NetworkSettings): Promise<string[]>;
  /** The placement moved away from `site`: stop there. */
  leave(site: ServiceSite): Promise<string[]>;
}
