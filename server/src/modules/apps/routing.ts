import { AppError, errors } from '../../core/errors.js';
import { routeInputSchema } from '../../contract/proxy.js';
import type { AppsDeps } from './deps.js';

/** The app's route (source `app`): made, or pointed at `ip` if it exists; never another's. */
export async function ensureRoute(deps: AppsDeps, hostname: string, ip: string, port: number): Promise<void> {
  const existing = deps.proxy.routes().find((route) => route.id === hostname);
  if (existing && existing.source !== 'app')
    throw errors.conflict(`${hostname} is already served by a ${existing.source} route`, {
      hostname: `is already served by route ${existing.id}`,
    });
  const input = routeInputSchema.parse({ hostnames: [hostname], upstreams: [{ host: ip, port }] });
  if (
    existing?.upstreams.length === 1 &&
    existing.upstreams[0]!.host === ip &&
    existing.upstreams[0]!.port === port
  )
    return;
  const result = existing ? await deps.proxy.replace(hostname, input) : await deps.proxy.create(input, 'app');
  if (!result.applied) throw new AppError(503, 'unavailable', `route stored, not live yet: ${result.reason}`);
}

export async function removeRoute(deps: AppsDeps, hostname: string): Promise<void> {
  const existing = deps.proxy.routes().find((route) => route.id === hostname);
  if (existing?.source === 'app') await deps.proxy.delete(hostname);
}

/**
 * Ends the DHCP lease of an app's container that is gone, so its name (dnsmasq serves each
 * container's hostname while its lease lasts) stops resolving now. Best effort: without
 * dhcp_release on the node the name lasts until the lease expires, and the task log says so.
 */
export async function releaseLease(
  deps: AppsDeps,
  mac: string,
  log: (line: string) => void,
): Promise<string> {
  try {
    const ip = await deps.network.releaseLease(mac);
    return ip ? `lease of ${ip} (${mac}) released` : `no lease held by ${mac}`;
  } catch (error) {
    log(`could not release the lease of ${mac}: ${(error as Error).message}`);
    return `lease of ${mac} kept until it expires`;
  }
}
