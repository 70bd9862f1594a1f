import { z } from 'zod';
import { fieldErrors } from '../../../core/http/validate.js';
import { hostnameSchema, ipv4Schema } from '../../network/addresses.js';
import { ROUTE_DEFAULTS, routeInputSchema, type ProxySettings, type Route } from '../../../contract/proxy.js';

/**
 * (Over 350 lines on purpose: one pure function of the routes, whose parts (the catch-all
 * route, each route's handlers, TLS policies, the check of what it renders) share private
 * helpers and are read together against the golden files.)
 *
 * Caddy 2.6.2's JSON config, rendered from the routes. Every real config load makes Caddy
 * re-create its listeners and reset the connections in flight, for every app. So most routes
 * are not in the document at all: a route that needs nothing of its own (`isDynamicRoute`) is
 * served by one catch-all route that finds its upstreams in DNS (`<name>.upstream.<domain>`,
 * dnsmasq) on port 80 (which nftables maps to each upstream's real port). Adding, removing,
 * scaling or moving such a route changes DNS and nft, never this document. Only routes with
 * options of their own are rendered, before the catch-all.
 *
 * Choices (checked with `caddy validate` and a real Caddy 2.6.2, see
 * test/integration/caddy-config.test.ts):
 * - durations are Go duration strings ("2s", "250ms"), never nanosecond integers;
 * - http_basic passwords are the bcrypt hash as is (Caddy 2.6 also takes it base64-encoded);
 * - one server listens on :80 and :443 (Caddy does no TLS on its HTTP port); automatic HTTPS
 *   redirects are off, and each TLS route redirects HTTP to HTTPS itself;
 * - names under the domain are served over HTTPS with one internal wildcard certificate,
 *   `*.<domain>`, so adding a route never issues a certificate; public names get their own,
 *   from the internal CA (`tls: internal`) or ACME (`tls: acme`);
 * - metrics: Caddy 2.6 collects HTTP metrics only for servers with `metrics: {}`, and serves
 *   them on its admin endpoint's /metrics, i.e. on the unix socket only. Nothing is added
 *   to :80 or :443.
 */

/** A route whose upstreams' `host` are IPv4 addresses (LAN names already resolved). */
export type ResolvedRoute = Route;

export interface CaddySite {
  /** Absolute path of the admin API's unix socket: the admin API never listens on TCP. */
  adminSocket: string;
  /** Caddy's storage root: the internal CA and the certificates. */
  dataDir: string;
  /** `ip:port` of the DNS server the catch-all asks for upstreams (dnsmasq). */
  resolver: string;
}

export interface CaddyInput {
  routes: readonly ResolvedRoute[];
  settings: ProxySettings;
  site: CaddySite;
}

type Json = string | number | boolean | null | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** The server's name: the `server` label of the HTTP metrics. */
export const CADDY_SERVER = 'proximity';
/** The DNS zone, under the domain, where the catch-all looks up a route's upstreams. */
export const UPSTREAM_ZONE = 'upstream';
/** The port the catch-all dials: nftables sends it to each upstream's real port. */
export const DYNAMIC_UPSTREAM_PORT = 80;
/** How often the catch-all re-reads an upstream name (Caddy caches the answer between). */
const DYNAMIC_REFRESH = '1s';
/** How long old connections may finish after a reload (Caddy's default is forever). */
const GRACE_PERIOD = '10s';

/** The seeds' preset; each is set only when the app did not send its own. */
const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ['Permissions-Policy', 'camera=(), geolocation=(), microphone=(), payment=(), usb=()'],
  ['Referrer-Policy', 'strict-origin-when-cross-origin'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'SAMEORIGIN'],
];
const HSTS = ['Strict-Transport-Security', 'max-age=31536000'] as const;

