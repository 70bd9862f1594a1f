// Over 350 lines on purpose: one case per feature of the renderer, each against its golden file.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fieldErrors } from '../../../core/http/validate.js';
import { routeInputSchema, type Route } from '../../../contract/proxy.js';
import {
  isDynamicRoute,
  partitionRoutes,
  renderCaddyConfig,
  renderCaddyJson,
  type CaddyInput,
  type CaddySite,
} from './caddy.js';

/** `caddy hash-password --plaintext 'correct horse'` */
const BCRYPT_SECRET = '$2a$14$7VcjvkKMrG11N6D4ESiHcethgq5ueQ79p4FfjzmW2tCk6ccfnamHW';

/** A stored route as the repository gives it: validated input, id = first hostname. */
function route(input: Record<string, unknown>): Route {
  const parsed = routeInputSchema.parse(input);
  return { ...parsed, id: parsed.hostnames[0]!, source: 'api' };
}

const site: CaddySite = {
  adminSocket: '/var/lib/proximity/caddy/admin.sock',
  dataDir: '/var/lib/proximity/caddy/data',
  resolver: '10.20.0.1:53',
};
const settings = { domain: 'prox.local', metrics: false };

const dynamicRoutes = [
  route({
    hostnames: ['wiki', 'docs-wiki'],
    upstreams: [
      { host: '10.20.0.101', port: 8080 },
      { host: '10.20.0.102', port: 8080 },
    ],
  }),
  route({
    hostnames: ['blog'],
    upstreams: [{ host: '10.20.0.103', port: 2368 }],
  }),
];

/** One route per feature (and one dynamic route, which must not show). */
const mixRoutes = [
  dynamicRoutes[0]!,
  route({
    hostnames: ['shop'],
    upstreams: [
      { host: '10.20.0.111', port: 3000 },
      { host: '10.20.0.110', port: 3000 },
    ],
    loadBalancing: { policy: 'cookie', cookieName: 'shop_lb' },
  }),
  route({
    hostnames: ['api'],
    upstreams: [
      { host: '10.20.0.120', port: 9000 },
      { host: '10.20.0.121', port: 9000 },
    ],
    loadBalancing: { policy: 'header', headerField: 'X-Tenant', tryDurationSeconds: 0 },
  }),
  route({
    hostnames: ['grafana'],
    upstreams: [{ host: '10.20.0.130', port: 3000 }],
    healthChecks: {
      active: { path: '/api/health', intervalSeconds: 15, timeoutSeconds: 2.5, expectStatus: 200 },
      passive: { maxFails: 3, failDurationSeconds: 30, unhealthyStatus: [503, 502] },
    },
    timeouts: { dialSeconds: 1, responseHeaderSeconds: 300 },
  }),
  route({
    hostnames: ['backup'],
    upstreams: [
      { host: '10.20.0.140', port: 8080 },
      { host: '10.20.0.139', port: 8080 },
    ],
    loadBalancing: { policy: 'first' },
  }),
  route({
    hostnames: ['admin'],
    upstreams: [{ host: '10.20.0.150', port: 80 }],
    access: { allow: ['192.168.1.0/24', '10.20.0.0/24'], deny: ['192.168.1.66'] },
  }),
  route({
    hostnames: ['docs'],
    upstreams: [{ host: '10.20.0.160', port: 80 }],
    basicAuth: { username: 'reader', passwordHash: BCRYPT_SECRET },
  }),
  route({
    hostnames: ['upload'],
    upstreams: [{ host: '10.20.0.170', port: 80 }],
    maxRequestBodyBytes: 10 * 1024 * 1024,
  }),
  route({
    hostnames: ['vault'],
    publicHostnames: ['vault.home.example.org'],
    upstreams: [{ host: '10.20.0.180', port: 8200 }],
    tls: 'internal',
  }),
  route({
    hostnames: ['www'],
    publicHostnames: ['example.org', 'www.example.org'],
    upstreams: [{ host: '10.20.0.190', port: 80 }],
    tls: 'acme',
  }),
  route({
    hostnames: ['legacy'],
    upstreams: [{ host: '10.20.0.195', port: 80 }],
    securityHeaders: false,
  }),
  route({
    hostnames: ['status'],
    publicHostnames: ['status.example.org'],
    upstreams: [{ host: '10.20.0.196', port: 80 }],
  }),
];

const caddyInputs = {
  dynamic: { routes: dynamicRoutes, settings, site },
  mix: { routes: mixRoutes, settings, site },
  metrics: { routes: dynamicRoutes, settings: { ...settings, metrics: true }, site },
} satisfies Record<string, CaddyInput>;

const goldenDir = path.join(import.meta.dirname, 'golden');

