import { z } from 'zod';
import { fieldErrors } from '../../../core/http/validate.js';
import type { FieldErrors } from '../../../core/errors.js';
import { ENV_VALUE_MAX, envKeySchema } from '../../../contract/apps.js';
import { TEMPLATE_OSES, type TemplateOs } from '../../../contract/catalog.js';
import { COMMAND_NAME_PATTERN, HOSTNAME_PATTERN } from '../../../contract/rules.js';

/**
 * Proximity's app manifest: one JSON file per app (`catalog/<id>.json`), what the deploy
 * pipeline needs to make the app's container, install it, route it and check it.
 *
 * Everything here is data written by others (the starter catalog, an admin's own directory,
 * an imported catalog), so every key is known (unknown ones are refused), every string and
 * array has a limit, and nothing is ever pasted into a shell: install steps and safe commands
 * are argv arrays run as they are. A step MAY be `["sh", "-c", "<fixed script>"]`; values a
 * user chooses (env, secrets) reach it only as environment variables, never in its text.
 */

export const MANIFEST_SCHEMA_VERSION = 1;

/** The container templates the deploy pipeline knows how to find on a node (the contract's list). */
export { TEMPLATE_OSES, type TemplateOs, envKeySchema };

// Limits, exported so importers can fit what they map into them.
export const LIMITS = {
  name: 80,
  description: 2000,
  category: 64,
  url: 2048,
  dataUri: 64 * 1024,
  noteText: 2000,
  notes: 20,
  stepName: 80,
  steps: 64,
  argv: 64,
  arg: 16 * 1024,
  env: 64,
  envValue: ENV_VALUE_MAX,
  secrets: 16,
  safeCommands: 32,
  ports: 8,
} as const;

/** Control characters (C0, DEL, C1): none in a line; in paragraphs only \n and tabs. */
const CONTROL = /\p{Cc}/u;
const isOneLine = (text: string) => !CONTROL.test(text);
const isParagraphs = (text: string) => !CONTROL.test(text.replace(/[\n\t]/g, ''));

/** One line of printable text without surrounding blanks: names, labels. */
const line = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine(isOneLine, 'must be one line of printable text')
    .refine((text) => text.trim() === text, 'must not start or end with blanks');

/** Text that may span lines (\n and tabs; no other control characters, no \r). */
const paragraphs = (max: number) =>
  z.string().min(1).max(max).refine(isParagraphs, 'must be printable text (lines end with \\n)');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(LIMITS.url);
const dataUri = z
  .string()
  .max(LIMITS.dataUri)
  .regex(
    /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$/,
    'must be a base64 data URI of a png, jpeg, gif, webp or svg image',
  );

/** A slug: the app's id, also fit to be a host name (`<id>.prox.local`). */
export const appIdSchema = z
  .string()
  .max(63)
  .regex(HOSTNAME_PATTERN, 'must be a slug: lower-case letters, digits and -');

/**
 * A command as an argv array: a program name or absolute path first, then its arguments,
 * each passed as it is (no shell, no expansion). NUL cannot be passed to a program.
 */
export const argvSchema = z
  .array(
    z
      .string()
      .max(LIMITS.arg)
      .regex(/^[^\0]*$/, 'must not contain NUL'),
  )
  .min(1)
  .max(LIMITS.argv)
  .superRefine((argv, ctx) => {
    if (argv[0] !== undefined && !/^[A-Za-z0-9_.+/-]{1,255}$/.test(argv[0]))
      ctx.addIssue({ code: 'custom', path: [0], message: 'must be a program name or absolute path' });
  });

const templateSchema = z.strictObject({
  os: z.enum(TEMPLATE_OSES),
  /** The distribution's version, as PVE's template names carry it: 13, 24.04, 3.23, 1.36. */
  version: z
    .string()
    .max(16)
    .regex(/^[0-9]+(\.[0-9]+){0,3}$/, 'must be a version like 13, 24.04 or 3.23'),
  /** The exact template volume, when it is known: `local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst`. */
  volid: z
    .string()
    .max(255)
    .regex(
      /^[a-z][a-z0-9._-]*[a-z0-9]:vztmpl\/[A-Za-z0-9][A-Za-z0-9._+-]*\.tar\.(gz|xz|zst)$/,
      'must be a PVE template volume like local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst',
    )
    .optional(),
});

const resourcesSchema = z.strictObject({
  cores: z.int().min(1).max(128),
  memoryMb: z
    .int()
    .min(16)
    .max(1024 * 1024),
  diskGb: z
    .int()
    .min(1)
    .max(64 * 1024),
  /** PVE's default for new containers, and ours. */
  unprivileged: z.boolean().default(true),
  /** Only nesting: PVE lets API tokens set no other feature flag. */
  features: z.strictObject({ nesting: z.boolean().optional() }).prefault({}),
});