/**
 * True when the catch-all can serve the route: names only under the domain, no TLS of its
 * own, the security headers, round robin with the default retries and timeouts, no health
 * check (active or passive: see `catchAll`), access list, basic auth or body limit, and one port per
 * upstream address (the nft map sends an address's port 80 to one port). Whether it really
 * is served so also depends on the other routes: see `partitionRoutes`.
 */
export function isDynamicRoute(route: Route): boolean {
  const { loadBalancing: lb, healthChecks: health, timeouts } = route;
  const addresses = route.upstreams.map((u) => u.host);
  return (
    route.publicHostnames.length === 0 &&
    route.tls === 'off' &&
    route.securityHeaders &&
    lb.policy === ROUTE_DEFAULTS.policy &&
    lb.tryDurationSeconds === ROUTE_DEFAULTS.tryDurationSeconds &&
    lb.tryIntervalMs === ROUTE_DEFAULTS.tryIntervalMs &&
    health.active === undefined &&
    health.passive === undefined &&
    timeouts.dialSeconds === ROUTE_DEFAULTS.dialSeconds &&
    timeouts.responseHeaderSeconds === ROUTE_DEFAULTS.responseHeaderSeconds &&
    route.access.allow.length === 0 &&
    route.access.deny.length === 0 &&
    route.basicAuth === undefined &&
    route.maxRequestBodyBytes === undefined &&
    new Set(addresses).size === addresses.length
  );
}

/**
 * Which routes the catch-all serves (their names go to DNS, their ports to the nft map) and
 * which are rendered. A dynamic route is rendered after all when one of its addresses is
 * also used with another port by any route: port 80 of an address can lead to one port only.
 */
export function partitionRoutes<R extends Route>(routes: readonly R[]): { dynamic: R[]; explicit: R[] } {
  const ports = new Map<string, Set<number>>();
  for (const upstream of routes.flatMap((r) => r.upstreams)) {
    ports.set(upstream.host, (ports.get(upstream.host) ?? new Set()).add(upstream.port));
  }
  const dynamic: R[] = [];
  const explicit: R[] = [];
  for (const route of routes) {
    const alone = route.upstreams.every((u) => ports.get(u.host)!.size === 1);
    (isDynamicRoute(route) && alone ? dynamic : explicit).push(route);
  }
  return { dynamic, explicit };
}

/** The config as an object (keys in no particular order). */
export function renderCaddyConfig(input: CaddyInput): JsonObject {
  const domain = checkedDomain(input.settings.domain);
  const site = checkedSite(input.site);
  const routes = input.routes.map(checkedRoute);
  checkUnique(routes, domain);
  const explicit = partitionRoutes(routes).explicit.sort((a, b) => compare(a.id, b.id));

  const names = (route: Route) => route.hostnames.map((h) => `${h}.${domain}`);
  const publicNames = (tls: Route['tls']) =>
    sorted(explicit.filter((r) => r.tls === tls).flatMap((r) => r.publicHostnames));
  const automaticHttps: JsonObject = {
    // Each TLS route redirects itself; no redirect may catch a route served over HTTP.
    disable_redirects: true,
    // Covered by the wildcard certificate: no certificate per route.
    skip_certificates: sorted(explicit.flatMap(names)),
    // Public names without TLS: never ask a public CA for them.
    skip: publicNames('off'),
  };
  const acmeNames = publicNames('acme');

  const server: JsonObject = {
    listen: [':80', ':443'],
    // Caddy 2.6 would advertise HTTP/3 (UDP) on every response; we serve and test TCP only.
    protocols: ['h1', 'h2'],
    automatic_https: withoutEmptyLists(automaticHttps),
    routes: [
      ...explicit.map((route) => explicitRoute(route, names(route))),
      catchAll(domain, site.resolver),
      // Any other name (or the bare address): say so, rather than Caddy's empty 200.
      { handle: [{ handler: 'static_response', status_code: 404 }], terminal: true },
    ],
  };
  if (explicit.some((route) => route.maxRequestBodyBytes !== undefined))
    server.errors = { routes: [tooLarge] };
  if (input.settings.metrics) server.metrics = {};

  return {
    admin: { listen: `unix/${site.adminSocket}`, config: { persist: false } },
    storage: { module: 'file_system', root: site.dataDir },
    apps: {
      http: { grace_period: GRACE_PERIOD, servers: { [CADDY_SERVER]: server } },
      tls: {
        automation: {
          policies: [
            ...(acmeNames.length > 0 ? [{ subjects: acmeNames, issuers: [{ module: 'acme' }] }] : []),
            {
              subjects: [`*.${domain}`, ...publicNames('internal')],
              issuers: [{ module: 'internal' }],
            },
          ],
        },
      },
      // Caddy's own CA, for `tls: internal` and the wildcard; never in the system's trust store.
      pki: { certificate_authorities: { local: { install_trust: false } } },
    },
  };
}

