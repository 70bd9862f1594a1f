import { z } from 'zod';
import { networkSettingsSchema } from '../modules/network/settings.js';
import {
  adoptInputSchema,
  allowedAppViewSchema,
  deployInputSchema,
  logsQuery,
  resourcesInputSchema,
  statsQuery,
} from './apps.js';
import { catalogQuerySchema, catalogSummarySchema } from './catalog.js';
import { errorBodySchema } from './errors.js';
import {
  nameIpInputSchema,
  namesInputSchema,
  reservationInputSchema,
  testNatInputSchema,
} from './network.js';
import { metricsInputSchema, routeInputSchema } from './proxy.js';
import { taskLogLineSchema, taskViewSchema } from './tasks.js';

/**
 * The route index: every route the service serves, with its method, path, the PVE privilege
 * it checks and the schemas of what it takes and answers. GET /api/v1/openapi.json serves
 * it as an OpenAPI document; a test holds it and the mounted routers to each other
 * (server/src/contract/routes.test.ts), so a route cannot be added to one and not the other.
 *
 * The network settings' schema still lives in its module (network/settings.ts); it moves
 * here with the next change to that file.
 */

export type Method = 'get' | 'post' | 'put' | 'delete';

/**
 * Who may call it: nobody needs to log in (`public`), any logged-in caller (`authenticated`),
 * or PVE privileges (all of them) on a path; `{vmid}` is the app's container.
 */
export type Access = 'public' | 'authenticated' | { privileges: readonly string[]; on: string };

export interface RouteSpec {
  method: Method;
  /** Express's form, under `/api/v1` unless `public` (`/apps/:hostname`). */
  path: string;
  summary: string;
  access: Access;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The `data` of a successful answer, where the contract describes it. */
  answer?: z.ZodType;
}

const sysAudit = { privileges: ['Sys.Audit'], on: '/' } as const;
const sysModify = { privileges: ['Sys.Modify'], on: '/' } as const;
const vmsAudit = { privileges: ['VM.Audit'], on: '/vms' } as const;
const onApp = (...privileges: string[]) => ({ privileges, on: '/vms/{vmid}' });

const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const r = (
  method: Method,
  path: string,
  access: Access,
  summary: string,
  schemas: Pick<RouteSpec, 'body' | 'query' | 'answer'> = {},
): RouteSpec => ({ method, path, access, summary, ...schemas });

/** Served at the root, outside /api/v1. */
export const PUBLIC_ROUTES: readonly RouteSpec[] = [
  r('get', '/health', 'public', 'liveness: answers while the process serves HTTP'),
  r('get', '/status', 'public', 'version, uptime, store and each component’s health (shared, with its age)'),
];

