import { z } from 'zod';
import { cidrSchema, hostnameSchema, inSubnet, ipToNumber, ipv4Schema } from './addresses.js';

/**
 * Cross-field checks compare parsed values; on input that already failed (a subnet that is
 * not a CIDR) they would compare garbage, or throw. Zod runs refinements after non-fatal
 * issues unless told otherwise.
 */
const onlyWhenValid = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };

export const packageCacheSchema = z.strictObject({
  enabled: z.boolean().default(true),
  // The appliance's disk holds it: 1 GiB by default (its rootfs is 4 GiB).
  maxSizeMb: z.int().min(64).max(1_048_576).default(1024),
});

const range = z.strictObject({ start: ipv4Schema, end: ipv4Schema });

/**
 * The network's settings, as the user edits them (PUT /api/v1/network/settings). Defaults
 * are the seeds': proximity-lan 10.20.0.0/24, gateway .1, statics .2–.99, pool .100–.250,
 * 12 h leases, domain prox.local.
 */
export const networkSettingsSchema = z
  .strictObject({
    /** Where DHCP, DNS, NAT (and the proxy) run: a dual-NIC LXC, or the node itself. */
    placement: z.enum(['appliance', 'host']).default('appliance'),
    bridge: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,14}$/, 'must be a Linux interface name (at most 15 characters)')
      .default('proximity-lan'),
    subnet: cidrSchema.default({ network: '10.20.0.0', prefix: 24 }),
    gateway: ipv4Schema.default('10.20.0.1'),
    statics: range.default({ start: '10.20.0.2', end: '10.20.0.99' }),
    pool: range.default({ start: '10.20.0.100', end: '10.20.0.250' }),
    leaseSeconds: z
      .int()
      .min(120)
      .max(7 * 24 * 3600)
      .default(12 * 3600),
    domain: z
      .string()
      .max(253)
      .refine(
        (domain) => domain.split('.').every((label) => hostnameSchema.safeParse(label).success),
        'must be a DNS domain of lower-case labels, like prox.local',
      )
      .default('prox.local'),
    upstreamDns: z.array(ipv4Schema).min(1).max(4).default(['1.1.1.1', '9.9.9.9']),
    /**
     * Debian's apt-cacher-ng in the appliance, on the gateway's port 3142: app containers
     * fetch their Debian packages through it, so a second deploy downloads nothing it has.
     * apt-cacher-ng has no size limit of its own: Proximity evicts the least recently used
     * packages above maxSizeMb (network/package-cache.ts). Only with placement "appliance".
     */
    packageCache: packageCacheSchema.default({ enabled: true, maxSizeMb: 1024 }),
  })
  .superRefine((settings, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (!inSubnet(settings.gateway, settings.subnet))
      issue(['gateway'], 'must be a host address inside the subnet');
    for (const name of ['statics', 'pool'] as const) {
      const { start, end } = settings[name];
      if (!inSubnet(start, settings.subnet)) issue([name, 'start'], 'must be inside the subnet');
      if (!inSubnet(end, settings.subnet)) issue([name, 'end'], 'must be inside the subnet');
      if (ipToNumber(start) > ipToNumber(end)) issue([name, 'end'], 'must not come before start');
      const gateway = ipToNumber(settings.gateway);
      if (gateway >= ipToNumber(start) && gateway <= ipToNumber(end))
        issue([name], 'must not contain the gateway');
    }
    const overlap =
      ipToNumber(settings.statics.start) <= ipToNumber(settings.pool.end) &&
      ipToNumber(settings.pool.start) <= ipToNumber(settings.statics.end);
    if (overlap) issue(['pool'], 'must not overlap the static range');
  }, onlyWhenValid);

export type NetworkSettings = z.output<typeof networkSettingsSchema>;

export const defaultNetworkSettings: NetworkSettings = networkSettingsSchema.parse({});

/** Settings as the API shows and accepts them (the subnet as "10.20.0.0/24"). */
export function settingsToInput(settings: NetworkSettings): Record<string, unknown> {
  return { ...settings, subnet: `${settings.subnet.network}/${settings.subnet.prefix}` };
}
