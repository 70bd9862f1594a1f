import { z } from 'zod';
import { hostnameSchema, ipv4Schema } from './network.js';
import { FQDN_MAX, FQDN_PATTERN, IPV4_OR_CIDR_PATTERN, LB_POLICIES, TLS_MODES } from './rules.js';

export { LB_POLICIES, TLS_MODES };

/**
 * A route: the vhost(s) of one app and where its requests go. Validated here, at the edge,
 * so nothing that reaches the Caddy renderer can break Caddy's JSON or inject a directive:
 * every string is either an enum, a number, or matched against a strict pattern.
 */

/** A DNS name under our domain (one label, `wiki`) or a public FQDN for ACME. */
const fqdnSchema = z
  .string()
  .max(FQDN_MAX)
  .regex(FQDN_PATTERN, 'must be a lower-case DNS name like wiki.example.com');

const upstreamSchema = z.strictObject({
  /** A container on the LAN: its address, or its DHCP/DNS name (`wiki-1`). */
  host: z.union([ipv4Schema, hostnameSchema]),
  port: z.int().min(1).max(65535),
});

/** Header field names as RFC 9110 tokens; values printable ASCII without quotes or braces. */
const headerFieldSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, 'must be an HTTP header name');
const cidrOrIpSchema = z
  .string()
  .regex(IPV4_OR_CIDR_PATTERN, 'must be an IPv4 address or network like 192.168.1.0/24');

/** Whole milliseconds at least, so every duration renders exactly as a Go duration string. */
const seconds = (max: number) => z.number().min(0.001).max(max);

/**
 * The defaults, shared with the Caddy renderer: a route that keeps all of them can be served by
 * its one catch-all route (see `isDynamicRoute` in render/caddy.ts), so they are also what that
 * route uses.
 */
export const ROUTE_DEFAULTS = {
  policy: 'round_robin',
  tryDurationSeconds: 5,
  tryIntervalMs: 250,
  /** Below the try duration, so a dial to a dead replica leaves time to try another one. */
  dialSeconds: 2,
  responseHeaderSeconds: 60,
  // Three, not one: a single transient error on a one-replica app would otherwise take it
  // out of rotation, and with nowhere else to go every request stalls until it is back.
  passive: { maxFails: 3, failDurationSeconds: 10 },
} as const;

export const routeInputSchema = z
  .strictObject({
    /** Names under the proxy domain (`wiki` → wiki.prox.local). */
    hostnames: z.array(hostnameSchema).min(1).max(16),
    /** Public names served too (TLS by ACME when `tls` is `acme`). */
    publicHostnames: z.array(fqdnSchema).max(16).default([]),
    upstreams: z.array(upstreamSchema).min(1).max(64),
    loadBalancing: z
      .strictObject({
        policy: z.enum(LB_POLICIES).default(ROUTE_DEFAULTS.policy),
        /** cookie: the cookie's name; header: the header field to hash. */
        cookieName: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a cookie name')
          .optional(),
        headerField: headerFieldSchema.optional(),
        /** How long to keep trying other upstreams when one fails (0: no retry). */
        tryDurationSeconds: seconds(60).or(z.literal(0)).default(ROUTE_DEFAULTS.tryDurationSeconds),
        tryIntervalMs: z.int().min(10).max(10_000).default(ROUTE_DEFAULTS.tryIntervalMs),
      })
      .prefault({}),
    healthChecks: z
      .strictObject({
        active: z
          .strictObject({
            path: z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$/, 'must be a URL path like /health'),
            intervalSeconds: seconds(3600).default(10),
            timeoutSeconds: seconds(60).default(5),
            expectStatus: z.int().min(100).max(599).optional(),
          })
          .optional(),
        passive: z
          .strictObject({
            maxFails: z.int().min(1).max(100).default(ROUTE_DEFAULTS.passive.maxFails),
            failDurationSeconds: seconds(3600).default(ROUTE_DEFAULTS.passive.failDurationSeconds),
            unhealthyStatus: z.array(z.int().min(100).max(599)).max(20).default([]),
          })
          .optional(),
      })
      .prefault({}),
    timeouts: z
      .strictObject({
        dialSeconds: seconds(60).default(ROUTE_DEFAULTS.dialSeconds),
        responseHeaderSeconds: seconds(3600).default(ROUTE_DEFAULTS.responseHeaderSeconds),
      })
      .prefault({}),
    tls: z.enum(TLS_MODES).default('off'),
    /** The seeds' preset (HSTS only with TLS, nosniff, frame options, referrer policy, ...). */
    securityHeaders: z.boolean().default(true),
    access: z
      .strictObject({
        allow: z.array(cidrOrIpSchema).max(256).default([]),
        deny: z.array(cidrOrIpSchema).max(256).default([]),
      })
      .prefault({}),
    basicAuth: z
      .strictObject({
        username: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be letters, digits, . _ -'),
        /** bcrypt hash ($2a$/$2b$/$2y$), as Caddy's http_basic wants it. */
        passwordHash: z.string().regex(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/, 'must be a bcrypt hash'),
      })
      .optional(),
    maxRequestBodyBytes: z
      .int()
      .min(1024)
      .max(10 * 1024 ** 3)
      .optional(),
  })
  .superRefine((route, ctx) => {
    const lb = route.loadBalancing;
    if (lb.policy === 'header' && !lb.headerField)
      ctx.addIssue({
        code: 'custom',
        path: ['loadBalancing', 'headerField'],
        message: 'is required by the header policy',
      });
    // A repeat would skew the balancing (or, for a name, only hide a mistake).
    const twice = (path: string, list: readonly string[]) =>
      list.forEach((item, i) => {
        if (list.indexOf(item) !== i)
          ctx.addIssue({ code: 'custom', path: [path, i], message: 'is listed twice' });
      });
    twice('hostnames', route.hostnames);
    twice('publicHostnames', route.publicHostnames);
    twice(
      'upstreams',
      route.upstreams.map((u) => `${u.host}:${u.port}`),
    );
    if (route.tls === 'acme' && route.publicHostnames.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['publicHostnames'],
        message: 'ACME needs at least one public name',
      });
  });

export type RouteInput = z.output<typeof routeInputSchema>;

/** PUT /api/v1/system/proxy/metrics */
export const metricsInputSchema = z.strictObject({ enabled: z.boolean() });

/** A stored route, as GET /api/v1/proxy/routes answers: the input plus identity and provenance. */
export interface Route extends RouteInput {
  /** Stable id: the first hostname. */
  id: string;
  /** Who made it: the API, an app deploy, or discovery of a tagged container. */
  source: 'api' | 'app' | 'discovered';
}

/** Global proxy settings. */
export interface ProxySettings {
  /** The LAN domain (from the network settings): hostnames are served as <name>.<domain>. */
  domain: string;
  /** Expose Caddy's Prometheus metrics (served through our API, never on the network). */
  metrics: boolean;
}
