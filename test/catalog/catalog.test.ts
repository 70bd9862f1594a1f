/**
 * The catalog test: every app of the starter catalog deployed as a user would, on the rig.
 *
 * The network appliance is made from PVE's plain Debian 13 template; then, for each app (two
 * at a time): Deploy through the API into an unprivileged Debian 13 container (task to done),
 * its health URL fetched through Caddy by its name from another container, every safe command
 * run, the container restarted and the app checked again, then the app deleted and nothing of
 * it left (no container, no name in DNS, no vhost). A table of the results is printed.
 *
 * Which apps: CATALOG_APPS=all (every manifest, `npm run test:catalog`), CATALOG_APPS=a,b,c,
 * or by default the representative set below, one per install style (`npm test`).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/src/core/logger.js';
import { parseManifest, type AppManifest } from '../../server/src/modules/apps/catalog/manifest.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import { appContainers, getByName, settledTask, tearDownApps } from '../node/apps-support.js';
import {
  APPLIANCE_VMID,
  apiClient,
  dig,
  eventually,
  lanBackendConfig,
  startLanContainer,
  waitForAddress,
} from '../node/lan.js';
import { nodeName } from '../node/support.js';
import { RIG_DEBIAN_TEMPLATE } from '../rig/pve-sim/config.js';
import { formatTable, installStyle, selectApps, type CatalogRow } from './selection.js';
import { tcpServiceAnswers } from './tcp.js';

const CATALOG_DIR = path.resolve('catalog');
const CLIENT = 4701;
const GATEWAY = '10.20.0.1';
/** Apps deployed at the same time: the rig's two cores and the appliance's NAT hold two. */
const PARALLEL = Number(process.env.CATALOG_PARALLEL ?? 2);

const manifests = new Map<string, AppManifest>(
  readdirSync(CATALOG_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => {
      const parsed = parseManifest(JSON.parse(readFileSync(path.join(CATALOG_DIR, file), 'utf8')));
      assert.ok(parsed.ok, `${file}: ${JSON.stringify(!parsed.ok && parsed.fields)}`);
      return [parsed.manifest.id, parsed.manifest] as const;
    }),
);
const selected = selectApps(process.env.CATALOG_APPS, manifests);

const { config, hostDir, interfacesDir } = lanBackendConfig({
  reconcileIntervalMs: 5000,
  appliance: { template: `local:vztmpl/${RIG_DEBIAN_TEMPLATE}`, diskGb: 2, memoryMb: 512 },
});
config.apps.catalogDirs = [CATALOG_DIR];
config.apps.healthIntervalMs = 5000;
const pve = new PveService(config, createLogger('silent'));
let service: RunningService;
let api: ReturnType<typeof apiClient>;
const rows: CatalogRow[] = [];

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
  api = apiClient(service.url);
  const init = await api<{ health: string; reasons: string[] }>('POST', '/system/network/initialize');
  assert.equal(init.status, 200, JSON.stringify(init.error));
  assert.equal(init.data.health, 'healthy', init.data.reasons.join('; '));
  await startLanContainer(pve, { vmid: CLIENT, hostname: 'catalog-client' });
  assert.ok(await waitForAddress(CLIENT, 20_000), 'the client got no address from the appliance');
});

after(async () => {
  console.log(`# catalog test (${selected.length} app(s), ${PARALLEL} at a time)\n${formatTable(rows)}`);
  await tearDownApps({
    pve,
    stopService: async () => service?.stop(),
    vmids: [CLIENT, APPLIANCE_VMID],
    hostDir,
    interfacesDir,
  });
});

/** The app's health page through Caddy by its name, as the manifest defines healthy. */
async function healthyByName(manifest: AppManifest, timeoutMs: number): Promise<number> {
  const { path: healthPath, expectStatus } = manifest.healthCheck;
  const { ms } = await eventually(`${manifest.id}: ${healthPath} through Caddy`, timeoutMs, async () => {
    const answer = await getByName(CLIENT, manifest.id, healthPath);
    const healthy =
      expectStatus === undefined ? answer.code > 0 && answer.code < 500 : answer.code === expectStatus;
    return healthy ? answer.code : undefined;
  });
  return ms;
}

/**
 * A TCP service (no web UI) by its name: the name resolves to its container, and the service
 * answers a client there in its own protocol with the deploy's credentials (tcp.ts).
 */
async function tcpAnswersByName(
  manifest: AppManifest,
  values: Record<string, string>,
  timeoutMs: number,
): Promise<number> {
  const { id: name, ports } = manifest;
  const { ms } = await eventually(
    `${name}: answers at ${name}.prox.local:${ports[0]!.port}`,
    timeoutMs,
    async () => {
      const ip = (await api<{ ip: string | null }>('GET', `/apps/${name}`)).data.ip;
      const problem = ip
        ? await tcpServiceAnswers({
            client: CLIENT,
            id: name,
            name,
            port: ports[0]!.port,
            expectIp: ip,
            values,
          })
        : 'no address yet';
      if (problem) throw new Error(problem);
      return true;
    },
  );
  return ms;
}

