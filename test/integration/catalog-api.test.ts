/**
 * The catalog's HTTP API through the real service: authentication and privileges checked by
 * PVE (the rig's API simulator, its HTTP, auth and ACL layer only: no container is made, so
 * its container runtime and node network are never called), the starter catalog, the
 * community-scripts sample and a directory with a broken manifest.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PACKAGE_CATALOG_DIR } from '../../server/src/core/config/schema.js';
import { createLogger } from '../../server/src/core/logger.js';
import type { ModuleFactory } from '../../server/src/core/module.js';
import { catalogModule } from '../../server/src/modules/apps/catalog/module.js';
import { auditModule } from '../../server/src/modules/audit/module.js';
import type { CatalogService } from '../../server/src/modules/apps/catalog/service.js';
import { startService, type RunningService } from '../../server/src/service.js';
import type { ContainerRuntime, NodeNetwork } from '../rig/contracts.js';
import {
  DEFAULT_SIMULATOR_CONFIG,
  RIG_TOKEN_ID,
  RIG_TOKEN_SECRET,
  simulatorConfig,
} from '../rig/pve-sim/config.js';
import { createSimulator, type PveSimulator } from '../rig/pve-sim/simulator.js';
import { repositoryRoot, testConfig } from '../support/service.js';
import { tempDir } from '../support/temp.js';

/** The vendored sample of the real catalog (origin and licence: its NOTICE.md). */
const samples = path.join(repositoryRoot, 'test/fixtures/community-scripts');
/** The starter catalog's ids, read from it: it grows with every app. */
const starterIds = readdirSync(PACKAGE_CATALOG_DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.slice(0, -'.json'.length))
  .sort();
/** The sample's importable community-scripts entries (19 notices besides the shadowed ones). */
const COMMUNITY_ENTRIES = 103;
/** community-scripts samples whose id a starter app already has: the first entry of an id wins. */
const shadowed = readdirSync(samples).filter((file) =>
  starterIds.includes(file.replace(/\.json$/, '')),
).length;

/** A part of the rig the catalog never reaches: any call is a test failure. */
function unused<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: (_target, key) =>
      key === 'then'
        ? undefined
        : () => Promise.reject(new Error(`${what}.${String(key)} called by a catalog test`)),
  });
}

/** Tokens without privilege separation: each has its user's privileges. */
const TOKENS = {
  root: { tokenid: RIG_TOKEN_ID, secret: RIG_TOKEN_SECRET },
  // PVEAuditor on /: reads everything, changes nothing.
  alice: { tokenid: 'alice@pve!catalog', secret: '0b6c3d1e-2f4a-4b5c-8d6e-7f8091a2b3c4' },
  // Logs in, holds no privilege.
  carol: { tokenid: 'carol@pve!catalog', secret: '1c7d4e2f-3a5b-4c6d-9e7f-8091a2b3c4d5' },
  // PVEVMUser on /vms only: sees guests, not the node.
  dave: { tokenid: 'dave@pve!catalog', secret: '2d8e5f3a-4b6c-4d7e-af80-91a2b3c4d5e6' },
};

type Who = keyof typeof TOKENS;