export const API_ROUTES: readonly RouteSpec[] = [
  r('get', '/openapi.json', 'authenticated', 'this document'),

  r('get', '/apps', vmsAudit, 'the apps the caller may see (VM.Audit on each container)', {
    answer: z.array(allowedAppViewSchema),
  }),
  r(
    'post',
    '/apps',
    { privileges: ['VM.Allocate', 'Datastore.AllocateSpace'], on: '/vms, /storage/{rootfsStorage}' },
    'deploy a catalog entry (a task)',
    { body: deployInputSchema },
  ),
  r(
    'post',
    '/apps/adopt',
    { privileges: ['VM.Allocate'], on: '/vms/{vmid}' },
    'make a LAN container an app',
    {
      body: adoptInputSchema,
      answer: allowedAppViewSchema.omit({ allowed: true }),
    },
  ),
  r('get', '/apps/:hostname', onApp('VM.Audit'), 'one app, with its spec'),
  r('delete', '/apps/:hostname', onApp('VM.Allocate'), 'delete an app (a task)'),
  r('post', '/apps/:hostname/start', onApp('VM.PowerMgmt'), 'start its container'),
  r('post', '/apps/:hostname/stop', onApp('VM.PowerMgmt'), 'shut its container down'),
  r('post', '/apps/:hostname/restart', onApp('VM.PowerMgmt'), 'reboot its container'),
  r('put', '/apps/:hostname/resources', onApp('VM.Config.CPU', 'VM.Config.Memory'), 'change cores, memory', {
    body: resourcesInputSchema,
  }),
  r('get', '/apps/:hostname/logs', onApp('VM.Audit'), 'its log', { query: logsQuery }),
  r('get', '/apps/:hostname/stats', onApp('VM.Audit'), 'PVE’s figures and RRD data', { query: statsQuery }),
  r('get', '/apps/:hostname/commands', onApp('VM.Audit'), 'its safe commands'),
  r('post', '/apps/:hostname/commands/:name', onApp('VM.Console'), 'run one safe command'),
  r('post', '/apps/:hostname/secrets', onApp('VM.Allocate'), 'its generated secrets, once'),

  r('get', '/catalog', vmsAudit, 'catalog summaries', {
    query: catalogQuerySchema,
    answer: z.array(catalogSummarySchema),
  }),
  r('get', '/catalog/problems', sysAudit, 'files that gave no entry'),
  r('post', '/catalog/reload', sysModify, 'read the catalog directories again'),
  r('get', '/catalog/:id', vmsAudit, 'one manifest and its file'),

  r('get', '/tasks', sysAudit, 'tasks, newest first', { query: pageQuery, answer: z.array(taskViewSchema) }),
  r('get', '/tasks/:id', sysAudit, 'one task', { answer: taskViewSchema }),
  r('get', '/tasks/:id/logs', sysAudit, 'its log lines', { answer: z.array(taskLogLineSchema) }),
  r('post', '/tasks/:id/cancel', sysModify, 'cancel it'),
  r('get', '/tasks/:id/events', sysAudit, 'its progress as server-sent events'),

  r('get', '/audit', sysAudit, 'the audit log', { query: pageQuery }),

  r('get', '/routes', sysAudit, 'reverse-proxy routes'),
  r('get', '/routes/:id', sysAudit, 'one route'),
  r('post', '/routes', sysModify, 'add a route', { body: routeInputSchema }),
  r('put', '/routes/:id', sysModify, 'replace a route', { body: routeInputSchema }),
  r('delete', '/routes/:id', sysModify, 'delete a route'),
  r('post', '/system/proxy/discover', sysModify, 'route tagged containers'),
  r('get', '/system/proxy/status', sysAudit, 'Caddy’s state'),
  r('put', '/system/proxy/metrics', sysModify, 'turn Caddy’s metrics on or off', {
    body: metricsInputSchema,
  }),
  r('get', '/system/proxy/metrics', sysAudit, 'Caddy’s Prometheus metrics'),
  r('get', '/system/proxy/ca.crt', sysAudit, 'Caddy’s internal CA certificate'),

  r('get', '/system/network/status', sysAudit, 'bridge, DHCP/DNS, NAT, appliance and package cache'),
  r('post', '/system/network/initialize', sysModify, 'set the network up'),
  r('post', '/system/network/rebuild-bridge', sysModify, 'rewrite and reload the bridge'),
  r(
    'get',
    '/system/infrastructure/status',
    sysAudit,
    'placement, health, WAN address (shared, with its age)',
  ),
  r('post', '/system/infrastructure/retry', sysModify, 'reconcile now'),
  r('post', '/system/infrastructure/appliance/restart', sysModify, 'restart the appliance'),
  r('get', '/system/infrastructure/appliance/logs', sysAudit, 'the appliance’s log', { query: logsQuery }),
  r('get', '/system/infrastructure/events', sysAudit, 'the reconciler’s events'),
  r('post', '/system/infrastructure/test-nat', sysModify, 'reach a target through NAT', {
    body: testNatInputSchema,
  }),
  r('get', '/network/settings', sysAudit, 'the network settings'),
  r('put', '/network/settings', sysModify, 'change the network settings', { body: networkSettingsSchema }),
  r('get', '/network/leases', sysAudit, 'DHCP leases'),
  r('get', '/network/reservations', sysAudit, 'DHCP reservations'),
  r('post', '/network/reservations', sysModify, 'reserve an address', { body: reservationInputSchema }),
  r('delete', '/network/reservations/:mac', sysModify, 'drop a reservation'),
  r('get', '/network/names', sysAudit, 'DNS names'),
  r('post', '/network/names', sysModify, 'add DNS names', { body: namesInputSchema }),
  r('put', '/network/names/:hostname', sysModify, 'point a DNS name elsewhere', { body: nameIpInputSchema }),
  r('delete', '/network/names/:hostname', sysModify, 'drop a DNS name'),
];

const json = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' });

/** The index as an OpenAPI 3.0 document. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const add = (spec: RouteSpec, prefix: string) => {
    const path = prefix + spec.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters = [...spec.path.matchAll(/:([A-Za-z]+)/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = spec.query ? (json(spec.query) as { properties?: Record<string, unknown> }) : undefined;
    for (const [name, schema] of Object.entries(query?.properties ?? {}))
      parameters.push({ name, in: 'query', required: false, schema: schema as { type: string } });
    const access = spec.access;
    (paths[path] ??= {})[spec.method] = {
      summary: spec.summary,
      'x-proximity-access':
        typeof access === 'string' ? access : { privileges: [...access.privileges], on: access.on },
      ...(access === 'public' ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(spec.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: json(spec.body) } } } }
        : {}),
      responses: {
        default: {
          description: 'an error',
          content: { 'application/json': { schema: json(errorBodySchema) } },
        },
        '2XX': {
          description: 'success',
          ...(spec.answer
            ? {
                content: {
                  'application/json': { schema: json(z.object({ data: spec.answer })) },
                },
              }
            : {}),
        },
      },
    };
  };
  for (const spec of PUBLIC_ROUTES) add(spec, '');
  for (const spec of API_ROUTES) add(spec, '/api/v1');
  return {
    openapi: '3.0.3',
    info: { title: 'Proximity', version },
    components: {
      securitySchemes: {
        ticket: { type: 'apiKey', in: 'cookie', name: 'PVEAuthCookie' },
        token: { type: 'apiKey', in: 'header', name: 'Authorization' },
      },
    },
    security: [{ ticket: [] }, { token: [] }],
    paths,
  };
}
