/**
 * The reverse proxy on the rig: the real Caddy 2.6.2 inside the real appliance, apps in
 * real containers, requests from another container on proximity-lan, as a user's would go.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/src/core/logger.js';
import { CaddyService } from '../../server/src/modules/proxy/caddy.js';
import { ApplianceSite } from '../../server/src/modules/network/site/appliance.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import {
  apiClient,
  dig,
  eventually,
  inContainerNetwork,
  lanBackendConfig,
  APPLIANCE_VMID,
  startLanContainer,
  tearDownLan,
  tokenHeader,
  waitForAddress,
} from './lan.js';
import { currentRig } from './support.js';

const rig = currentRig();
const APPLIANCE = APPLIANCE_VMID;
const CT = { a1: 4401, a2: 4402, b: 4403, client: 4404, tagged: 4405 } as const;
const { config, hostDir, interfacesDir } = lanBackendConfig({ reconcileIntervalMs: 3000 });
const pve = new PveService(config, createLogger('silent'));
let service: RunningService;
let api: ReturnType<typeof apiClient>;

interface ProxyStatus {
  health: string;
  reasons: string[];
  running: boolean;
  pid?: number;
  inSync?: boolean;
  pushes: number;
  routes: number;
}
const proxyStatus = async () => (await api<ProxyStatus>('GET', '/system/proxy/status')).data;

/** A request from the client container, as a browser on the LAN would send it. */
async function get(
  host: string,
  extra: string[] = [],
  scheme = 'http',
): Promise<{ code: number; body: string }> {
  const url = scheme === 'https' ? `https://${host}/` : 'http://10.20.0.1/';
  const args =
    scheme === 'https'
      ? ['--resolve', `${host}:443:10.20.0.1`, ...extra, url]
      : ['-H', `Host: ${host}`, ...extra, url];
  const result = await inContainerNetwork(CT.client, [
    'curl',
    '-s',
    '-m',
    '5',
    '-w',
    '\n%{http_code}',
    ...args,
  ]);
  const lines = result.stdout.split('\n');
  return { code: Number(lines.pop()), body: lines.join('\n').trim() };
}

/** Each app container serves its own name on :8080 with busybox httpd. */
async function serve(vmid: number, text: string): Promise<void> {
  const result = await rig.runtime.exec(vmid, [
    'sh',
    '-c',
    `mkdir -p /srv && echo ${text} > /srv/index.html && httpd -p 8080 -h /srv`,
  ]);
  assert.equal(result.code, 0, result.stderr);
}

const route = (hostname: string, upstreams: string[], extra: Record<string, unknown> = {}) => ({
  hostnames: [hostname],
  upstreams: upstreams.map((host) => ({ host, port: 8080 })),
  ...extra,
});

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
  api = apiClient(service.url);
  const init = await api<{ health: string; reasons: string[] }>('POST', '/system/network/initialize');
  assert.equal(init.status, 200, JSON.stringify(init.error));
  for (const [name, vmid] of Object.entries(CT)) {
    if (name === 'tagged') continue;
    await startLanContainer(pve, { vmid, hostname: name === 'client' ? 'client' : `app-${name}` });
    assert.ok(await waitForAddress(vmid, 5000), `${name} got no address`);
  }
  await serve(CT.a1, 'a1');
  await serve(CT.a2, 'a2');
  await serve(CT.b, 'b');
  // The routes name their upstreams by host name: wait until the leases are in the store.
  await eventually('leases in the store', 5000, async () => {
    const leases = (await api<{ hostname: string }[]>('GET', '/network/leases')).data;
    return leases.filter((l) => l.hostname?.startsWith('app-')).length === 3 ? true : undefined;
  });
});

after(() =>
  tearDownLan({
    pve,
    stopService: async () => service?.stop(),
    vmids: [...Object.values(CT), APPLIANCE],
    hostDir,
    interfacesDir,
  }),
);