/** The config as Caddy's `POST /load` body: keys sorted at every level, so equal configs are equal bytes. */
export function renderCaddyJson(input: CaddyInput): string {
  return canonicalJson(renderCaddyConfig(input));
}

/** JSON with object keys sorted at every level, 2-space indented, ending with a newline. */
export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort(compare)
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  return value;
}

/**
 * Caddy 2.6 stops a body over `request_body`'s limit, but the proxy reports the read error as
 * 502; this error route gives the client the 413 it means (with or without Content-Length).
 */
const tooLarge: JsonObject = {
  match: [{ vars_regexp: { '{http.error.message}': { pattern: 'request body too large' } } }],
  handle: [{ handler: 'static_response', status_code: 413, body: 'Request body too large\n' }],
};

/** One route with its own options: checks in order, then the proxy. */
function explicitRoute(route: Route, domainNames: string[]): JsonObject {
  const steps: JsonObject[] = [];
  const tls = route.tls !== 'off';
  // First, so the answers below (403, 308) carry the headers too.
  if (route.securityHeaders) steps.push({ handle: securityHeaders(tls) });
  const forbidden = [{ handler: 'static_response', status_code: 403 }];
  if (route.access.deny.length > 0)
    steps.push({
      match: [{ remote_ip: { ranges: sorted(route.access.deny) } }],
      handle: forbidden,
      terminal: true,
    });
  if (route.access.allow.length > 0)
    steps.push({
      match: [{ not: [{ remote_ip: { ranges: sorted(route.access.allow) } }] }],
      handle: forbidden,
      terminal: true,
    });
  // Before basic auth: credentials never travel over plain HTTP.
  if (tls)
    steps.push({
      match: [{ protocol: 'http' }],
      handle: [
        {
          handler: 'static_response',
          status_code: 308,
          headers: { Location: ['https://{http.request.host}{http.request.uri}'] },
        },
      ],
      terminal: true,
    });
  const handle: JsonObject[] = [];
  if (route.basicAuth)
    handle.push({
      handler: 'authentication',
      providers: {
        http_basic: {
          accounts: [{ username: route.basicAuth.username, password: route.basicAuth.passwordHash }],
          hash: { algorithm: 'bcrypt' },
        },
      },
    });
  if (route.maxRequestBodyBytes !== undefined)
    handle.push({ handler: 'request_body', max_size: route.maxRequestBodyBytes });
  handle.push(staticProxy(route));
  steps.push({ handle });
  return {
    match: [{ host: sorted([...domainNames, ...route.publicHostnames]) }],
    handle: [{ handler: 'subroute', routes: steps }],
    terminal: true,
  };
}

