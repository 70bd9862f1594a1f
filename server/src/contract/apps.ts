import { z } from 'zod';
import { appHostnameSchema } from './network.js';
import {
  APP_PROTOCOLS,
  COMMAND_NAME_PATTERN,
  NODE_PATTERN,
  URL_PATH_MESSAGE,
  URL_PATH_PATTERN,
} from './rules.js';

/**
 * The apps API's bodies and views (`docs/api.md`): what POST /api/v1/apps, /apps/adopt and
 * PUT /apps/:hostname/resources accept, and the AppView every apps answer carries.
 */

/** An environment variable's name, as POSIX shells accept it. */
export const envKeySchema = z
  .string()
  .max(64)
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be upper-case letters, digits and _ (not first a digit)');
export const ENV_VALUE_MAX = 1024;

/** A value for an env key: one line, as it may end up in an EnvironmentFile. */
const envValueSchema = z
  .string()
  .max(ENV_VALUE_MAX)
  .refine((text) => !/\p{Cc}/u.test(text), 'must be one line of printable text (no newlines)');

export const nodeSchema = z.string().regex(NODE_PATTERN, 'must be a Proxmox VE node name');

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
export type ResourcesInput = z.output<typeof resourcesInputSchema>;

/** POST /api/v1/apps (`catalog_id`, `keep_on_failure`: accepted for one release). */
export const deployInputSchema = z.strictObject({
  catalogId: z.string().min(1).max(100),
  hostname: appHostnameSchema,
  node: nodeSchema.optional(),
  resources: resourcesInputSchema.optional(),
  env: z.record(envKeySchema, envValueSchema).optional(),
  /** Leave what a failed deploy made, for debugging; delete the app afterwards. */
  keepOnFailure: z.boolean().default(false),
});
export type DeployInput = z.output<typeof deployInputSchema>;

/** POST /api/v1/apps/adopt: a container already on proximity-lan becomes an app (`health_path`: one release). */
export const adoptInputSchema = z.strictObject({
  vmid: z.int().min(100).max(999_999_999),
  /** Default: the container's own hostname (which must then be a usable app name). */
  hostname: appHostnameSchema.optional(),
  port: z.int().min(1).max(65535),
  protocol: z.enum(APP_PROTOCOLS).default('http'),
  healthPath: z.string().max(256).regex(URL_PATH_PATTERN, URL_PATH_MESSAGE).default('/'),
});
export type AdoptInput = z.output<typeof adoptInputSchema>;

export const hostnameParam = z.strictObject({ hostname: appHostnameSchema });
export const commandParam = hostnameParam.extend({ name: z.string().regex(COMMAND_NAME_PATTERN) });
export const logsQuery = z.strictObject({ lines: z.coerce.number().int().min(1).max(2000).default(200) });
export const statsQuery = z.strictObject({ timeframe: z.enum(['hour', 'day', 'week']).default('hour') });

export const APP_STATES = ['deploying', 'ready', 'failed', 'deleting'] as const;
export type AppState = (typeof APP_STATES)[number];

/** The health monitor's last answer from an app. */
export const probeResultSchema = z.object({
  healthy: z.boolean(),
  /** The HTTP status, when the app answered at all. */
  status: z.int().optional(),
  /** Why it is not healthy, in words. */
  reason: z.string().optional(),
  at: z.string(),
  durationMs: z.number(),
});
export type ProbeResult = z.output<typeof probeResultSchema>;

/** The PVE privileges (all needed) on an app's container for each action on it. */
export const ACTION_PRIVILEGES = {
  read: ['VM.Audit'],
  power: ['VM.PowerMgmt'],
  resize: ['VM.Config.CPU', 'VM.Config.Memory'],
  command: ['VM.Console'],
  delete: ['VM.Allocate'],
} as const;
export type AppAction = keyof typeof ACTION_PRIVILEGES;

/** What the list and the UI show of an app: the record joined with PVE's live view and health. */
export const appViewSchema = z.object({
  hostname: z.string(),
  name: z.string(),
  catalogId: z.string().nullable(),
  /** The catalog entry's icon when it is an image data URI (never a remote URL). */
  icon: z.string().optional(),
  /** `web`: served by the proxy at `url`; `tcp`: a TCP service, reached at `address`. */
  kind: z.enum(['web', 'tcp']),
  /** A web app's URL; a TCP service's is `tcp://<name>.<domain>:<port>` (no page is there). */
  url: z.string(),
  /** Where to reach it: `http://wiki.prox.local` or `redis.prox.local:6379` (clients speak its protocol). */
  address: z.string(),
  node: z.string(),
  vmid: z.int().nullable(),
  /** The record's life: deploying, ready, failed, deleting. */
  state: z.enum(APP_STATES),
  /** What a user sees: running, stopped, unreachable (runs, does not answer), missing, or the state. */
  status: z.enum(['running', 'stopped', 'unreachable', 'missing', 'unknown', ...APP_STATES]),
  health: probeResultSchema.nullable(),
  ip: z.string().nullable(),
  mac: z.string().nullable(),
  port: z.int(),
  /** What it speaks on `port`: http, https, or tcp (a TCP service's own protocol). */
  protocol: z.enum(['http', 'https', 'tcp']),
  cpu: z.number().nullable(),
  memory: z.object({ used: z.number(), max: z.number() }).nullable(),
  uptime: z.number().nullable(),
  taskId: z.string().nullable(),
  owner: z.string(),
  adopted: z.boolean(),
  secretsPending: z.boolean(),
  createdAt: z.string(),
});
export type AppView = z.output<typeof appViewSchema>;

/** An AppView as the routes answer it: with what the caller may do to the app. */
export const allowedAppViewSchema = appViewSchema.extend({
  allowed: z.object({
    read: z.boolean(),
    power: z.boolean(),
    resize: z.boolean(),
    command: z.boolean(),
    delete: z.boolean(),
  }),
});
export type AllowedAppView = z.output<typeof allowedAppViewSchema>;
export type AppStatus = AppView['status'];