async function lifecycle(manifest: AppManifest): Promise<void> {
  const name = manifest.id;
  const tcp = manifest.ports[0]!.protocol === 'tcp';
  // A TCP service's client logs in with the secrets (shown once): taken before its check.
  let values: Record<string, string> = {};
  const takeSecrets = async () => {
    const secrets = await api<Record<string, string>>('POST', `/apps/${name}/secrets`);
    assert.equal(secrets.status, 200, JSON.stringify(secrets.error));
    for (const secret of manifest.secrets) assert.equal(secrets.data[secret.key]?.length, secret.length);
    values = { ...Object.fromEntries(manifest.env.map((e) => [e.key, e.default])), ...secrets.data };
  };
  const answersByName = (timeoutMs: number) =>
    tcp ? tcpAnswersByName(manifest, values, timeoutMs) : healthyByName(manifest, timeoutMs);
  /** A task that did not succeed fails the test with its error and its last log lines. */
  const succeeded = async (what: string, task: { id: string; state: string; error: string | null }) => {
    if (task.state === 'succeeded') return;
    const logs = (await api<{ line: string }[]>('GET', `/tasks/${task.id}/logs`)).data.map((l) => l.line);
    assert.fail(`${name}: ${what} ${task.state}: ${task.error}\n${logs.slice(-40).join('\n')}`);
  };
  const row: CatalogRow = { app: name, style: installStyle(manifest), result: 'failed' };
  rows.push(row);
  const started = Date.now();
  const answer = await api<{ taskId: string }>('POST', '/apps', { catalogId: name, hostname: name });
  assert.equal(answer.status, 202, JSON.stringify(answer.error));
  const task = await settledTask(api, answer.data.taskId, 1_800_000);
  row.deploySeconds = (Date.now() - started) / 1000;
  await succeeded('deploy', task);
  if (tcp && manifest.secrets.length > 0) await takeSecrets();
  await answersByName(60_000);
  row.first200Seconds = (Date.now() - started) / 1000;
  if (tcp)
    // No vhost: nothing routes a TCP service's name through Caddy.
    assert.equal((await api('GET', `/routes/${name}`)).status, 404, `${name} has a proxy route`);
  // Through Caddy: a web app's name is the gateway's, never its container's own address.
  else
    assert.equal(await dig(CLIENT, `${name}.prox.local`), GATEWAY, `${name}.prox.local bypasses the proxy`);

  const view = (await api<{ vmid: number; state: string; secretsPending: boolean }>('GET', `/apps/${name}`))
    .data;
  assert.equal(view.state, 'ready', `${name} is ${view.state}`);
  const ct = await pve.service.api.nodes.$(nodeName).lxc.$(view.vmid).config.$get();
  assert.equal(
    (ct as { unprivileged?: number }).unprivileged,
    manifest.resources.unprivileged ? 1 : undefined,
  );
  if (!tcp && manifest.secrets.length > 0) await takeSecrets();

  for (const command of manifest.safeCommands) {
    const ran = await api<{ exitCode: number; stdout: string; stderr: string }>(
      'POST',
      `/apps/${name}/commands/${command.name}`,
    );
    assert.equal(ran.status, 200, `${name} ${command.name}: ${JSON.stringify(ran.error)}`);
    assert.equal(ran.data.exitCode, 0, `${name} ${command.name}: ${ran.data.stdout}\n${ran.data.stderr}`);
  }

  const restarted = await api('POST', `/apps/${name}/restart`);
  assert.equal(restarted.status, 200, JSON.stringify(restarted.error));
  const restartedAt = Date.now();
  await answersByName(180_000);
  row.restartSeconds = (Date.now() - restartedAt) / 1000;

  const removal = await api<{ taskId: string }>('DELETE', `/apps/${name}`);
  assert.equal(removal.status, 202, JSON.stringify(removal.error));
  await succeeded('delete', await settledTask(api, removal.data.taskId, 300_000));
  assert.equal((await api('GET', `/apps/${name}`)).status, 404);
  assert.ok(!(await appContainers(pve)).has(view.vmid), `${name}: CT ${view.vmid} is left`);
  assert.equal(await dig(CLIENT, `${name}.prox.local`), '', `${name}: its name is still in DNS`);
  row.result = 'ok';
}

describe('the starter catalog on the rig', { concurrency: PARALLEL }, () => {
  it('has the apps asked for', () => {
    assert.ok(selected.length > 0, 'no app selected');
  });
  for (const manifest of selected) {
    it(`${manifest.id}: deploy, through Caddy by name, safe commands, restart, delete`, () =>
      lifecycle(manifest));
  }
});