function staticProxy(route: Route): JsonObject {
  const lb = route.loadBalancing;
  const dials = route.upstreams.map((u) => `${u.host}:${u.port}`);
  // `first` means "in this order"; for the others the order only moves hashes around.
  const ordered = lb.policy === 'first' ? dials : sorted(dials);
  const policy: JsonObject = { policy: lb.policy };
  if (lb.policy === 'cookie' && lb.cookieName) policy.name = lb.cookieName;
  if (lb.policy === 'header' && lb.headerField) policy.field = lb.headerField;
  const health: JsonObject = {};
  const { active, passive } = route.healthChecks;
  if (active) {
    health.active = {
      uri: active.path,
      interval: duration(active.intervalSeconds),
      timeout: duration(active.timeoutSeconds),
      ...(active.expectStatus !== undefined ? { expect_status: active.expectStatus } : {}),
    };
  }
  if (passive)
    health.passive = passiveHealth(passive.maxFails, passive.failDurationSeconds, passive.unhealthyStatus);
  const proxy: JsonObject = {
    handler: 'reverse_proxy',
    upstreams: ordered.map((dial) => ({ dial })),
    load_balancing: loadBalancing(policy, lb.tryDurationSeconds, lb.tryIntervalMs),
    transport: transport(route.timeouts.dialSeconds, route.timeouts.responseHeaderSeconds),
  };
  if (Object.keys(health).length > 0) proxy.health_checks = health;
  return proxy;
}

/**
 * Every name under the domain that no rendered route took: upstreams from
 * `<label>.upstream.<domain>`, retried on another replica when one is down. A name with no
 * upstreams in DNS gets Caddy's 503 (no upstreams available).
 */
function catchAll(domain: string, resolver: string): JsonObject {
  const label = domain.split('.').length;
  const d = ROUTE_DEFAULTS;
  return {
    match: [{ host: [`*.${domain}`] }],
    handle: [
      ...securityHeaders(false),
      {
        handler: 'reverse_proxy',
        dynamic_upstreams: {
          source: 'a',
          name: `{http.request.host.labels.${label}}.${UPSTREAM_ZONE}.${domain}`,
          port: String(DYNAMIC_UPSTREAM_PORT),
          refresh: DYNAMIC_REFRESH,
          // Over UDP: Caddy 2.6 would dial TCP, and dnsmasq forks a process per TCP connection.
          resolver: { addresses: [`udp/${resolver}`] },
          dial_timeout: duration(1),
        },
        load_balancing: loadBalancing({ policy: d.policy }, d.tryDurationSeconds, d.tryIntervalMs),
        // No passive health check: a few dials timing out under load (a busy app drops SYNs)
        // marked the app's only upstream down for every client at once, so all connections
        // stalled for the fail duration (docs/decisions.md, decision 15). The retries above
        // cover a transient failure; a route that wants passive checks is rendered on its own.
        transport: transport(d.dialSeconds, d.responseHeaderSeconds),
      },
    ],
    terminal: true,
  };
}

function loadBalancing(policy: JsonObject, tryDurationSeconds: number, tryIntervalMs: number): JsonObject {
  const lb: JsonObject = { selection_policy: policy };
  if (tryDurationSeconds > 0) {
    lb.try_duration = duration(tryDurationSeconds);
    lb.try_interval = duration(tryIntervalMs / 1000);
  }
  return lb;
}

function passiveHealth(maxFails: number, failDurationSeconds: number, unhealthyStatus: number[]): JsonObject {
  const passive: JsonObject = { fail_duration: duration(failDurationSeconds), max_fails: maxFails };
  if (unhealthyStatus.length > 0)
    passive.unhealthy_status = [...new Set(unhealthyStatus)].sort((a, b) => a - b);
  return passive;
}

/**
 * Without both timeouts a hanging upstream stalls its requests for the whole health-check
 * timeout (docs/decisions.md#6-caddy-one-document-pushed-only-when-it-differs-dynamic-routes-for-the-rest).
 */
function transport(dialSeconds: number, responseHeaderSeconds: number): JsonObject {
  return {
    protocol: 'http',
    dial_timeout: duration(dialSeconds),
    response_header_timeout: duration(responseHeaderSeconds),
  };
}

/**
 * Deferred, so they apply to the app's response: `Server` removed, and each preset header
 * set only when the app did not send its own (the app's stricter choice wins).
 */
