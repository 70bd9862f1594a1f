import { inSubnet } from '../network/addresses.js';
import type { SiteComponent, SitePlan } from '../network/component.js';
import type { DnsRecord } from '../network/render/dnsmasq.js';
import type { NetworkSettings } from '../network/settings.js';
import { appKind, type AppRecord } from './app.js';
import type { AppRepository } from './repository.js';

/**
 * The DNS names of TCP services. A web app's name is the proxy's (its route's record points
 * at the gateway, where Caddy listens); a TCP service has no route, so its name must point at
 * the container itself, or a client would connect to Caddy. This component gives the network
 * pass those records (`<name>.<domain>` → the container's LAN address), the same way the proxy
 * gives its own: one hosts file of dnsmasq, rewritten in the same pass, no restart.
 *
 * A name is published while the app has a LAN address and is not being deleted (a failed
 * deploy kept for debugging keeps its name, as a web app keeps its route); a container on the
 * fallback uplink has no name on the LAN.
 */
export function tcpServiceRecords(apps: readonly AppRecord[], settings: NetworkSettings): DnsRecord[] {
  return apps
    .filter(
      (app) =>
        appKind(app.spec) === 'tcp' &&
        app.state !== 'deleting' &&
        app.ip !== null &&
        inSubnet(app.ip, settings.subnet),
    )
    .map((app) => ({ name: `${app.hostname}.${settings.domain}`, ip: app.ip! }));
}

export class TcpServiceNames implements SiteComponent {
  readonly name = 'app-names';

  constructor(private readonly repository: Pick<AppRepository, 'list'>) {}

  plan(settings: NetworkSettings): SitePlan {
    return {
      dnsRecords: tcpServiceRecords(this.repository.list(), settings),
      upstreamPorts: [],
      // Nothing runs for it on the site: dnsmasq (the network's own) serves the records.
      apply: () => Promise.resolve([]),
    };
  }

  leave(): Promise<string[]> {
    return Promise.resolve([]);
  }
}