describe('catalog API', () => {
  let sim: PveSimulator;
  let service: RunningService;
  let provided: CatalogService | undefined;
  const own = tempDir();
  const broken = path.join(own, 'broken.json');
  writeFileSync(broken, JSON.stringify({ schemaVersion: 1, id: 'broken', name: 'Broken', ports: 'eighty' }));

  const probe: ModuleFactory = ({ services }) => {
    provided = services.get('catalog');
    return { name: 'probe' };
  };

  before(async () => {
    const dataDir = tempDir();
    sim = await createSimulator({
      runtime: unused<ContainerRuntime>('runtime'),
      network: unused<NodeNetwork>('network'),
      dataDir,
      config: simulatorConfig({
        unauthorizedDelayMs: 0,
        users: [...DEFAULT_SIMULATOR_CONFIG.users, { userid: 'dave@pve', password: 'davepassword' }],
        tokens: Object.values(TOKENS).map((token) => ({ ...token, privsep: false })),
        acl: [
          ...DEFAULT_SIMULATOR_CONFIG.acl,
          { path: '/vms', ugid: 'dave@pve', role: 'PVEVMUser', propagate: true },
        ],
      }),
    });
    const caFile = path.join(dataDir, 'pve-ca.pem');
    writeFileSync(caFile, sim.certificate);
    const config = testConfig({
      pve: { host: sim.host, port: sim.port, caFile, tokenSecretFile: '/nonexistent/pve-token' },
      apps: { catalogDirs: [PACKAGE_CATALOG_DIR, own], communityScriptsDirs: [samples] },
    });
    service = await startService(config, {
      logger: createLogger('silent'),
      modules: [auditModule, catalogModule, probe],
    });
  });
  after(async () => {
    await service?.stop();
    await sim?.close();
  });

  async function call(who: Who | undefined, method: string, url: string) {
    const headers: Record<string, string> = {};
    if (who) headers.authorization = `PVEAPIToken=${TOKENS[who].tokenid}=${TOKENS[who].secret}`;
    const response = await fetch(`${service.url}/api/v1${url}`, { method, headers });
    const body = (await response.json()) as {
      data?: unknown;
      error?: { code: string; message: string; fields?: Record<string, string> };
    };
    return { status: response.status, data: body.data as never, error: body.error };
  }

  it('is provided to the modules after it', () => {
    assert.ok(provided);
    assert.equal(provided.get('nginx')?.name, 'nginx');
  });

  it('asks who is calling, and lets those who may see guests read it', async () => {
    assert.equal((await call(undefined, 'GET', '/catalog')).status, 401);
    const carol = await call('carol', 'GET', '/catalog');
    assert.equal(carol.status, 403);
    assert.match(carol.error!.message, /lacks VM\.Audit on \/vms/);
    // A user whose roles cover only /vms reads the catalog, not the node's problems with it.
    assert.equal((await call('dave', 'GET', '/catalog')).status, 200);
    assert.equal((await call('dave', 'GET', '/catalog/nginx')).status, 200);
    const problems = await call('dave', 'GET', '/catalog/problems');
    assert.equal(problems.status, 403);
    assert.match(problems.error!.message, /lacks Sys\.Audit on \//);
  });

  it('lists summaries, sorted by name, filtered by search, category and source', async () => {
    const all = await call('alice', 'GET', '/catalog');
    assert.equal(all.status, 200);
    const list = all.data as { id: string; source: string; installSteps: number }[];
    assert.equal(list.length, starterIds.length + COMMUNITY_ENTRIES - shadowed);
    const own = await call('alice', 'GET', '/catalog?source=proximity');
    assert.deepEqual((own.data as { id: string }[]).map((s) => s.id).sort(), starterIds);
    const web = await call(
      'alice',
      'GET',
      `/catalog?source=proximity&category=${encodeURIComponent('webservers & proxies')}`,
    );
    assert.deepEqual(
      (web.data as { id: string }[]).map((s) => s.id),
      ['nginx', 'rig-hello', 'static-site'],
    );
    const budget = await call('alice', 'GET', '/catalog?search=BUDGET%20finances');
    assert.deepEqual(
      (budget.data as { id: string }[]).map((s) => s.id),
      ['actualbudget'],
    );
    assert.equal((budget.data as { installSteps: number; source: string }[])[0]!.source, 'community-scripts');
  });

  it('gives the full entry, and names what is wrong with a request', async () => {
    const rig = await call('alice', 'GET', '/catalog/rig-hello');
    assert.equal(rig.status, 200);
    const entry = rig.data as { install: { argv: string[] }[]; source: { kind: string; file: string } };
    assert.deepEqual(entry.install.at(-1)!.argv, ['kill', '-HUP', '1']);
    assert.deepEqual(entry.source, {
      kind: 'proximity',
      file: path.join(PACKAGE_CATALOG_DIR, 'rig-hello.json'),
    });

    const missing = await call('alice', 'GET', '/catalog/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.error!.code, 'not_found');
    for (const [url, field] of [
      ['/catalog/Not_An_Id', 'id'],
      ['/catalog?colour=red', 'colour'],
      ['/catalog?source=github', 'source'],
    ] as const) {
      const answer = await call('alice', 'GET', url);
      assert.equal(answer.status, 400, url);
      assert.ok(field in answer.error!.fields!, `${url}: ${JSON.stringify(answer.error)}`);
    }
  });

  it('reports problems by file and field, and says so in /status', async () => {
    const answer = await call('alice', 'GET', '/catalog/problems');
    assert.equal(answer.status, 200);
    const problems = answer.data as { file: string; field?: string; severity: string; code: string }[];
    const errors = problems.filter((p) => p.severity === 'error');
    assert.deepEqual(
      errors.map((p) => `${path.basename(p.file)} ${p.field} ${p.code}`),
      [
        'broken.json description invalid_manifest',
        'broken.json category invalid_manifest',
        'broken.json website invalid_manifest',
        'broken.json template invalid_manifest',
        'broken.json resources invalid_manifest',
        'broken.json ports invalid_manifest',
        'broken.json healthCheck invalid_manifest',
        'broken.json install invalid_manifest',
      ],
    );
    assert.equal(problems.filter((p) => p.severity === 'notice').length, 19 + shadowed);

    const status = (await (await fetch(`${service.url}/status`)).json()) as {
      components: Record<string, { health: string; reasons?: string[]; entries?: number }>;
    };
    assert.equal(status.components.catalog!.health, 'degraded');
    assert.equal(status.components.catalog!.entries, starterIds.length + COMMUNITY_ENTRIES - shadowed);
    assert.match(status.components.catalog!.reasons![0]!, /8 problem\(s\) in catalog files/);
  });

  it('reloads for those who may change the node, and records who did', async () => {
    assert.equal((await call('alice', 'POST', '/catalog/reload')).status, 403);
    // The broken file fixed: a copy of the starter nginx under another id.
    const nginx = JSON.parse(readFileSync(path.join(PACKAGE_CATALOG_DIR, 'nginx.json'), 'utf8')) as object;
    writeFileSync(broken, JSON.stringify({ ...nginx, id: 'fixed', name: 'Fixed' }));
    const reload = await call('root', 'POST', '/catalog/reload');
    assert.equal(reload.status, 200);
    const report = reload.data as {
      counts: { entries: number; errors: number; files: number };
      problems: unknown[];
    };
    assert.deepEqual(
      { entries: report.counts.entries, errors: report.counts.errors, files: report.counts.files },
      {
        entries: starterIds.length + COMMUNITY_ENTRIES - shadowed + 1,
        errors: 0,
        files: starterIds.length + 1 + 122,
      },
    );
    assert.equal((await call('alice', 'GET', '/catalog/fixed')).status, 200);
    const audit = service.store.db
      .prepare("SELECT actor, result FROM audit_log WHERE action = 'catalog.reload'")
      .all() as { actor: string; result: string }[];
    assert.deepEqual(audit, [{ actor: RIG_TOKEN_ID, result: 'ok' }]);
  });
});