function securityHeaders(tls: boolean): JsonObject[] {
  const preset = tls ? [...SECURITY_HEADERS, HSTS] : SECURITY_HEADERS;
  return [
    { handler: 'headers', response: { deferred: true, delete: ['Server'] } },
    ...preset.map(([name, value]) => ({
      handler: 'headers',
      response: { require: { headers: { [name]: null } }, set: { [name]: [value] } },
    })),
  ];
}

/** A Go duration string of whole milliseconds (route.ts allows nothing finer). */
function duration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort(compare);
}

function withoutEmptyLists(object: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => !Array.isArray(value) || value.length > 0),
  );
}

// ---- Validation: nothing reaches the document that route.ts (or this) did not check. ----

const sourceSchema = z.enum(['api', 'app', 'discovered']);
const absolutePath = z
  .string()
  .max(4096)
  .regex(/^(\/[A-Za-z0-9._-]+)+$/, 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');
const resolverSchema = z
  .string()
  .regex(/^[\d.]+:\d{1,5}$/, 'must be ip:port')
  .refine((value) => {
    const [ip = '', port = ''] = value.split(':');
    return ipv4Schema.safeParse(ip).success && Number(port) >= 1 && Number(port) <= 65535;
  }, 'must be an IPv4 address and a port, like 10.20.0.1:53');

function checkedDomain(domain: string): string {
  if (domain.length > 253 || !domain.split('.').every((label) => hostnameSchema.safeParse(label).success))
    throw new Error(`invalid proxy domain ${JSON.stringify(domain)}`);
  return domain;
}

function checkedSite(site: CaddySite): CaddySite {
  const field = <T>(name: string, schema: z.ZodType<T>, value: unknown): T => {
    const result = schema.safeParse(value);
    if (!result.success) throw new Error(`invalid Caddy site ${name}: ${result.error.issues[0]!.message}`);
    return result.data;
  };
  const adminSocket = field('adminSocket', absolutePath, site.adminSocket);
  // sun_path holds 108 bytes with its NUL.
  if (Buffer.byteLength(adminSocket) > 107) throw new Error('invalid Caddy site adminSocket: path too long');
  return {
    adminSocket,
    dataDir: field('dataDir', absolutePath, site.dataDir),
    resolver: field('resolver', resolverSchema, site.resolver),
  };
}

/** The route as route.ts accepts it, with every upstream an address; throws otherwise. */
function checkedRoute(route: ResolvedRoute): Route {
  const { id, source, ...input } = route;
  const parsed = routeInputSchema.safeParse(input);
  const problems = parsed.success ? {} : fieldErrors(parsed.error);
  route.upstreams.forEach((u, i) => {
    if (!ipv4Schema.safeParse(u.host).success) problems[`upstreams.${i}.host`] ??= 'must be an IPv4 address';
  });
  if (!hostnameSchema.safeParse(id).success) problems.id = 'must be a hostname';
  if (!sourceSchema.safeParse(source).success) problems.source = 'must be api, app or discovered';
  const summary = Object.entries(problems).map(([field, message]) => `${field} ${message}`);
  if (!parsed.success || summary.length > 0)
    throw new Error(`invalid route ${JSON.stringify(id)}: ${summary.join('; ')}`);
  return { ...parsed.data, id, source };
}

/** Two routes with one id or one name would shadow each other silently. */
function checkUnique(routes: readonly Route[], domain: string): void {
  const owners = new Map<string, string>();
  const ids = new Set<string>();
  for (const route of routes) {
    if (ids.has(route.id)) throw new Error(`two routes have the id ${route.id}`);
    ids.add(route.id);
    for (const name of [...route.hostnames.map((h) => `${h}.${domain}`), ...route.publicHostnames]) {
      const owner = owners.get(name);
      if (owner !== undefined) throw new Error(`${name} is served by both routes ${owner} and ${route.id}`);
      owners.set(name, route.id);
    }
  }
}
