import { z } from 'zod';
import {
  appHostnameProblem,
  CIDR_PREFIX,
  DNS_NAME_PATTERN,
  HOSTNAME_MAX,
  HOSTNAME_MESSAGE,
  HOSTNAME_PATTERN,
  IPV4_MESSAGE,
  IPV4_PATTERN,
  MAC_MESSAGE,
  MAC_PATTERN,
  RESERVED_HOSTNAMES,
  RESERVED_MESSAGE,
} from './rules.js';

/**
 * The contract's network rules as zod schemas. Validators for everything we write into dnsmasq and nftables files. dnsmasq validates
 * almost nothing (a bad IP silently becomes a host name), so nothing reaches a file unless
 * it passed these first.
 */

/** RFC 1123 label, lower case: what `<name>.prox.local` and a PVE CT hostname accept. */
export const hostnameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(HOSTNAME_MAX, `must be at most ${HOSTNAME_MAX} characters`)
  .regex(HOSTNAME_PATTERN, HOSTNAME_MESSAGE);

/** An app's name: a host name that is not one of Proximity's own (`appHostnameProblem`). */
export const appHostnameSchema = hostnameSchema.refine(
  (name) => !RESERVED_HOSTNAMES.includes(name),
  RESERVED_MESSAGE,
);
export { appHostnameProblem };

export const macSchema = z
  .string()
  .regex(MAC_PATTERN, MAC_MESSAGE)
  .transform((mac) => mac.toLowerCase())
  .refine((mac) => (parseInt(mac.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC address');

export const ipv4Schema = z.string().regex(IPV4_PATTERN, IPV4_MESSAGE);

/** What a connectivity test may target: an address, or a DNS name of any case. */
export const ipv4OrDnsNameSchema = z.union([
  ipv4Schema,
  z.string().regex(DNS_NAME_PATTERN, 'must be an IPv4 address or a DNS name'),
]);

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export interface Cidr {
  network: string;
  prefix: number;
}

export const cidrSchema = z
  .string()
  .regex(/^[\d.]+\/\d{1,2}$/, 'must be a network like 10.20.0.0/24')
  .transform((value, ctx): Cidr => {
    const [network = '', prefixText = ''] = value.split('/');
    const prefix = Number(prefixText);
    if (!IPV4_PATTERN.test(network) || prefix < CIDR_PREFIX.min || prefix > CIDR_PREFIX.max) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an IPv4 network with a prefix from /${CIDR_PREFIX.min} to /${CIDR_PREFIX.max}`,
      });
      return z.NEVER;
    }
    if (ipToNumber(network) % 2 ** (32 - prefix) !== 0) {
      ctx.addIssue({ code: 'custom', message: `${network} is not the network address of a /${prefix}` });
      return z.NEVER;
    }
    return { network, prefix };
  });

export function netmask(prefix: number): string {
  return numberToIp(2 ** 32 - 2 ** (32 - prefix));
}

export function inSubnet(ip: string, cidr: Cidr): boolean {
  const size = 2 ** (32 - cidr.prefix);
  const start = ipToNumber(cidr.network);
  const n = ipToNumber(ip);
  // Neither the network nor the broadcast address is a host.
  return n > start && n < start + size - 1;
}

/** POST /api/v1/network/reservations */
export const reservationInputSchema = z.strictObject({
  mac: macSchema,
  hostname: hostnameSchema,
  ip: ipv4Schema.optional(),
});
const nameInputSchema = z.strictObject({ hostname: hostnameSchema, ip: ipv4Schema });
/** POST /api/v1/network/names */
export const namesInputSchema = z.strictObject({ names: z.array(nameInputSchema).min(1).max(5000) });
/** PUT /api/v1/network/names/:hostname */
export const nameIpInputSchema = z.strictObject({ ip: ipv4Schema });
/** POST /api/v1/system/infrastructure/test-nat */
export const testNatInputSchema = z.strictObject({
  /** What to reach: an IPv4 address or a DNS name; the rig's WAN server in tests. */
  target: ipv4OrDnsNameSchema,
  port: z.int().min(1).max(65535).default(80),
  /** A container on proximity-lan to test from; default: the appliance itself. */
  vmid: z.int().min(100).max(999_999_999).optional(),
  timeoutSeconds: z.int().min(1).max(30).default(5),
});