/**
 * What the app speaks on a port. `http`/`https`: a web app, served by the proxy at
 * `http://<name>.<domain>` (it dials https upstreams with TLS). `tcp`: a service without a web
 * UI (a database, a broker): no vhost, its name resolves to the container itself and clients
 * connect to `<name>.<domain>:<port>`.
 */
export const PORT_PROTOCOLS = ['http', 'https', 'tcp'] as const;

const portSchema = z.strictObject({
  port: z.int().min(1).max(65535),
  protocol: z.enum(PORT_PROTOCOLS).default('http'),
});

/** What an app is, by its first port: a web app behind the proxy, or a TCP service by name. */
export type AppKind = 'web' | 'tcp';
export const appKindOf = (ports: readonly { protocol: string }[]): AppKind =>
  ports[0]?.protocol === 'tcp' ? 'tcp' : 'web';

const healthCheckSchema = z.strictObject({
  /** A web app's check: asked on the first port (directly and through the proxy). */
  path: z
    .string()
    .max(256)
    .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/%?-]*$/, 'must be a URL path like /health')
    .optional(),
  /** The status that means healthy; without it any answer below 500 does (the app serves HTTP). */
  expectStatus: z.int().min(100).max(599).optional(),
  /**
   * A TCP service's own check, besides the connect to its first port that is always made:
   * an argv run inside the container that exits 0 when the service answers (`pg_isready`,
   * `redis-cli ping`). It gets the app's env and secrets like an install step.
   */
  command: argvSchema.optional(),
  /** How long a deploy waits for the first healthy answer. */
  timeoutSeconds: z.int().min(1).max(3600).default(120),
});

const installStepSchema = z.strictObject({
  name: line(LIMITS.stepName),
  argv: argvSchema,
  timeoutSeconds: z.int().min(1).max(3600).default(600),
});

const envVarSchema = z.strictObject({
  key: envKeySchema,
  /** One line (it may end up in an EnvironmentFile); empty is allowed. */
  default: z.string().max(LIMITS.envValue).refine(isOneLine, 'must be one line of printable text'),
  description: line(200).optional(),
});

const secretSchema = z.strictObject({
  key: envKeySchema,
  /** Characters of the generated value (letters and digits). */
  length: z.int().min(16).max(256).default(32),
  /** Secrets are shown to the deployer once, after the deploy, and never again. */
  showOnce: z
    .literal(true, { error: 'must be true: a secret is shown once, after the deploy' })
    .default(true),
  description: line(200).optional(),
});

const safeCommandSchema = z.strictObject({
  name: z.string().regex(COMMAND_NAME_PATTERN, 'must be a short lower-case name like logs'),
  description: line(200).optional(),
  /** Read-only by the catalog author's word: status, logs, versions, config checks. */
  argv: argvSchema,
  timeoutSeconds: z.int().min(1).max(300).default(30),
});

const noteSchema = z.strictObject({
  type: z.enum(['info', 'warning']).default('info'),
  text: paragraphs(LIMITS.noteText),
});

function unique<T>(ctx: z.RefinementCtx, path: string, items: readonly T[], key: (item: T) => string) {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const value = key(item);
    if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [path, index], message: `repeats ${value}` });
    seen.add(value);
  });
}

const TCP_FIRST = 'the first port is tcp: the name resolves to the container and nothing is proxied';
const WEB_FIRST = 'the first port is http(s): the name resolves to the proxy, which routes the first port';

/**
 * Refuses what contradicts the app's kind: a TCP service has no HTTP check, no page to open
 * and no web ports (its name is the container's, not the proxy's); a web app is checked by its
 * path through the proxy and has no TCP port (its name is the proxy's: it could not be reached).
 */
function checkKind(
  ctx: z.RefinementCtx,
  manifest: {
    ports: { protocol: string }[];
    healthCheck: { path?: string | undefined; expectStatus?: number | undefined; command?: unknown };
    openPath?: string | undefined;
  },
) {
  const kind = appKindOf(manifest.ports);
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  manifest.ports.forEach((port, index) => {
    if (index > 0 && (port.protocol === 'tcp') !== (kind === 'tcp'))
      issue(
        ['ports', index, 'protocol'],
        kind === 'tcp' ? `must be tcp: ${TCP_FIRST}` : `must be http or https: ${WEB_FIRST}`,
      );
  });
  const { healthCheck } = manifest;
  if (kind === 'tcp') {
    if (healthCheck.path !== undefined)
      issue(
        ['healthCheck', 'path'],
        `must be left out: ${TCP_FIRST} (its first port is checked by connect; add a command to check more)`,
      );
    if (healthCheck.expectStatus !== undefined)
      issue(['healthCheck', 'expectStatus'], `must be left out: ${TCP_FIRST} (there is no HTTP answer)`);
    if (manifest.openPath !== undefined)
      issue(['openPath'], `must be left out: ${TCP_FIRST} (no page to open)`);
  } else {
    if (healthCheck.path === undefined)
      issue(['healthCheck', 'path'], `is required: ${WEB_FIRST} (the path it answers on, like /health)`);
    if (healthCheck.command !== undefined)
      issue(['healthCheck', 'command'], `must be left out: ${WEB_FIRST}; command is a TCP service's check`);
  }
}

