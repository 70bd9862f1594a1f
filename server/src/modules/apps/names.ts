import { errors } from '../../core/errors.js';
import type { AppsDeps } from './deps.js';

/** A name is one app's, and not a route's, DNS name's or reservation's of someone else. */
export function checkNameFree(deps: AppsDeps, hostname: string): void {
  const { network, proxy, repository } = deps;
  const taken = (why: string) => errors.conflict(`${hostname} ${why}`, { hostname: why });
  if (repository.get(hostname)) throw taken('is already taken by another app');
  const route = proxy.routes().find((r) => r.hostnames.includes(hostname));
  if (route) throw taken(`is already served by route ${route.id}`);
  if (network.names().some((n) => n.hostname === hostname))
    throw taken('is already a DNS name of the network');
  if (network.reservations().some((r) => r.hostname === hostname))
    throw taken('is already the name of a DHCP reservation');
}
