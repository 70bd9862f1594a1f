/**
 * The simulator's configuration: who may log in, with which ACLs, and a few knobs. The
 * defaults are the rig's standard cast; a JSON file (`--config`) can override users, groups,
 * roles, tokens, ACL and the numbers. Everything else (node name, storages) is fixed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RIG_NODE_NAME, type ContainerTemplate } from '../contracts.js';
import { DEBIAN_TEMPLATE } from '../debian-template.js';

export interface SimUser {
  userid: string; // user@realm (realms: pam, pve)
  password: string;
  enable?: boolean | undefined;
  /** Seconds since the epoch after which the account is expired; 0/undefined: never. */
  expire?: number | undefined;
}

export interface SimToken {
  tokenid: string; // user@realm!name
  /** The UUID secret of `Authorization: PVEAPIToken=<tokenid>=<secret>`. */
  secret: string;
  /** Privilege separation: the token has its user's privileges ∩ its own ACL. */
  privsep: boolean;
  expire?: number | undefined;
}

export interface SimAclEntry {
  path: string;
  ugid: string; // user@realm, @group or user@realm!token
  role: string;
  propagate: boolean;
}

export interface SimulatorConfig {
  nodeName: string;
  users: SimUser[];
  groups: Record<string, string[]>;
  /** Custom roles (the built-in PVE roles always exist). */
  roles: Record<string, string[]>;
  tokens: SimToken[];
  acl: SimAclEntry[];
  /** PVE: 2 h (AccessControl.pm $ticket_lifetime). Tests use short ones. */
  ticketLifetimeSeconds: number;
  /** pve-http-server delays every 401 by 3 s; 0 for fast tests. */
  unauthorizedDelayMs: number;
  /** How often the RRD sampler reads runtime stats. */
  rrdSampleIntervalMs: number;
  /** Templates already downloaded to `local` at first start (file names under vztmpl/). */
  downloadedTemplates: string[];
  /** What GET /version reports. */
  version: { version: string; release: string; repoid: string };
}

/** The service credential of the backend: root's token, no privilege separation. */
export const RIG_TOKEN_ID = 'root@pam!proximity';
export const RIG_TOKEN_SECRET = '5f0c7d8e-3a41-4b6f-9c2d-7e1a2b3c4d5e';

/** root@pam, who may do everything; the rig's `pct` logs in as root to do what real pct does as root. */
export const RIG_ROOT_USER = 'root@pam';
export const RIG_ROOT_PASSWORD = 'rigpassword';

/** The plain container template: a busybox rootfs built by LXC's template. */
export const RIG_TEMPLATE = 'busybox-rig_1.36_amd64.tar.zst';
/**
 * The network appliance's template: stands for a Debian template with dnsmasq, nftables and
 * Caddy installed (a busybox rootfs with the host's programs bind-mounted; contracts.ts).
 */
export const RIG_APPLIANCE_TEMPLATE = 'proximity-appliance-rig_1.0_amd64.tar.zst';

/** PVE's Debian 13 standard template, as the rig builds it (debian-template.ts). */
export const RIG_DEBIAN_TEMPLATE = DEBIAN_TEMPLATE;

/** What the runtime builds a container from, by template file name (others: busybox). */
export const RIG_TEMPLATES: Record<string, ContainerTemplate> = {
  [RIG_TEMPLATE]: 'busybox',
  [RIG_APPLIANCE_TEMPLATE]: 'appliance',
  [RIG_DEBIAN_TEMPLATE]: 'debian',
};

export const DEFAULT_SIMULATOR_CONFIG: SimulatorConfig = {
  nodeName: RIG_NODE_NAME,
  users: [
    { userid: RIG_ROOT_USER, password: RIG_ROOT_PASSWORD },
    { userid: 'alice@pve', password: 'alicepassword' },
    { userid: 'bob@pve', password: 'bobpassword' },
    // Logs in but holds no privilege anywhere: the "valid ticket, no privilege" case.
    { userid: 'carol@pve', password: 'carolpassword' },
  ],
  groups: {},
  roles: {
    // bob's Sys.Audit on / without PVEAuditor's VM/Datastore/Pool/SDN audit rights
    RigSysAuditor: ['Sys.Audit'],
  },
  tokens: [{ tokenid: RIG_TOKEN_ID, secret: RIG_TOKEN_SECRET, privsep: false }],
  acl: [
    // root@pam needs no ACL: PVE gives it every privilege (RPCEnvironment.pm permissions())
    { path: '/', ugid: 'alice@pve', role: 'PVEAuditor', propagate: true },
    { path: '/vms', ugid: 'bob@pve', role: 'PVEVMAdmin', propagate: true },
    { path: '/storage', ugid: 'bob@pve', role: 'PVEDatastoreUser', propagate: true },
    { path: '/', ugid: 'bob@pve', role: 'RigSysAuditor', propagate: true },
    // PVE 8+ checks SDN.Use on /sdn/zones/localnetwork/<bridge> for every CT NIC
    // (pve-container LXC.pm check_bridge_access): without it bob could create no CT with a NIC.
    { path: '/sdn/zones/localnetwork', ugid: 'bob@pve', role: 'PVESDNUser', propagate: true },
  ],
  ticketLifetimeSeconds: 2 * 3600,
  unauthorizedDelayMs: 3000,
  rrdSampleIntervalMs: 5000,
  downloadedTemplates: [RIG_TEMPLATE, RIG_APPLIANCE_TEMPLATE, RIG_DEBIAN_TEMPLATE],
  version: { version: '9.0.10', release: '9.0', repoid: 'deb1ca707ec72a89' },
};

const fileSchema = z
  .object({
    users: z
      .array(
        z.strictObject({
          userid: z.string(),
          password: z.string(),
          enable: z.boolean().optional(),
          expire: z.number().int().nonnegative().optional(),
        }),
      )
      .optional(),
    groups: z.record(z.string(), z.array(z.string())).optional(),
    roles: z.record(z.string(), z.array(z.string())).optional(),
    tokens: z
      .array(
        z.strictObject({
          tokenid: z.string(),
          secret: z.string(),
          privsep: z.boolean(),
          expire: z.number().int().nonnegative().optional(),
        }),
      )
      .optional(),
    acl: z
      .array(z.strictObject({ path: z.string(), ugid: z.string(), role: z.string(), propagate: z.boolean() }))
      .optional(),
    ticketLifetimeSeconds: z.number().int().positive().optional(),
    unauthorizedDelayMs: z.number().int().nonnegative().optional(),
    rrdSampleIntervalMs: z.number().int().positive().optional(),
    downloadedTemplates: z.array(z.string()).optional(),
  })
  .strict();

export type SimulatorConfigOverrides = z.infer<typeof fileSchema>;

/** Defaults with the given overrides: a given list replaces the default list, records merge. */
export function simulatorConfig(overrides: SimulatorConfigOverrides = {}): SimulatorConfig {
  const parsed = fileSchema.parse(overrides);
  const merged = { ...structuredClone(DEFAULT_SIMULATOR_CONFIG) };
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  // records add to the defaults (a custom role does not remove RigSysAuditor)
  merged.roles = { ...DEFAULT_SIMULATOR_CONFIG.roles, ...parsed.roles };
  merged.groups = { ...DEFAULT_SIMULATOR_CONFIG.groups, ...parsed.groups };
  return merged;
}

export function loadSimulatorConfig(file: string): SimulatorConfig {
  return simulatorConfig(JSON.parse(readFileSync(file, 'utf8')) as SimulatorConfigOverrides);
}
