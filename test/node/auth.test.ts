import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Router } from 'express';
import { createLogger } from '../../server/src/core/logger.js';
import type { ModuleFactory } from '../../server/src/core/module.js';
import { requirePrivilege } from '../../server/src/modules/auth/middleware.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import { backendConfig, login, RIG_TOKEN_ID, RIG_TOKEN_SECRET, simulator, type Session } from './support.js';

/** A mutating route guarded like a deploy: VM.Allocate on /vms. */
const deployProbe: ModuleFactory = ({ auth }) => {
  const router = Router();
  router.post('/probe/deploy', requirePrivilege(auth, 'VM.Allocate', '/vms'), (req, res) => {
    res.status(202).json({ caller: req.caller!.id });
  });
  return { name: 'probe', router };
};

/** A ticket signed with the node's real key, but issued three hours ago: PVE's lifetime is two. */
function expiredTicket(userid: string): string {
  const issued = Math.floor(Date.now() / 1000) - 3 * 3600;
  const plain = `PVE:${userid}:${issued.toString(16).toUpperCase().padStart(8, '0')}`;
  const key = createPrivateKey(readFileSync(simulator().authKey));
  return `${plain}::${sign('sha256', Buffer.from(plain), key).toString('base64')}`;
}

type Credentials = { cookie?: string; csrf?: string; authorization?: string };

describe('authentication through PVE: the matrix', () => {
  let service: RunningService;
  let root: Session;
  let alice: Session;
  let carol: Session;

  // Made here, not in before(): its temporary files must live as long as the whole file.
  const config = backendConfig();

  before(async () => {
    service = await startService(config, {
      logger: createLogger('silent'),
      modules: [...defaultModules, deployProbe],
    });
    [root, alice, carol] = await Promise.all([
      login('root@pam', 'rigpassword'),
      login('alice@pve', 'alicepassword'),
      login('carol@pve', 'carolpassword'),
    ]);
  });
  after(() => service.stop());

  const cookie = (session: Session) => `PVEAuthCookie=${encodeURIComponent(session.ticket)}`;

  async function call(
    route: 'read' | 'mutate',
    credentials: Credentials,
  ): Promise<{ status: number; code?: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (credentials.cookie) headers.cookie = credentials.cookie;
    if (credentials.csrf) headers.CSRFPreventionToken = credentials.csrf;
    if (credentials.authorization) headers.authorization = credentials.authorization;
    const response =
      route === 'read'
        ? await fetch(`${service.url}/api/v1/audit`, { headers })
        : await fetch(`${service.url}/api/v1/probe/deploy`, { method: 'POST', headers, body: '{}' });
    const body = (await response.json()) as { error?: { code: string } };
    return { status: response.status, ...(body.error ? { code: body.error.code } : {}) };
  }

  const cases: { name: string; credentials: () => Credentials; read: number; mutate: number }[] = [
    { name: 'no credentials', credentials: () => ({}), read: 401, mutate: 401 },
    {
      name: 'forged ticket',
      credentials: () => ({
        cookie: `PVEAuthCookie=${encodeURIComponent(root.ticket.replace(/::.{8}/, '::AAAAAAAA'))}`,
        csrf: root.csrfToken,
      }),
      read: 401,
      mutate: 401,
    },
    {
      name: 'expired ticket',
      credentials: () => ({
        cookie: `PVEAuthCookie=${encodeURIComponent(expiredTicket('root@pam'))}`,
        csrf: root.csrfToken,
      }),
      read: 401,
      mutate: 401,
    },
    {
      name: 'valid ticket without CSRF token',
      credentials: () => ({ cookie: cookie(root) }),
      read: 200,
      mutate: 401,
    },
    {
      name: "valid ticket with another user's CSRF token",
      credentials: () => ({ cookie: cookie(root), csrf: alice.csrfToken }),
      read: 200,
      mutate: 401,
    },
    {
      name: 'valid ticket lacking every privilege (carol)',
      credentials: () => ({ cookie: cookie(carol), csrf: carol.csrfToken }),
      read: 403,
      mutate: 403,
    },
    {
      name: 'valid ticket that may read but not deploy (alice)',
      credentials: () => ({ cookie: cookie(alice), csrf: alice.csrfToken }),
      read: 200,
      mutate: 403,
    },
    {
      name: 'valid API token',
      credentials: () => ({ authorization: `PVEAPIToken=${RIG_TOKEN_ID}=${RIG_TOKEN_SECRET}` }),
      read: 200,
      mutate: 202,
    },
    {
      name: 'API token with a wrong secret',
      credentials: () => ({
        authorization: `PVEAPIToken=${RIG_TOKEN_ID}=00000000-0000-0000-0000-000000000000`,
      }),
      read: 401,
      mutate: 401,
    },
    {
      name: 'valid ticket with its CSRF token',
      credentials: () => ({ cookie: cookie(root), csrf: root.csrfToken }),
      read: 200,
      mutate: 202,
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.name}: read ${testCase.read}, mutate ${testCase.mutate}`, async () => {
      const read = await call('read', testCase.credentials());
      const mutate = await call('mutate', testCase.credentials());
      assert.deepEqual(
        [read.status, mutate.status],
        [testCase.read, testCase.mutate],
        JSON.stringify({ read, mutate }),
      );
    });
  }

  it('names the missing privilege in the 403', async () => {
    const response = await fetch(`${service.url}/api/v1/probe/deploy`, {
      method: 'POST',
      headers: {
        cookie: cookie(alice),
        CSRFPreventionToken: alice.csrfToken,
        'content-type': 'application/json',
      },
      body: '{}',
    });
    const body = (await response.json()) as { error: { message: string } };
    assert.match(body.error.message, /alice@pve lacks VM\.Allocate on \/vms/);
  });

  it("admits the node's own PVE origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${service.url}/api/v1/probe/deploy`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'csrfpreventiontoken',
        },
      });
    const own = await preflight('https://127.0.0.1:8006');
    assert.equal(own.status, 204);
    assert.equal(own.headers.get('access-control-allow-origin'), 'https://127.0.0.1:8006');
    assert.match(own.headers.get('access-control-allow-headers') ?? '', /CSRFPreventionToken/);
    const foreign = await preflight('https://evil.example');
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    const post = await fetch(`${service.url}/api/v1/probe/deploy`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', cookie: cookie(root), CSRFPreventionToken: root.csrfToken },
    });
    assert.equal(post.status, 403);
  });

  it('reports Proxmox VE healthy in /status with our token', async () => {
    const status = (await (await fetch(`${service.url}/status`)).json()) as {
      components: { pve: { health: string; version: string } };
    };
    assert.equal(status.components.pve.health, 'healthy', JSON.stringify(status.components.pve));
    assert.match(status.components.pve.version, /^9\./);
  });
});
