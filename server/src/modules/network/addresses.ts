import { z } from 'zod';

/**
 * Validators for everything we write into dnsmasq and nftables files. dnsmasq validates
 * almost nothing (a bad IP silently becomes a host name), so nothing reaches a file unless
 * it passed these first.
 */

/** RFC 1123 label, lower case: what `<name>.prox.local` and a PVE CT hostname accept. */
export const hostnameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    'must be lower-case letters, digits and hyphens, not starting or ending with a hyphen',
  );

export const macSchema = z
  .string()
  .regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, 'must be a MAC address like BC:24:11:00:00:01')
  .transform((mac) => mac.toLowerCase())
  .refine((mac) => (parseInt(mac.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC address');

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const ipv4Schema = z.string().regex(IPV4, 'must be an IPv4 address like 10.20.0.5');

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
    if (!IPV4.test(network) || prefix < 8 || prefix > 30) {
      ctx.addIssue({ code: 'custom', message: 'must be an IPv4 network with a prefix from /8 to /30' });
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
