/**
 * Names are unique across kinds (issue 19, defect 5), through the real service's API: an
 * app's name, a route's hostname, a DNS name, a reservation's hostname and Proximity's own
 * names. Each refusal is a 409 in our error shape naming the field and the kind holding it,
 * and stores nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppRepository } from '../../server/src/modules/apps/repository.js';
import { startHarness, type Harness } from '../support/api-harness.js';

const spec = {
  catalog: null,
  template: null,
  resources: { cores: 1, memoryMb: 64, diskGb: 1, unprivileged: true, nesting: false },
  port: { port: 80, protocol: 'http' as const },
  healthCheck: { path: '/', timeoutSeconds: 30 },
  install: [],
  env: {},
  secretKeys: [],
  safeCommands: [],
};

describe('one name, one holder, across kinds (API)', () => {
  let h: Harness;
  let apps: AppRepository;
  let mac = 0;
  const nextMac = () => `BC:24:11:AB:00:${(++mac).toString(16).padStart(2, '0')}`;

  before(async () => {
    h = await startHarness();
    apps = new AppRepository(h.service.store.db);
  });
  after(() => h?.close());

  /** Makes `name` held by `kind`, as a user or a deploy would. */
  async function hold(kind: string, name: string): Promise<void> {
    if (kind === 'app')
      apps.insert({
        hostname: name,
        catalogId: null,
        node: 'pve1',
        state: 'ready',
        taskId: null,
        spec,
        owner: 'root@pam',
      });
    else if (kind === 'route') {
      const answer = await h.call('POST', '/routes', {
        hostnames: [name],
        upstreams: [{ host: '10.20.0.9', port: 80 }],
      });
      assert.equal(answer.status, 201, JSON.stringify(answer.error));
    } else if (kind === 'dns') {
      const answer = await h.call('PUT', `/network/names/${name}`, { ip: '10.20.0.40' });
      assert.equal(answer.status, 200, JSON.stringify(answer.error));
    } else if (kind === 'reservation') {
      const answer = await h.call('POST', '/network/reservations', { mac: nextMac(), hostname: name });
      assert.equal(answer.status, 201, JSON.stringify(answer.error));
    }
  }

  /** Every way of claiming `name` by kind: the request, and the field the 409 must name. */
  const claims: Record<string, (name: string) => [Promise<Awaited<ReturnType<Harness['call']>>>, string][]> =
    {
      route: (name) => [
        [
          h.call('POST', '/routes', { hostnames: [name], upstreams: [{ host: '10.20.0.9', port: 80 }] }),
          'hostnames.0',
        ],
      ],
      dns: (name) => [
        [h.call('PUT', `/network/names/${name}`, { ip: '10.20.0.50' }), 'hostname'],
        [
          h.call('POST', '/network/names', { names: [{ hostname: name, ip: '10.20.0.51' }] }),
          'names.0.hostname',
        ],
      ],
      reservation: (name) => [
        [h.call('POST', '/network/reservations', { mac: nextMac(), hostname: name }), 'hostname'],
      ],
    };

  it("refuses a DNS name that is an app's name: the issue's repro", async () => {
    await hold('app', 'wiki');
    const answer = await h.call('PUT', '/network/names/wiki', { ip: '10.20.0.50' });
    assert.equal(answer.status, 409, JSON.stringify(answer));
    assert.equal(answer.error!.code, 'conflict');
    assert.match(answer.error!.fields!.hostname!, /the app wiki \(kind app\)/);
    assert.match(answer.error!.message, /wiki is already taken by the app wiki/);
    const names = (await h.call('GET', '/network/names')).data as { hostname: string }[];
    assert.ok(!names.some((n) => n.hostname === 'wiki'), 'a second A record for wiki was stored');
  });

  for (const holder of ['app', 'route', 'dns', 'reservation', 'reserved', 'appliance'])
    for (const claimant of Object.keys(claims))
      it(`refuses a ${claimant} claim on a name ${holder === 'reserved' || holder === 'appliance' ? `Proximity keeps (${holder})` : `a ${holder} holds`}`, async () => {
        const name =
          holder === 'reserved'
            ? 'gateway'
            : holder === 'appliance'
              ? 'proximity-appliance'
              : `${holder}-${claimant}`;
        await hold(holder, name);
        const before = h.service.store.db.prepare('SELECT name, kind, owner FROM names ORDER BY name').all();
        for (const [pending, field] of claims[claimant]!(name)) {
          const answer = await pending;
          // A DNS name is re-pointed by its own kind: that is not a conflict.
          if (holder === 'dns' && claimant === 'dns') {
            assert.equal(answer.status, 200, JSON.stringify(answer.error));
            continue;
          }
          assert.equal(answer.status, 409, `${claimant} took ${holder}'s ${name}: ${JSON.stringify(answer)}`);
          assert.equal(answer.error!.code, 'conflict');
          assert.match(
            answer.error!.fields?.[field] ?? '',
            new RegExp(`kind ${holder}`),
            JSON.stringify(answer.error),
          );
        }
        assert.deepEqual(
          h.service.store.db.prepare('SELECT name, kind, owner FROM names ORDER BY name').all(),
          before,
        );
      });

  it('refuses an app on a name another kind holds, and frees a name when its holder goes', async () => {
    await hold('route', 'later-app');
    assert.throws(
      () =>
        apps.insert({
          hostname: 'later-app',
          catalogId: null,
          node: 'pve1',
          state: 'ready',
          taskId: null,
          spec,
          owner: 'x',
        }),
      (error: { status: number; fields: Record<string, string> }) =>
        error.status === 409 && /kind route/.test(error.fields.hostname ?? ''),
    );
    assert.equal((await h.call('DELETE', '/routes/later-app')).status, 200);
    await hold('dns', 'later-app');
    assert.equal((await h.call('DELETE', '/network/names/later-app')).status, 200);
    await hold('reservation', 'later-app');
    const reservation = (
      (await h.call('GET', '/network/reservations')).data as { mac: string; hostname: string }[]
    ).find((r) => r.hostname === 'later-app')!;
    assert.equal((await h.call('DELETE', `/network/reservations/${reservation.mac}`)).status, 200);
    await hold('app', 'later-app');
  });

  it("lets an app's own route serve the app's name, and keeps the name the app's", async () => {
    await hold('app', 'own');
    const proxy = await import('../../server/src/modules/proxy/repository.js');
    const routes = new proxy.ProxyRepository(h.service.store.db);
    const { routeInputSchema } = await import('../../server/src/contract/proxy.js');
    const route = {
      ...routeInputSchema.parse({ hostnames: ['own'], upstreams: [{ host: '10.20.0.7', port: 80 }] }),
      id: 'own',
      source: 'app' as const,
    };
    routes.insert(route);
    routes.delete('own');
    const holder = h.service.store.db.prepare("SELECT kind, owner FROM names WHERE name = 'own'").get();
    assert.deepEqual({ ...(holder as object) }, { kind: 'app', owner: 'own' });
    // A user's route on it is still refused.
    assert.equal(
      (await h.call('POST', '/routes', { hostnames: ['own'], upstreams: [{ host: '10.20.0.9', port: 80 }] }))
        .status,
      409,
    );
  });
});