describe('the reverse proxy (Caddy in the appliance)', () => {
  it('serves each app at its name, and the name resolves to the proxy', async () => {
    assert.equal((await api('POST', '/routes', route('a', ['app-a1']))).status, 201);
    const b = await api<{ applied: boolean }>('POST', '/routes', route('b', ['app-b']));
    assert.equal(b.status, 201, JSON.stringify(b.error));
    assert.equal(b.data.applied, true);
    await eventually('a answers through the proxy', 5000, async () =>
      (await get('a.prox.local')).body === 'a1' ? true : undefined,
    );
    assert.deepEqual(await get('b.prox.local'), { code: 200, body: 'b' });
    assert.equal(await dig(CT.client, 'a.prox.local'), '10.20.0.1');
    const status = await proxyStatus();
    assert.equal(status.running, true);
    assert.equal(status.inSync, true, status.reasons.join('; '));
  });

  it('adds, scales and removes simple routes without reloading Caddy', async () => {
    const before = await proxyStatus();
    const scaled = await api('PUT', '/routes/a', route('a', ['app-a1', 'app-a2']));
    assert.equal(scaled.status, 200, JSON.stringify(scaled.error));
    const seen = new Set<string>();
    await eventually('both replicas answer', 10_000, async () => {
      seen.add((await get('a.prox.local')).body);
      return seen.has('a1') && seen.has('a2') ? true : undefined;
    });
    assert.equal((await api('POST', '/routes', route('c', ['app-b']))).status, 201);
    await eventually('c answers', 5000, async () =>
      (await get('c.prox.local')).body === 'b' ? true : undefined,
    );
    assert.equal((await api('DELETE', '/routes/c')).status, 200);
    const after = await proxyStatus();
    assert.equal(after.pushes, before.pushes, 'a simple route change reloaded Caddy');
    assert.equal(after.pid, before.pid);
  });

  it('takes a dead replica out with health checks: no failure after the detection window', async () => {
    const created = await api(
      'POST',
      '/routes',
      route('h', ['app-a1', 'app-a2'], {
        healthChecks: {
          active: { path: '/', intervalSeconds: 1, timeoutSeconds: 1 },
          passive: { maxFails: 1, failDurationSeconds: 30 },
        },
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.error));
    await eventually('h answers', 5000, async () =>
      (await get('h.prox.local')).code === 200 ? true : undefined,
    );
    await rig.runtime.exec(CT.a2, ['sh', '-c', 'kill $(pidof httpd)']);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await get('h.prox.local'));
    assert.deepEqual(new Set(answers.map((a) => `${a.code} ${a.body}`)), new Set(['200 a1']));
    await serve(CT.a2, 'a2');
  });

  it('keeps a client on one replica with the sticky cookie policy', async () => {
    const created = await api(
      'POST',
      '/routes',
      route('s', ['app-a1', 'app-a2'], { loadBalancing: { policy: 'cookie' } }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.error));
    const jar = path.join('/tmp', `proximity-jar-${process.pid}`);
    const bodies = new Set<string>();
    await eventually('s answers', 5000, async () =>
      (await get('s.prox.local')).code === 200 ? true : undefined,
    );
    for (let i = 0; i < 10; i++) bodies.add((await get('s.prox.local', ['-b', jar, '-c', jar])).body);
    assert.equal(bodies.size, 1, `the client moved between replicas: ${[...bodies].join(', ')}`);
  });

  it('serves HTTPS with the internal CA, verified against the root our API serves', async () => {
    const created = await api('POST', '/routes', route('t', ['app-b'], { tls: 'internal' }));
    assert.equal(created.status, 201, JSON.stringify(created.error));
    const ca = await eventually('the CA root is served', 10_000, async () => {
      const response = await fetch(`${service.url}/api/v1/system/proxy/ca.crt`, {
        headers: { authorization: tokenHeader() },
      });
      return response.status === 200 ? response.text() : undefined;
    });
    assert.match(ca.value, /BEGIN CERTIFICATE/);
    const pid = (await rig.runtime.initPid(CT.client))!;
    // The client container's filesystem is its own: put the root where its curl can read it.
    writeFileSync(`/proc/${pid}/root/tmp/root.crt`, ca.value);
    const answer = await eventually('HTTPS answers', 15_000, async () => {
      const result = await get('t.prox.local', ['--cacert', `/proc/${pid}/root/tmp/root.crt`], 'https');
      return result.code === 200 ? result : undefined;
    });
    assert.equal(answer.value.body, 'b');
  });

  it('refuses bad routes with the field named, and pushes nothing', async () => {
    const before = await proxyStatus();
    const cases: [unknown, string][] = [
      [route('x"y', ['app-b']), 'hostnames.0'],
      [route('x{y}', ['app-b']), 'hostnames.0'],
      [{ hostnames: ['x'], upstreams: [{ host: 'app-b', port: 70000 }] }, 'upstreams.0.port'],
      [
        { hostnames: ['x'], upstreams: Array.from({ length: 10_000 }, () => ({ host: 'app-b', port: 80 })) },
        'upstreams',
      ],
      [route('x', ['app-b'], { loadBalancing: { policy: 'weighted_round_robin' } }), 'loadBalancing.policy'],
      [
        route('x', ['app-b'], { loadBalancing: { policy: 'header', headerField: 'X Bad' } }),
        'loadBalancing.headerField',
      ],
    ];
    for (const [body, field] of cases) {
      const answer = await api('POST', '/routes', body);
      assert.equal(answer.status, 400, `accepted ${JSON.stringify(body).slice(0, 80)}`);
      assert.ok(answer.error?.fields?.[field], `${field} not named: ${JSON.stringify(answer.error?.fields)}`);
    }
    const duplicate = await api('POST', '/routes', route('a', ['app-b']));
    assert.equal(duplicate.status, 409);
    const after = await proxyStatus();
    assert.equal(after.pushes, before.pushes);
    assert.equal(after.routes, before.routes);
  });

  it('folds a burst of route changes into few Caddy pushes', async () => {
    const before = (await proxyStatus()).pushes;
    const burst = Array.from({ length: 10 }, (_, i) =>
      api('POST', '/routes', route(`burst-${i}`, ['app-b'], { loadBalancing: { policy: 'least_conn' } })),
    );
    for (const answer of await Promise.all(burst))
      assert.equal(answer.status, 201, JSON.stringify(answer.error));
    const pushes = (await proxyStatus()).pushes - before;
    console.log(`10 concurrent explicit route changes → ${pushes} Caddy pushes`);
    assert.ok(pushes <= 3, `${pushes} pushes for one burst`);
    await eventually('the last of the burst answers', 5000, async () =>
      (await get('burst-9.prox.local')).body === 'b' ? true : undefined,
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => api('DELETE', `/routes/burst-${i}`)));
  });

  it('keeps serving the old config when Caddy refuses a new one (422)', async () => {
    const site = new ApplianceSite(pve.pct(), APPLIANCE, (await rig.runtime.initPid(APPLIANCE))!);
    const caddy = new CaddyService(site);
    const before = JSON.stringify(await caddy.currentConfig());
    // What a renderer bug would send: our whole config, with one handler Caddy does not know.
    const current = JSON.parse(before) as {
      apps: { http: { servers: Record<string, { routes: unknown[] }> } };
    };
    for (const server of Object.values(current.apps.http.servers))
      server.routes.unshift({ handle: [{ handler: 'no_such_handler' }] });
    const bogus = JSON.stringify(current);
    await assert.rejects(caddy.load(bogus), (error: { status?: number; message: string }) => {
      assert.equal(error.status, 422);
      assert.match(error.message, /no_such_handler|unknown module/);
      return true;
    });
    assert.deepEqual(await get('b.prox.local'), { code: 200, body: 'b' });
    assert.equal(JSON.stringify(await caddy.currentConfig()), before, 'Caddy still runs the config it had');
    assert.equal((await proxyStatus()).inSync, true);
  });

  it('restarts a killed Caddy and pushes the routes again; nothing is lost', async () => {
    const { pid } = await proxyStatus();
    await rig.runtime.exec(APPLIANCE, ['kill', '-9', String(pid)]);
    await eventually('the gap shows', 2000, async () => ((await proxyStatus()).running ? undefined : true));
    const healed = await eventually('Caddy back', 10_000, async () => {
      const status = await proxyStatus();
      return status.running && status.inSync ? status : undefined;
    });
    console.log(`Caddy killed → serving again in ${healed.ms} ms`);
    assert.notEqual(healed.value.pid, pid);
    for (const [host, body] of [
      ['a.prox.local', undefined],
      ['b.prox.local', 'b'],
      ['s.prox.local', undefined],
    ] as const) {
      const answer = await get(host);
      assert.equal(answer.code, 200, host);
      if (body) assert.equal(answer.body, body);
    }
    assert.equal((await api<unknown[]>('GET', '/routes')).data.length, 5);
  });

  it("serves Caddy's metrics through the API only", async () => {
    assert.equal((await api('PUT', '/system/proxy/metrics', { enabled: true })).status, 200);
    const response = await fetch(`${service.url}/api/v1/system/proxy/metrics`, {
      headers: { authorization: tokenHeader() },
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /caddy_/);
    const anonymous = await fetch(`${service.url}/api/v1/system/proxy/metrics`);
    assert.equal(anonymous.status, 401);
    assert.notEqual((await get('metrics.prox.local', [], 'http')).body.includes('caddy_'), true);
  });

  it('routes a container tagged proximity + proximity-port-<n>, and drops the route with the tag', async () => {
    await startLanContainer(pve, {
      vmid: CT.tagged,
      hostname: 'tagged',
      tags: 'proximity;proximity-port-8080',
    });
    assert.ok(await waitForAddress(CT.tagged, 5000));
    await serve(CT.tagged, 'tagged');
    await eventually('its lease reaches the store', 5000, async () => {
      const leases = (await api<{ hostname: string }[]>('GET', '/network/leases')).data;
      return leases.some((l) => l.hostname === 'tagged') ? true : undefined;
    });
    const found = await api<{ changed: boolean }>('POST', '/system/proxy/discover');
    assert.equal(found.status, 200, JSON.stringify(found.error));
    const routes = (await api<{ id: string; source: string }[]>('GET', '/routes')).data;
    assert.deepEqual(routes.find((r) => r.id === 'tagged')?.source, 'discovered');
    await eventually('tagged answers', 5000, async () =>
      (await get('tagged.prox.local')).body === 'tagged' ? true : undefined,
    );

    const lxc = pve.service.api.nodes.$('pve1').lxc.$(CT.tagged);
    await lxc.config.$put({ delete: 'tags' });
    await api('POST', '/system/proxy/discover');
    const after = (await api<{ id: string }[]>('GET', '/routes')).data;
    assert.equal(
      after.some((r) => r.id === 'tagged'),
      false,
      'the route outlived its tag',
    );
  });
});
