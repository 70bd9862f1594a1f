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