export const appManifestSchema = z
  .strictObject({
    schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
    id: appIdSchema,
    name: line(LIMITS.name),
    description: paragraphs(LIMITS.description),
    category: line(LIMITS.category),
    icon: z.union([httpUrl, dataUri], { error: 'must be an http(s) URL or an image data URI' }).optional(),
    website: httpUrl,
    documentation: httpUrl.optional(),
    template: templateSchema,
    resources: resourcesSchema,
    /**
     * The port(s) the app serves, all web (http/https: the first is the one routed) or all
     * `tcp` (a TCP service: nothing is routed, the name resolves to the container).
     */
    ports: z.array(portSchema).min(1).max(LIMITS.ports),
    healthCheck: healthCheckSchema,
    /** Run in order inside the container, as root; each should be safe to run again. */
    install: z.array(installStepSchema).max(LIMITS.steps),
    /**
     * Brings an installed app to its newest version, run like install (in order, inside the
     * container, each step safe to run again); an update that fails is rolled back to the
     * safety point taken before it (catalog/README.md).
     */
    update: z.array(installStepSchema).max(LIMITS.steps).default([]),
    /** The first page to open when it is not `/` (a setup or login page). */
    openPath: z
      .string()
      .max(256)
      .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/%?-]*$/, 'must be a URL path like /setup')
      .optional(),
    env: z.array(envVarSchema).max(LIMITS.env).default([]),
    secrets: z.array(secretSchema).max(LIMITS.secrets).default([]),
    safeCommands: z.array(safeCommandSchema).max(LIMITS.safeCommands).default([]),
    /** Where the app logs, for apps whose container has no journal (the logs API tails it). */
    logFile: z
      .string()
      .max(255)
      .regex(/^\/[A-Za-z0-9._/-]+$/, 'must be an absolute path like /var/log/app.log')
      .refine((file) => !file.split('/').includes('..'), 'must not contain ..')
      .optional(),
    notes: z.array(noteSchema).max(LIMITS.notes).default([]),
  })
  .superRefine((manifest, ctx) => {
    unique(ctx, 'ports', manifest.ports, (p) => `port ${p.port}`);
    checkKind(ctx, manifest);
    unique(ctx, 'safeCommands', manifest.safeCommands, (c) => `name ${c.name}`);
    unique(ctx, 'env', manifest.env, (e) => `key ${e.key}`);
    const envKeys = new Set(manifest.env.map((e) => e.key));
    unique(ctx, 'secrets', manifest.secrets, (s) => `key ${s.key}`);
    manifest.secrets.forEach((secret, index) => {
      if (envKeys.has(secret.key))
        ctx.addIssue({ code: 'custom', path: ['secrets', index, 'key'], message: `is also an env key` });
    });
  });

/** A manifest as written in a file (defaults may be left out). */
export type AppManifestInput = z.input<typeof appManifestSchema>;
/** A validated manifest, defaults filled in: what the rest of the service works with. */
export type AppManifest = z.output<typeof appManifestSchema>;
export type AppTemplate = AppManifest['template'];
export type AppResources = AppManifest['resources'];
export type AppPort = AppManifest['ports'][number];
export type AppHealthCheck = AppManifest['healthCheck'];
export type InstallStep = AppManifest['install'][number];
export type EnvVar = AppManifest['env'][number];
export type SecretSpec = AppManifest['secrets'][number];
export type SafeCommand = AppManifest['safeCommands'][number];
export type AppNote = AppManifest['notes'][number];

export type ManifestResult = { ok: true; manifest: AppManifest } | { ok: false; fields: FieldErrors };

/**
 * Validates a parsed manifest file. A file of another schemaVersion gets that one reason,
 * not a list of fields this version does not know.
 */
export function parseManifest(value: unknown): ManifestResult {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const version = (value as Record<string, unknown>).schemaVersion;
    if (version !== undefined && version !== MANIFEST_SCHEMA_VERSION) {
      return {
        ok: false,
        fields: {
          schemaVersion: `${JSON.stringify(version).slice(0, 40)} is not supported: this Proximity reads schemaVersion ${MANIFEST_SCHEMA_VERSION}`,
        },
      };
    }
  }
  const result = appManifestSchema.safeParse(value);
  return result.success
    ? { ok: true, manifest: result.data }
    : { ok: false, fields: fieldErrors(result.error) };
}
