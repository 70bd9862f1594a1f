import { LEASE_HOSTNAME_PATTERN } from '../../contract/rules.js';
import { ipv4Schema, macSchema } from './addresses.js';
import type { ObservedLease } from './repository.js';

/**
 * dnsmasq's lease file: `<expiry epoch|0> <mac> <ip> <hostname|*> <client-id|*>` per line,
 * rewritten in place, so a read can catch it half-written: anything that does not parse is
 * skipped, never trusted (the next read sees the whole file).
 */
export function parseLeaseFile(text: string): ObservedLease[] {
  const leases: ObservedLease[] = [];
  for (const line of text.split('\n')) {
    const [expiry, mac, ip, hostname] = line.trim().split(/\s+/);
    if (!expiry || !/^\d+$/.test(expiry)) continue;
    const parsedMac = macSchema.safeParse(mac);
    if (!parsedMac.success || !ipv4Schema.safeParse(ip).success) continue;
    leases.push({
      mac: parsedMac.data,
      ip: ip!,
      hostname: hostname && hostname !== '*' && LEASE_HOSTNAME_PATTERN.test(hostname) ? hostname : null,
      expiresAt: expiry === '0' ? null : new Date(Number(expiry) * 1000).toISOString(),
    });
  }
  return leases;
}

/** A lease as dhcp_release needs it: the client-id too, when the client sent one. */
export interface LeaseToRelease {
  mac: string;
  ip: string;
  clientId: string | null;
}

const CLIENT_ID = /^[0-9a-f]{2}(?::[0-9a-f]{2})*$/i;

/** The lease of `mac` in a lease file, if it holds one. */
export function leaseOf(text: string, mac: string): LeaseToRelease | undefined {
  const wanted = macSchema.safeParse(mac);
  if (!wanted.success) return undefined;
  for (const line of text.split('\n')) {
    const [, leaseMac, ip, , clientId] = line.trim().split(/\s+/);
    if (macSchema.safeParse(leaseMac).data !== wanted.data || !ipv4Schema.safeParse(ip).success) continue;
    return { mac: wanted.data, ip: ip!, clientId: clientId && CLIENT_ID.test(clientId) ? clientId : null };
  }
  return undefined;
}
