import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { RESERVED_HOSTNAMES } from '../../contract/rules.js';
import { errorHandler } from '../../core/http/error-handler.js';
import { createLogger } from '../../core/logger.js';
import type { Caller } from '../auth/service.js';
import { AuthService } from '../auth/service.js';
import { appRoutes } from './routes.js';
import { AppsService } from './service.js';

/**
 * Adopting under the container's own hostname holds that name to the contract's app-name
 * rule, reserved names included (a container called `proxy` would otherwise take over the
 * proxy's own DNS name). The routes run in-process over HTTP against fakes of PVE and the
 * network that answer what the adopt path asks.
 */
describe('POST /apps/adopt', () => {
  let url = '';
  let server: ReturnType<ReturnType<typeof express>['listen']>;
  let ctHostname = 'proxy';
  const inserted: string[] = [];
  const healthPaths: string[] = [];

  before(async () => {
    const apps = new AppsService({
      containers: {
        config: async () => ({
          hostname: ctHostname,
          net0: 'name=eth0,bridge=proximity-lan,hwaddr=BC:24:11:00:00:09,ip=dhcp',
        }),
      },
      network: {
        settings: { bridge: 'proximity-lan', domain: 'prox.local' },
        leases: () => [{ mac: 'bc:24:11:00:00:09', ip: '10.20.0.109' }],
        names: () => [],
        reservations: () => [],
      },
      proxy: {
        routes: () => [],
        create: async () => ({ applied: false, reason: 'there is no Caddy in this test' }),
      },
      pve: { node: 'pve' },
      repository: {
        get: () => undefined,
        byVmid: () => undefined,
        names: { holder: () => undefined },
        insert: (row: { hostname: string; spec: { healthCheck: { path: string } } }) => {
          inserted.push(row.hostname);
          healthPaths.push(row.spec.healthCheck.path);
        },
        delete: () => {},
      },
      audit: { append: () => {} },
    } as unknown as ConstructorParameters<typeof AppsService>[0]);
    const caller: Caller = {
      id: 'root@pam',
      userid: 'root@pam',
      method: 'ticket',
      permissions: { '/': { 'VM.Allocate': 1, 'VM.Audit': 1 } },
      credentials: {} as Caller['credentials'],
    };
    const app = express();
    app.use(express.json());
    app.use((req, _res, next) => {
      req.caller = caller;
      next();
    });
    app.use(
      appRoutes({
        apps,
        auth: Object.create(AuthService.prototype) as AuthService,
        rootfsStorage: 'local-lvm',
      }),
    );
    app.use(errorHandler(createLogger('silent')));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const adopt = async (body: object) => {
    const response = await fetch(`${url}/apps/adopt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { error?: { fields?: object } } };
  };

  it('refuses a container whose own hostname is reserved, with 400 naming hostname', async () => {
    for (const name of RESERVED_HOSTNAMES) {
      ctHostname = name;
      const answer = await adopt({ vmid: 4502, port: 8080 });
      assert.equal(answer.status, 400, `CT named ${name}: ${JSON.stringify(answer.body)}`);
      assert.match(JSON.stringify(answer.body.error?.fields), /"hostname":".*reserved/, name);
    }
    assert.deepEqual(inserted, [], 'no app row was made');
  });

  it('refuses a reserved name given in the body, with 400 naming hostname', async () => {
    ctHostname = 'fine';
    for (const name of ['proxy', 'upstream']) {
      const answer = await adopt({ vmid: 4502, port: 8080, hostname: name });
      assert.equal(answer.status, 400);
      assert.match(JSON.stringify(answer.body.error?.fields), /"hostname":".*reserved/);
    }
    assert.deepEqual(inserted, []);
  });

  it('refuses a container whose own hostname is not a host name', async () => {
    ctHostname = 'Bad_Name';
    const answer = await adopt({ vmid: 4502, port: 8080 });
    assert.equal(answer.status, 400);
    assert.ok(Object.hasOwn(answer.body.error?.fields ?? {}, 'hostname'));
  });

  it('gets past the name check for a usable name (and the old health_path spelling)', async () => {
    ctHostname = 'adoptee';
    // The fake proxy stores the route but cannot make it live: 503 after the row was made
    // (and removed again), so the name and the body were accepted.
    const answer = await adopt({ vmid: 4502, port: 8080, health_path: '/health' });
    assert.equal(answer.status, 503, JSON.stringify(answer.body));
    assert.deepEqual(inserted, ['adoptee']);
    assert.deepEqual(healthPaths, ['/health']);
  });
});