/** Compares with the golden file; `UPDATE_GOLDEN=1 npm run test:unit` rewrites them after a reviewed change. */
function assertGolden(name: string, actual: string): void {
  const file = path.join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from its golden file`);
}

/** The server's routes of a rendered document. */
function serverRoutes(input: CaddyInput): { match?: { host?: string[] }[] }[] {
  const config = JSON.parse(renderCaddyJson(input)) as {
    apps: { http: { servers: { proximity: { routes: { match?: { host?: string[] }[] }[] } } } };
  };
  return config.apps.http.servers.proximity.routes;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe('Caddy renderer', () => {
  it('renders only the catch-all when every route is dynamic', () => {
    const json = renderCaddyJson(caddyInputs.dynamic);
    assertGolden('dynamic.json', json);
    const routes = serverRoutes(caddyInputs.dynamic);
    assert.equal(routes.length, 2, 'the catch-all and the unknown-host answer');
    assert.deepEqual(routes[0]!.match, [{ host: ['*.prox.local'] }]);
    assert.doesNotMatch(json, /10\.20\.0\.1[0-9]{2}/, 'no upstream address in the document');
    assert.match(json, /"name": "\{http\.request\.host\.labels\.2\}\.upstream\.prox\.local"/);
  });

  it('renders each feature of an explicit route', () => {
    const json = renderCaddyJson(caddyInputs.mix);
    assertGolden('mix.json', json);
    const hosts = serverRoutes(caddyInputs.mix).map((r) => r.match?.[0]?.host?.join(' '));
    assert.deepEqual(
      hosts,
      [
        'admin.prox.local',
        'api.prox.local',
        'backup.prox.local',
        'docs.prox.local',
        'grafana.prox.local',
        'legacy.prox.local',
        'shop.prox.local',
        'status.example.org status.prox.local',
        'upload.prox.local',
        'vault.home.example.org vault.prox.local',
        'example.org www.example.org www.prox.local',
        '*.prox.local',
        undefined,
      ],
      'explicit routes by id, then the catch-all, then the unknown-host answer',
    );
    assert.doesNotMatch(json, /wiki/, 'the dynamic route is not rendered');
  });

  it('turns on HTTP metrics for the admin socket only, not on :80 or :443', () => {
    const json = renderCaddyJson(caddyInputs.metrics);
    assertGolden('metrics.json', json);
    const config = renderCaddyConfig(caddyInputs.metrics) as {
      apps: { http: { servers: Record<string, { metrics?: object; listen: string[] }> } };
    };
    assert.deepEqual(Object.keys(config.apps.http.servers), ['proximity'], 'no metrics listener');
    assert.deepEqual(config.apps.http.servers.proximity!.metrics, {});
    assert.doesNotMatch(json, /"handler": "metrics"/);
    assert.match(json, /"listen": "unix\/\/var\/lib\/proximity\/caddy\/admin\.sock"/);
  });

  it('gives the same bytes whatever the order of routes, names, ranges and upstreams', () => {
    const expected = renderCaddyJson(caddyInputs.mix);
    for (let seed = 1; seed <= 20; seed++) {
      const routes = shuffled(caddyInputs.mix.routes, seed).map((r) => ({
        ...r,
        publicHostnames: shuffled(r.publicHostnames, seed),
        access: { allow: shuffled(r.access.allow, seed), deny: shuffled(r.access.deny, seed) },
        upstreams: r.loadBalancing.policy === 'first' ? r.upstreams : shuffled(r.upstreams, seed),
      }));
      assert.equal(renderCaddyJson({ ...caddyInputs.mix, routes }), expected, `seed ${seed}`);
    }
  });

  it('keeps the order of upstreams for the first policy: it is the order of preference', () => {
    const backup = caddyInputs.mix.routes.find((r) => r.id === 'backup')!;
    const reversed = { ...backup, upstreams: [...backup.upstreams].reverse() };
    const dials = (r: Route) =>
      JSON.stringify(serverRoutes({ ...caddyInputs.mix, routes: [r] })[0]).match(/"dial":"[^"]+"/g);
    assert.deepEqual(dials(backup), ['"dial":"10.20.0.140:8080"', '"dial":"10.20.0.139:8080"']);
    assert.deepEqual(dials(reversed), ['"dial":"10.20.0.139:8080"', '"dial":"10.20.0.140:8080"']);
  });

  it('never changes the document when dynamic routes come, go or scale', () => {
    const explicit = caddyInputs.mix.routes.filter((r) => !isDynamicRoute(r));
    const expected = renderCaddyJson({ ...caddyInputs.mix, routes: explicit });
    const more = [
      route({ hostnames: ['new'], upstreams: [{ host: '10.20.0.200', port: 3000 }] }),
      route({
        hostnames: ['scaled', 'scaled-alias'],
        upstreams: [10, 11, 12].map((n) => ({ host: `10.20.0.2${n}`, port: 8000 })),
      }),
    ];
    assert.equal(renderCaddyJson({ ...caddyInputs.mix, routes: [...explicit, ...more] }), expected);
    assert.equal(
      renderCaddyJson({ ...caddyInputs.mix, routes: [...caddyInputs.mix.routes, ...more] }),
      expected,
    );
  });

  it('is never empty: no routes still give the admin socket, the catch-all and the CA', () => {
    const config = renderCaddyConfig({ routes: [], settings, site }) as {
      admin: object;
      apps: { http: { servers: { proximity: { routes: unknown[] } } }; pki: object; tls: object };
    };
    assert.deepEqual(config.admin, { listen: `unix/${site.adminSocket}`, config: { persist: false } });
    assert.equal(config.apps.http.servers.proximity.routes.length, 2);
    assert.ok(config.apps.tls && config.apps.pki);
  });

  it('counts the labels of the domain for the upstream name', () => {
    const json = renderCaddyJson({
      routes: [],
      settings: { domain: 'apps.lab.example.org', metrics: false },
      site,
    });
    assert.match(json, /"name": "\{http\.request\.host\.labels\.4\}\.upstream\.apps\.lab\.example\.org"/);
    assert.match(json, /"\*\.apps\.lab\.example\.org"/);
  });
});

describe('isDynamicRoute', () => {
  const base = { hostnames: ['wiki'], upstreams: [{ host: '10.20.0.101', port: 8080 }] };
  const cases: [string, Record<string, unknown>, boolean][] = [
    ['defaults', {}, true],
    ['two names, two upstreams', { hostnames: ['wiki', 'w'], upstreams: [{ host: '10.20.0.101', port: 80 }, { host: '10.20.0.102', port: 81 }] }, true],
    ['a passive check, even with the default values', { healthChecks: { passive: { maxFails: 3, failDurationSeconds: 10 } } }, false],
    ['securityHeaders true, spelt out', { securityHeaders: true, tls: 'off' }, true],
    ['a public name', { publicHostnames: ['wiki.example.org'] }, false],
    ['tls internal', { tls: 'internal' }, false],
    ['tls acme', { tls: 'acme', publicHostnames: ['wiki.example.org'] }, false],
    ['no security headers', { securityHeaders: false }, false],
    ['least_conn', { loadBalancing: { policy: 'least_conn' } }, false],
    ['cookie', { loadBalancing: { policy: 'cookie' } }, false],
    ['another try duration', { loadBalancing: { tryDurationSeconds: 10 } }, false],
    ['no retries', { loadBalancing: { tryDurationSeconds: 0 } }, false],
    ['another try interval', { loadBalancing: { tryIntervalMs: 100 } }, false],
    ['an active check', { healthChecks: { active: { path: '/health' } } }, false],
    ['another passive max_fails', { healthChecks: { passive: { maxFails: 2 } } }, false],
    ['another passive fail duration', { healthChecks: { passive: { failDurationSeconds: 30 } } }, false],
    ['passive unhealthy statuses', { healthChecks: { passive: { unhealthyStatus: [502] } } }, false],
    ['another dial timeout', { timeouts: { dialSeconds: 5 } }, false],
    ['another response timeout', { timeouts: { responseHeaderSeconds: 300 } }, false],
    ['an allow list', { access: { allow: ['10.0.0.0/8'] } }, false],
    ['a deny list', { access: { deny: ['10.0.0.1'] } }, false],
    ['basic auth', { basicAuth: { username: 'bob', passwordHash: BCRYPT_SECRET } }, false],
    ['a body limit', { maxRequestBodyBytes: 1 << 20 }, false],
    ['two ports on one address', { upstreams: [{ host: '10.20.0.101', port: 80 }, { host: '10.20.0.101', port: 81 }] }, false],
  ]; // prettier-ignore
  for (const [name, change, expected] of cases) {
    it(`${name}: ${expected ? 'dynamic' : 'rendered'}`, () => {
      assert.equal(isDynamicRoute(route({ ...base, ...change })), expected);
    });
  }

  it('renders a dynamic route after all when another route dials its address on another port', () => {
    const a = route({ hostnames: ['a'], upstreams: [{ host: '10.20.0.101', port: 8080 }] });
    const b = route({ hostnames: ['b'], upstreams: [{ host: '10.20.0.101', port: 9090 }] });
    const c = route({ hostnames: ['c'], upstreams: [{ host: '10.20.0.102', port: 8080 }] });
    const d = route({
      hostnames: ['d'],
      upstreams: [{ host: '10.20.0.102', port: 8080 }],
      maxRequestBodyBytes: 4096,
    });
    const { dynamic, explicit } = partitionRoutes([a, b, c, d]);
    assert.deepEqual(
      dynamic.map((r) => r.id),
      ['c'],
      'one port per address: c shares 10.20.0.102:8080 with d',
    );
    assert.deepEqual(
      explicit.map((r) => r.id),
      ['a', 'b', 'd'],
    );
    const hosts = serverRoutes({ routes: [a, b, c, d], settings, site }).map((r) => r.match?.[0]?.host?.[0]);
    assert.deepEqual(hosts, ['a.prox.local', 'b.prox.local', 'd.prox.local', '*.prox.local', undefined]);
  });
});

describe('route validation', () => {
  function refused(input: Record<string, unknown>): Record<string, string> {
    const result = routeInputSchema.safeParse({
      hostnames: ['wiki'],
      upstreams: [{ host: '10.20.0.101', port: 8080 }],
      ...input,
    });
    assert.equal(result.success, false, `accepted ${JSON.stringify(input)}`);
    return fieldErrors(result.error!);
  }

  it('names the field of each bad input', () => {
    assert.ok('hostnames.0' in refused({ hostnames: ['wi"ki'] }));
    assert.ok('hostnames.0' in refused({ hostnames: ['{http.request.host}'] }));
    assert.ok('publicHostnames.0' in refused({ publicHostnames: ['a.example.org"}'] }));
    assert.ok('loadBalancing.headerField' in refused({ loadBalancing: { policy: 'header', headerField: 'X Tenant' } }));
    assert.ok('loadBalancing.headerField' in refused({ loadBalancing: { policy: 'header' } }), 'header without field');
    assert.ok('upstreams.0.port' in refused({ upstreams: [{ host: '10.20.0.101', port: 70000 }] }));
    const many = Array.from({ length: 10_000 }, (_, i) => ({ host: '10.20.0.101', port: 1 + i }));
    assert.ok('upstreams' in refused({ upstreams: many }));
    assert.ok('loadBalancing.policy' in refused({ loadBalancing: { policy: 'weighted_round_robin' } }));
    assert.ok('upstreams.1' in refused({ upstreams: [{ host: '10.20.0.101', port: 80 }, { host: '10.20.0.101', port: 80 }] }));
    assert.ok('hostnames.1' in refused({ hostnames: ['wiki', 'wiki'] }));
    assert.ok('timeouts.dialSeconds' in refused({ timeouts: { dialSeconds: 0.0001 } }), 'below a millisecond');
    assert.ok('healthChecks.active.path' in refused({ healthChecks: { active: { path: '/{http.vars}' } } }));
    assert.ok('basicAuth.passwordHash' in refused({ basicAuth: { username: 'bob', passwordHash: 'plain' } }));
    assert.ok('access.allow.0' in refused({ access: { allow: ['10.0.0.0/8 } ]'] } }));
    assert.ok('publicHostnames' in refused({ tls: 'acme' }), 'ACME without a public name');
  }); // prettier-ignore

  it('the renderer checks again, and refuses what no route may hold', () => {
    const good = route({ hostnames: ['wiki'], upstreams: [{ host: '10.20.0.101', port: 8080 }] });
    const render = (routes: Route[], more: Partial<CaddyInput> = {}) =>
      renderCaddyJson({ routes, settings, site, ...more });
    const bypassed = { ...good, hostnames: ['wi"ki'] };
    assert.throws(() => render([bypassed]), /invalid route "wiki": hostnames\.0 /);
    assert.throws(
      () => render([{ ...good, upstreams: [{ host: 'wiki-1', port: 80 }] }]),
      /upstreams\.0\.host must be an IPv4 address/,
      'an unresolved LAN name',
    );
    assert.throws(() => render([{ ...good, id: '{x}' }]), /id must be a hostname/);
    assert.throws(() => render([{ ...good, extra: 1 } as Route]), /extra is not a known field/);
    assert.throws(
      () => render([good, { ...good, id: 'other', hostnames: ['other', 'wiki'] }]),
      /wiki\.prox\.local is served by both routes wiki and other/,
    );
    assert.throws(() => render([good, good]), /two routes have the id wiki/);
    assert.throws(
      () => render([], { settings: { domain: 'prox.local"', metrics: false } }),
      /invalid proxy domain/,
    );
    assert.throws(() => render([], { site: { ...site, adminSocket: 'admin.sock' } }), /adminSocket/);
    assert.throws(() => render([], { site: { ...site, dataDir: '/var/lib/../etc' } }), /dataDir/);
    assert.throws(() => render([], { site: { ...site, resolver: '10.20.0.1:53"' } }), /resolver/);
    assert.throws(() => render([], { site: { ...site, resolver: '10.20.0.1:70000' } }), /resolver/);
  });
});
