import type { Logger } from '../../core/logger.js';
import type { PveService } from '../pve/service.js';
import { hostnameSchema } from '../network/addresses.js';
import type { ProxyRepository } from './repository.js';
import { routeInputSchema, type Route } from '../../contract/proxy.js';

/** The PVE tag that asks for a route, and the one that names the port (`proximity-port-8080`). */
export const DISCOVERY_TAG = 'proximity';
const PORT_TAG = /^proximity-port-(\d{1,5})$/;

export interface Discovered {
  vmid: number;
  hostname: string;
  port: number;
}

/**
 * Routes for containers made outside Proximity, the Proxmox way (PVE tags on the container):
 * a container on proximity-lan tagged `proximity` and `proximity-port-<port>` is served at
 * `<its hostname>.<domain>`; removing the tag removes the route. Only routes this made
 * (source `discovered`) are ever removed, and a name another route holds is left alone.
 */
export class ProxyDiscovery {
  /** Why a tagged container got no route, for the status. */
  skipped: string[] = [];

  constructor(
    private readonly pve: PveService,
    private readonly repository: ProxyRepository,
    private readonly bridge: () => string,
    private readonly logger: Logger,
  ) {}

  /** Reads the node's containers and their tags; returns whether any route changed. */
  async sync(): Promise<boolean> {
    const wanted = await this.tagged();
    const current = this.repository.routes().filter((route) => route.source === 'discovered');
    const taken = this.repository.hostnames();
    let changed = false;
    const skipped: string[] = [];
    for (const found of wanted) {
      const existing = current.find((route) => route.id === found.hostname);
      const owner = taken.get(found.hostname);
      if (owner !== undefined && !existing) {
        skipped.push(`CT ${found.vmid}: ${found.hostname} is already served by route ${owner}`);
        continue;
      }
      const route: Route = {
        ...routeInputSchema.parse({
          hostnames: [found.hostname],
          upstreams: [{ host: found.hostname, port: found.port }],
        }),
        id: found.hostname,
        source: 'discovered',
      };
      // A name an app, a DNS name or a reservation has (the name registry) is left alone too.
      const holder = existing ? undefined : this.repository.nameHolder(found.hostname, route);
      if (holder) {
        skipped.push(`CT ${found.vmid}: ${found.hostname} is already the name of a ${holder.kind}`);
        continue;
      }
      if (!existing) this.repository.insert(route);
      else if (existing.upstreams[0]?.port !== found.port) this.repository.update(route);
      else continue;
      changed = true;
      this.logger.info({ vmid: found.vmid, hostname: found.hostname, port: found.port }, 'route discovered');
    }
    for (const route of current) {
      if (!wanted.some((found) => found.hostname === route.id)) {
        this.repository.delete(route.id);
        changed = true;
        this.logger.info({ route: route.id }, 'discovered route removed: the tag is gone');
      }
    }
    this.skipped = skipped;
    return changed;
  }

  /** Containers of this node tagged for discovery, on our bridge, with a valid port tag. */
  private async tagged(): Promise<Discovered[]> {
    const node = this.pve.service.api.nodes.$(this.pve.node);
    const containers = (await node.lxc.$get()) as { vmid: number | string; tags?: string }[];
    const found: Discovered[] = [];
    for (const container of containers) {
      const tags = (container.tags ?? '').split(/[;, ]/).filter(Boolean);
      if (!tags.includes(DISCOVERY_TAG)) continue;
      const vmid = Number(container.vmid);
      const port = tags.map((tag) => PORT_TAG.exec(tag)?.[1]).find(Boolean);
      const config = (await node.lxc.$(vmid).config.$get({})) as Record<string, unknown>;
      const hostname = String(config.hostname ?? '');
      const onLan = Object.entries(config).some(
        ([key, value]) =>
          /^net\d+$/.test(key) && String(value).split(',').includes(`bridge=${this.bridge()}`),
      );
      if (
        !port ||
        Number(port) < 1 ||
        Number(port) > 65535 ||
        !hostnameSchema.safeParse(hostname).success ||
        !onLan
      )
        continue;
      found.push({ vmid, hostname, port: Number(port) });
    }
    return found;
  }
}
