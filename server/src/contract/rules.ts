/**
 * The contract's plain rules: patterns, names and lists that the service's zod schemas are
 * built from and that the browser plugin checks input against before it asks the API.
 * Nothing here imports anything (not even zod), so the plugin's bundle gets only these few
 * constants; the schemas and the views' types live beside it (`docs/api.md`).
 */

/** RFC 1123 label, lower case: what `<name>.prox.local` and a PVE CT hostname accept. */
export const HOSTNAME_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export const HOSTNAME_MAX = 63;
export const HOSTNAME_MESSAGE =
  'must be lower-case letters, digits and hyphens, not starting or ending with a hyphen';

/** Names that are Proximity's own on the LAN's domain: never an app's. */
export const RESERVED_HOSTNAMES: readonly string[] = [
  'upstream',
  'gateway',
  'proxy',
  'proximity',
  'localhost',
];
export const RESERVED_MESSAGE = 'is reserved for Proximity itself';

/** Why `value` cannot be a host name on the LAN (undefined: it can). */
export function hostnameProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > HOSTNAME_MAX) return `must be at most ${HOSTNAME_MAX} characters`;
  if (!HOSTNAME_PATTERN.test(value)) return HOSTNAME_MESSAGE;
  return undefined;
}

/** Why `value` cannot be an app's name: a host name that is not one of Proximity's own. */
export function appHostnameProblem(value: string): string | undefined {
  return hostnameProblem(value) ?? (RESERVED_HOSTNAMES.includes(value) ? RESERVED_MESSAGE : undefined);
}

/**
 * A host name as dnsmasq reports a client's (its lease file keeps the client's own spelling,
 * any case): shown, never written anywhere.
 */
export const LEASE_HOSTNAME_PATTERN = /^[a-z0-9-]{1,63}$/i;

/** A DNS name of one or more labels, any case (what a NAT test may target). */
export const DNS_NAME_PATTERN =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A public FQDN, lower case, at least two labels, the last not numeric (ACME names). */
export const FQDN_PATTERN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const FQDN_MAX = 253;

/** A Proxmox VE node name. */
export const NODE_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/;

export const MAC_PATTERN = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;
export const MAC_MESSAGE = 'must be a MAC address like BC:24:11:00:00:01';

export const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const IPV4_MESSAGE = 'must be an IPv4 address like 10.20.0.5';
/** An address or a network (`192.168.1.0/24`), as access lists take them. */
export const IPV4_OR_CIDR_PATTERN =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(\/([0-9]|[12]\d|3[0-2]))?$/;
/** The prefixes proximity-lan may have: big enough for a few hosts, not the whole internet. */
export const CIDR_PREFIX = { min: 8, max: 30 } as const;

/** A URL path an HTTP health check asks for (`/health`, `/?ready`). */
export const URL_PATH_PATTERN = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/%?-]*$/;
export const URL_PATH_MESSAGE = 'must be a URL path like /health';

/** A safe command's name (`logs`, `version`). */
export const COMMAND_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** Caddy 2.6.2's selection policies (weighted_round_robin and client_ip_hash came in 2.7). */
export const LB_POLICIES = [
  'round_robin',
  'least_conn',
  'ip_hash',
  'random',
  'random_choose',
  'first',
  'cookie',
  'header',
  'uri_hash',
] as const;
export type LbPolicy = (typeof LB_POLICIES)[number];

/** How a route serves TLS: not at all, Caddy's internal CA, or ACME for its public names. */
export const TLS_MODES = ['off', 'internal', 'acme'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** What an app speaks on its port. */
export const APP_PROTOCOLS = ['http', 'https'] as const;

/**
 * Request fields the API accepted in snake_case before it settled on camelCase, by body:
 * still accepted for one release (`docs/api.md`), then refused as unknown keys.
 */
export const LEGACY_FIELDS = {
  deploy: { catalog_id: 'catalogId', keep_on_failure: 'keepOnFailure' },
  adopt: { health_path: 'healthPath' },
} as const satisfies Record<string, Record<string, string>>;

/**
 * `body` with its legacy field names spelt the current way, and which were renamed (current
 * → legacy) so errors can name the field as the client wrote it. A body that gives both
 * spellings keeps the legacy one, which the strict schema then refuses as unknown.
 */
export function renameLegacyFields(
  body: unknown,
  legacy: Readonly<Record<string, string>>,
): { body: unknown; renamed: Map<string, string> } {
  const renamed = new Map<string, string>();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { body, renamed };
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  // The plugin's ES2020 target has no Object.hasOwn.
  const has = (key: string) => Object.prototype.hasOwnProperty.call(copy, key);
  for (const [old, current] of Object.entries(legacy))
    if (has(old) && !has(current)) {
      copy[current] = copy[old];
      delete copy[old];
      renamed.set(current, old);
    }
  return { body: copy, renamed };
}
