import { z } from 'zod';
import { hostnameSchema } from '../network/addresses.js';
import { envKeySchema, LIMITS, type AppManifest } from './catalog/manifest.js';

/**
 * An app: a container Proximity deployed (or adopted) on proximity-lan, served at
 * `http://<hostname>.<domain>`. Its row keeps what the lifecycle needs without the catalog
 * (a manifest may change or vanish after the deploy): the spec below, frozen at deploy time.
 */

export type AppState = 'deploying' | 'ready' | 'failed' | 'deleting';

/** What the deploy decided, kept with the app: resources, port, checks, commands. */
export interface AppSpec {
  /** The catalog entry it came from; null for an adopted container. */
  catalog: { id: string; name: string; source: string } | null;
  template: { os: string; version: string; volid?: string | undefined } | null;
  resources: { cores: number; memoryMb: number; diskGb: number; unprivileged: boolean; nesting: boolean };
  port: { port: number; protocol: 'http' | 'https' };
  healthCheck: { path: string; expectStatus?: number | undefined; timeoutSeconds: number };
  install: AppManifest['install'];
  /** Values the deployer chose for the manifest's env keys (secrets are not here). */
  env: Record<string, string>;
  secretKeys: { key: string; length: number }[];
  safeCommands: AppManifest['safeCommands'];
  logFile?: string | undefined;
}

export interface AppRecord {
  hostname: string;
  catalogId: string | null;
  node: string;
  vmid: number | null;
  state: AppState;
  taskId: string | null;
  spec: AppSpec;
  ip: string | null;
  mac: string | null;
  owner: string;
  /** Whether generated secrets are waiting to be shown (their values are never listed). */
  secretsPending: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Names that are ours on the LAN's domain: never an app's. */
export const RESERVED_HOSTNAMES = new Set(['upstream', 'gateway', 'proxy', 'proximity', 'localhost']);

const appHostnameSchema = hostnameSchema.refine(
  (name) => !RESERVED_HOSTNAMES.has(name),
  'is reserved for Proximity itself',
);

const nodeSchema = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/, 'must be a Proxmox VE node name');

/** A value for an env key: one line, as it may end up in an EnvironmentFile. */
const envValueSchema = z
  .string()
  .max(LIMITS.envValue)
  .refine((text) => !/\p{Cc}/u.test(text), 'must be one line of printable text (no newlines)');

/** What the user may change of a manifest's resources; the node's capacity is checked too. */
export const resourcesInputSchema = z.strictObject({
  cores: z.int().min(1).max(128).optional(),
  memoryMb: z
    .int()
    .min(16)
    .max(1024 * 1024)
    .optional(),
  diskGb: z
    .int()
    .min(1)
    .max(64 * 1024)
    .optional(),
});

/** POST /api/v1/apps */
export const deployInputSchema = z.strictObject({
  catalog_id: z.string().min(1).max(100),
  hostname: appHostnameSchema,
  node: nodeSchema.optional(),
  resources: resourcesInputSchema.optional(),
  env: z.record(envKeySchema, envValueSchema).optional(),
  /** Leave what a failed deploy made, for debugging; delete the app afterwards. */
  keep_on_failure: z.boolean().default(false),
});
export type DeployInput = z.output<typeof deployInputSchema>;

/** POST /api/v1/apps/adopt: a container already on proximity-lan becomes an app. */
export const adoptInputSchema = z.strictObject({
  vmid: z.int().min(100).max(999_999_999),
  /** Default: the container's own hostname. */
  hostname: appHostnameSchema.optional(),
  port: z.int().min(1).max(65535),
  protocol: z.enum(['http', 'https']).default('http'),
  health_path: z
    .string()
    .max(256)
    .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/%?-]*$/, 'must be a URL path like /health')
    .default('/'),
});
export type AdoptInput = z.output<typeof adoptInputSchema>;

export const hostnameParam = z.strictObject({ hostname: appHostnameSchema });

/** The URL an app answers at. */
export function appUrl(hostname: string, domain: string): string {
  return `http://${hostname}.${domain}`;
}
