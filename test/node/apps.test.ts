/**
 * Apps on the rig: deploys of the rig's test app from the catalog as tasks, followed live,
 * then the lifecycle (power, resources, logs, stats, safe commands, delete, adopt), each
 * checked against PVE, dnsmasq's files, Caddy's config and the store; bad input, name
 * races, rollbacks and privileges.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/src/core/logger.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { CaddyService } from '../../server/src/modules/proxy/caddy.js';
import { ApplianceSite } from '../../server/src/modules/network/site/appliance.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import {
  apiClient,
  APPLIANCE_VMID,
  eventually,
  lanBackendConfig,
  startLanContainer,
  waitForAddress,
} from './lan.js';
import {
  appContainers,
  brokenManifest,
  DEPLOY_STEPS,
  extraCatalog,
  followTask,
  getByName,
  rigHelloManifest,
  settledTask,
  tearDownApps,
  type TaskView,
} from './apps-support.js';
import { currentRig, login, nodeName } from './support.js';

const rig = currentRig();
const CT = { client: 4501, adoptee: 4502 } as const;
const rigHello = rigHelloManifest();
const brokenCatalog = extraCatalog([
  brokenManifest(),
  {
    ...rigHello,
    id: 'rig-settings',
    name: 'rig-settings',
    env: [{ key: 'GREETING', default: 'hello' }],
    secrets: [{ key: 'ADMIN_PASSWORD', length: 24 }],
    install: [
      ...(rigHello.install as unknown[]),
      {
        name: 'Write the settings page',
        argv: ['sh', '-c', 'printf "%s %s" "$GREETING" "${#ADMIN_PASSWORD}" > /srv/settings.txt'],
      },
    ],
  },
]);
const { config, hostDir, interfacesDir } = lanBackendConfig({ reconcileIntervalMs: 3000 });
config.apps.catalogDirs = [path.resolve('catalog'), brokenCatalog];
config.apps.healthIntervalMs = 1000;
const pve = new PveService(config, createLogger('silent'));
let service: RunningService;
let api: ReturnType<typeof apiClient>;

interface AppView {
  hostname: string;
  status: string;
  state: string;
  vmid: number | null;
  ip: string | null;
  url: string;
  health: { healthy: boolean } | null;
  secretsPending: boolean;
}

async function deploy(hostname: string, extra: Record<string, unknown> = {}) {
  return api<{ taskId: string; app: AppView }>('POST', '/apps', {
    catalog_id: 'rig-hello',
    hostname,
    ...extra,
  });
}

async function deployAndWait(hostname: string, extra: Record<string, unknown> = {}): Promise<TaskView> {
  const answer = await deploy(hostname, extra);
  assert.equal(answer.status, 202, JSON.stringify(answer.error));
  return settledTask(api, answer.data.taskId);
}

const listApps = async () => (await api<AppView[]>('GET', '/apps')).data;
const appOf = async (hostname: string) => (await listApps()).find((app) => app.hostname === hostname);

/** What dnsmasq and Caddy are told about `hostname`, read from the appliance's files and Caddy. */
async function served(hostname: string): Promise<{ dns: boolean; caddy: boolean }> {
  const pid = await rig.runtime.initPid(APPLIANCE_VMID);
  assert.ok(pid, 'the appliance runs');
  const site = new ApplianceSite(pve.pct(), APPLIANCE_VMID, pid);
  const hostsDir = site.local(site.paths.hostsDir);
  const records = readdirSync(hostsDir)
    .map((file) => readFileSync(path.join(hostsDir, file), 'utf8'))
    .join('\n');
  const caddyConfig = JSON.stringify(await new CaddyService(site).currentConfig());
  const dnsmasqKnows = new RegExp(`\\s${hostname}\\.prox\\.local(\\s|$)`, 'm').test(records);
  // A simple route is served by the catch-all: its upstream name is in DNS, not in Caddy's JSON.
  const upstream = new RegExp(`\\s${hostname}\\.upstream\\.prox\\.local(\\s|$)`, 'm').test(records);
  return { dns: dnsmasqKnows, caddy: upstream || caddyConfig.includes(`"${hostname}.prox.local"`) };
}

before(async () => {
  service = await startService(config, { logger: createLogger('silent'), modules: defaultModules });
  api = apiClient(service.url);
  const init = await api('POST', '/system/network/initialize');
  assert.equal(init.status, 200, JSON.stringify(init.error));
  await startLanContainer(pve, { vmid: CT.client, hostname: 'client' });
  assert.ok(await waitForAddress(CT.client, 10_000), 'the client got no address');
});

after(() =>
  tearDownApps({
    pve,
    stopService: async () => service?.stop(),
    vmids: [...Object.values(CT), APPLIANCE_VMID],
    hostDir,
    interfacesDir,
  }),
);

describe('deploying an app from the catalog', () => {
  it('streams every step to the end, and the app answers at http://<name>.prox.local', async () => {
    const started = Date.now();
    const answer = await deploy('hello');
    assert.equal(answer.status, 202, JSON.stringify(answer.error));
    assert.equal(answer.data.app.state, 'deploying');
    const seen = new Set<string>();
    const { tasks, logs } = await followTask(service.url, answer.data.taskId, (task) => {
      for (const step of task.steps) if (step.state === 'running') seen.add(step.name);
    });
    const final = tasks.at(-1)!;
    assert.equal(final.state, 'succeeded', `${final.error} ${JSON.stringify(final.steps)}`);
    assert.deepEqual(
      final.steps.map((step) => [step.name, step.state]),
      DEPLOY_STEPS.map((name) => [name, 'done']),
    );
    // The first steps may be done before the stream is opened; the long ones are seen running.
    for (const name of DEPLOY_STEPS.slice(2)) assert.ok(seen.has(name), `${name} was streamed while it ran`);
    assert.ok(
      logs.some((line) => line.includes('Write the page')),
      'install steps are logged',
    );

    const page = await getByName(CT.client, 'hello');
    assert.equal(page.code, 200, page.body);
    assert.match(page.body, /Hello from rig-hello/);
    assert.match(page.body, /in hello,/, 'the container is named after the app');

    const app = await appOf('hello');
    assert.equal(app?.state, 'ready');
    assert.equal(app?.url, 'http://hello.prox.local');
    assert.match(app?.ip ?? '', /^10\.20\.0\.\d+$/);
    const containers = await appContainers(pve);
    assert.equal(containers.get(app!.vmid!), 'hello', 'PVE has the container, tagged proximity-app');
    assert.deepEqual(await served('hello'), { dns: true, caddy: true });
    const { value: status } = await eventually('health probed', 10_000, async () => {
      const view = await appOf('hello');
      return view?.health ? view : undefined;
    });
    assert.equal(status.status, 'running');
    assert.equal(status.health?.healthy, true);
    console.log(`deploy of rig-hello: ${Date.now() - started} ms to a ready app`);
  });

  it('refuses bad input with 400 naming the field, and creates nothing', async () => {
    const before = { apps: (await listApps()).length, cts: (await appContainers(pve)).size };
    const cases: [Record<string, unknown>, string][] = [
      [{ catalog_id: 'no-such-app', hostname: 'x1' }, 'catalog_id'],
      [{ catalog_id: 'rig-hello', hostname: 'Bad_Name' }, 'hostname'],
      [{ catalog_id: 'rig-hello', hostname: '-x' }, 'hostname'],
      [{ catalog_id: 'rig-hello', hostname: 'upstream' }, 'hostname'],
      [{ catalog_id: 'rig-hello', hostname: 'x2', resources: { cores: 4096 } }, 'resources.cores'],
      [{ catalog_id: 'rig-hello', hostname: 'x3', resources: { cores: 64 } }, 'resources.cores'],
      [
        { catalog_id: 'rig-hello', hostname: 'x4', resources: { memoryMb: 100_000_000 } },
        'resources.memoryMb',
      ],
      [{ catalog_id: 'rig-settings', hostname: 'x5', env: { 'A=B': 'x' } }, 'env'],
      [{ catalog_id: 'rig-settings', hostname: 'x6', env: { GREETING: 'two\nlines' } }, 'env.GREETING'],
      [{ catalog_id: 'rig-settings', hostname: 'x7', env: { UNDECLARED: 'x' } }, 'env.UNDECLARED'],
      [{ catalog_id: 'rig-hello', hostname: 'x8', surprise: 1 }, 'surprise'],
    ];
    for (const [body, field] of cases) {
      const answer = await api('POST', '/apps', body);
      assert.equal(answer.status, 400, `${JSON.stringify(body)} → ${answer.status}`);
      assert.equal(answer.error?.code, 'validation_failed');
      assert.ok(
        Object.keys(answer.error?.fields ?? {}).some((key) => key === field || key.startsWith(`${field}.`)),
        `${JSON.stringify(body)}: fields ${JSON.stringify(answer.error?.fields)} should name ${field}`,
      );
    }
    assert.equal((await listApps()).length, before.apps);
    assert.equal((await appContainers(pve)).size, before.cts);
  });

  it('lets exactly one of two concurrent deploys of one name win; the other gets 409', async () => {
    const [a, b] = await Promise.all([deploy('twin'), deploy('twin')]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [202, 409]);
    const loser = a.status === 409 ? a : b;
    assert.match(loser.error?.fields?.hostname ?? '', /already/);
    const winner = a.status === 202 ? a : b;
    const task = await settledTask(api, winner.data.taskId);
    assert.equal(task.state, 'succeeded', task.error ?? '');
    assert.equal((await listApps()).filter((app) => app.hostname === 'twin').length, 1);
  });

  it('runs ten concurrent deploys of different apps to the end', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `multi-${i}`);
    const answers = await Promise.all(names.map((name) => deploy(name)));
    for (const answer of answers) assert.equal(answer.status, 202, JSON.stringify(answer.error));
    const tasks = await Promise.all(answers.map((answer) => settledTask(api, answer.data.taskId, 240_000)));
    for (const task of tasks) assert.equal(task.state, 'succeeded', `${task.error}`);
    const apps = await listApps();
    const vmids = new Set(apps.filter((a) => a.hostname.startsWith('multi-')).map((a) => a.vmid));
    assert.equal(vmids.size, 10, 'ten apps, ten distinct containers');
    for (const name of ['multi-0', 'multi-9']) {
      const page = await getByName(CT.client, name);
      assert.equal(page.code, 200, `${name}: ${page.body}`);
    }
    // Clean up: deletes run as tasks too, all at once.
    const deletes = await Promise.all(
      names.map((name) => api<{ taskId: string }>('DELETE', `/apps/${name}`)),
    );
    for (const answer of deletes) assert.equal(answer.status, 202, JSON.stringify(answer.error));
    for (const answer of deletes)
      assert.equal((await settledTask(api, answer.data.taskId)).state, 'succeeded');
  });

  it('rolls a failed deploy back: the error names the step, nothing is left', async () => {
    const before = (await appContainers(pve)).size;
    const answer = await api<{ taskId: string }>('POST', '/apps', {
      catalog_id: 'rig-broken',
      hostname: 'broken',
    });
    assert.equal(answer.status, 202);
    const task = await settledTask(api, answer.data.taskId);
    assert.equal(task.state, 'failed');
    assert.match(task.error ?? '', /^install: install step 2 "Fails on purpose" exited with status 3/);
    // Every step up to the failed one is undone (in reverse), none after it ran.
    const failedAt = DEPLOY_STEPS.indexOf('install');
    assert.deepEqual(
      task.steps.map((s) => [s.name, s.state]),
      DEPLOY_STEPS.map((name, i) => [name, i <= failedAt ? 'undone' : 'pending']),
    );
    const logs = (await api<{ line: string }[]>('GET', `/tasks/${task.id}/logs`)).data.map((l) => l.line);
    assert.ok(
      logs.some((line) => line.includes('about to fail')),
      'the failing step output is in the logs',
    );
    assert.equal(await appOf('broken'), undefined, 'the name is released');
    assert.equal((await appContainers(pve)).size, before, 'the container is destroyed');
    assert.deepEqual(await served('broken'), { dns: false, caddy: false });
    // The name can be used again at once.
    assert.equal((await deployAndWait('broken', { catalog_id: 'rig-hello' })).state, 'succeeded');
    await settledTask(api, (await api<{ taskId: string }>('DELETE', '/apps/broken')).data.taskId);
  });

  it('keeps a failed deploy for debugging when asked, until the app is deleted', async () => {
    const task = await deployAndWait('kept', { catalog_id: 'rig-broken', keep_on_failure: true });
    assert.equal(task.state, 'failed');
    const app = await appOf('kept');
    assert.equal(app?.state, 'failed');
    assert.ok(app?.vmid && (await appContainers(pve)).has(app.vmid), 'the container is kept');
    const removed = await api<{ taskId: string }>('DELETE', '/apps/kept');
    assert.equal((await settledTask(api, removed.data.taskId)).state, 'succeeded');
    assert.equal(await appOf('kept'), undefined);
    assert.equal((await appContainers(pve)).has(app.vmid), false);
  });

  it('passes env values and generated secrets to the install steps; secrets are shown once', async () => {
    const task = await deployAndWait('settings', {
      catalog_id: 'rig-settings',
      env: { GREETING: 'bonjour' },
    });
    assert.equal(task.state, 'succeeded', task.error ?? '');
    assert.equal(JSON.stringify(task).includes('ADMIN_PASSWORD'), false, 'the task never shows the secret');
    const page = await getByName(CT.client, 'settings', '/settings.txt');
    assert.equal(page.body, 'bonjour 24');
    assert.equal((await appOf('settings'))?.secretsPending, true);
    const first = await api<Record<string, string>>('POST', '/apps/settings/secrets');
    assert.match(first.data.ADMIN_PASSWORD ?? '', /^[A-Za-z0-9]{24}$/);
    const second = await api('POST', '/apps/settings/secrets');
    assert.equal(second.status, 404);
    await settledTask(api, (await api<{ taskId: string }>('DELETE', '/apps/settings')).data.taskId);
  });
});

describe('the app lifecycle', () => {
  it('stops, starts and restarts the app: PVE, the list and the URL agree', async () => {
    const stopped = await api<AppView>('POST', '/apps/hello/stop');
    assert.equal(stopped.status, 200, JSON.stringify(stopped.error));
    assert.equal(stopped.data.status, 'stopped');
    const vmid = stopped.data.vmid!;
    const lxc = pve.service.api.nodes.$(nodeName).lxc.$(vmid);
    assert.equal(((await lxc.status.current.$get()) as { status: string }).status, 'stopped');
    assert.notEqual((await getByName(CT.client, 'hello')).code, 200, 'a stopped app does not answer');
    assert.deepEqual(await served('hello'), { dns: true, caddy: true }, 'its name and route stay');

    const started = await api<AppView>('POST', '/apps/hello/start');
    assert.equal(started.data.status, 'running');
    await eventually('answers after start', 20_000, async () =>
      (await getByName(CT.client, 'hello')).code === 200 ? true : undefined,
    );
    const restarted = await api<AppView>('POST', '/apps/hello/restart');
    assert.equal(restarted.status, 200);
    await eventually('answers after restart', 20_000, async () =>
      (await getByName(CT.client, 'hello')).code === 200 ? true : undefined,
    );
    const audit = (await api<{ action: string; target: string }[]>('GET', '/audit?limit=500')).data;
    for (const action of ['app.deploy', 'app.stop', 'app.start', 'app.restart'])
      assert.ok(
        audit.some((e) => e.action === action && e.target === 'hello'),
        `audit has ${action}`,
      );
    const deploys = audit.filter((e) => e.action === 'app.deploy' && e.target === 'hello');
    assert.deepEqual(
      deploys.map((e) => (e as { result?: string }).result).sort(),
      ['ok', 'started'],
      'the deploy is audited when it starts and when it ends',
    );
  });

  it('reads logs, stats and runs only the declared safe commands', async () => {
    await getByName(CT.client, 'hello', '/logged-request');
    const { value: logs } = await eventually('the request in the log', 10_000, async () => {
      const answer = await api<{ source: string; lines: string[] }>('GET', '/apps/hello/logs?lines=50');
      return answer.data.lines.some((l) => l.includes('/logged-request')) ? answer.data : undefined;
    });
    assert.equal(logs.source, '/var/log/httpd.log');
    assert.equal((await api('GET', '/apps/hello/logs?lines=99999')).status, 400);

    const stats = await api<{ status: string; memory: { max: number }; rrd: unknown[] }>(
      'GET',
      '/apps/hello/stats',
    );
    assert.equal(stats.status, 200, JSON.stringify(stats.error));
    assert.equal(stats.data.status, 'running');
    assert.equal(stats.data.memory.max, 64 * 1024 * 1024);
    assert.ok(Array.isArray(stats.data.rrd));

    const commands = await api<{ name: string }[]>('GET', '/apps/hello/commands');
    assert.deepEqual(
      commands.data.map((c) => c.name),
      ['processes', 'page', 'inittab'],
    );
    const page = await api<{ exitCode: number; stdout: string }>('POST', '/apps/hello/commands/page');
    assert.equal(page.data.exitCode, 0);
    assert.match(page.data.stdout, /Hello from rig-hello/);
    const unknown = await api('POST', '/apps/hello/commands/rm-rf');
    assert.equal(unknown.status, 404);
    const injected = await api('POST', `/apps/hello/commands/${encodeURIComponent('page;reboot')}`);
    assert.equal(injected.status, 400);
  });

  it('changes cores and memory through PVE, and refuses what the node does not have', async () => {
    const changed = await api<{ spec: { resources: { cores: number; memoryMb: number } } }>(
      'PUT',
      '/apps/hello/resources',
      { cores: 2, memoryMb: 96 },
    );
    assert.equal(changed.status, 200, JSON.stringify(changed.error));
    assert.deepEqual([changed.data.spec.resources.cores, changed.data.spec.resources.memoryMb], [2, 96]);
    const vmid = (await appOf('hello'))!.vmid!;
    const ctConfig = (await pve.service.api.nodes.$(nodeName).lxc.$(vmid).config.$get({})) as Record<
      string,
      unknown
    >;
    assert.deepEqual([Number(ctConfig.cores), Number(ctConfig.memory)], [2, 96]);
    const tooMany = await api('PUT', '/apps/hello/resources', { cores: 4096 });
    assert.equal(tooMany.status, 400);
    assert.ok(tooMany.error?.fields?.cores);
  });

  it('adopts a container already on proximity-lan, and keeps it when the app is deleted', async () => {
    await startLanContainer(pve, { vmid: CT.adoptee, hostname: 'adoptee' });
    const result = await rig.runtime.exec(CT.adoptee, [
      'sh',
      '-c',
      'mkdir -p /srv && echo adopted > /srv/index.html && httpd -p 8080 -h /srv',
    ]);
    assert.equal(result.code, 0, result.stderr);
    await eventually('lease of the adoptee', 10_000, async () => {
      const leases = (await api<{ hostname: string }[]>('GET', '/network/leases')).data;
      return leases.some((l) => l.hostname === 'adoptee') ? true : undefined;
    });
    const adopted = await api<AppView>('POST', '/apps/adopt', { vmid: CT.adoptee, port: 8080 });
    assert.equal(adopted.status, 201, JSON.stringify(adopted.error));
    assert.equal(adopted.data.hostname, 'adoptee');
    assert.equal((await getByName(CT.client, 'adoptee')).body, 'adopted');
    const again = await api('POST', '/apps/adopt', { vmid: CT.adoptee, port: 8080 });
    assert.equal(again.status, 409);
    const removed = await api<{ taskId: string }>('DELETE', '/apps/adoptee');
    assert.equal((await settledTask(api, removed.data.taskId)).state, 'succeeded');
    const status = (await pve.service.api.nodes.$(nodeName).lxc.$(CT.adoptee).status.current.$get()) as {
      status: string;
    };
    assert.equal(status.status, 'running', 'the adopted container is the user\u2019s: kept');
    assert.deepEqual(await served('adoptee'), { dns: false, caddy: false });
  });

  it('gives read-only users the list, and refuses them every change', async () => {
    const session = await login('alice@pve', 'alicepassword');
    const headers = { cookie: `PVEAuthCookie=${session.ticket}`, csrfpreventiontoken: session.csrfToken };
    const list = await fetch(`${service.url}/api/v1/apps`, { headers });
    assert.equal(list.status, 200);
    type Allowed = AppView & { allowed: Record<string, boolean> };
    const hello = ((await list.json()) as { data: Allowed[] }).data.find((a) => a.hostname === 'hello');
    assert.ok(hello, 'alice sees the app');
    // The list tells the UI which actions to disable; the routes below refuse them anyway.
    assert.deepEqual(hello.allowed, {
      read: true,
      power: false,
      resize: false,
      command: false,
      delete: false,
    });
    const mine = (await api<Allowed>('GET', '/apps/hello')).data.allowed;
    assert.deepEqual(mine, { read: true, power: true, resize: true, command: true, delete: true });
    for (const [method, url, body] of [
      ['POST', '/apps', { catalog_id: 'rig-hello', hostname: 'alice-app' }],
      ['POST', '/apps/hello/stop', undefined],
      ['DELETE', '/apps/hello', undefined],
      ['POST', '/apps/hello/commands/page', undefined],
    ] as const) {
      const response = await fetch(`${service.url}/api/v1${url}`, {
        method,
        headers: { ...headers, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      assert.equal(response.status, 403, `${method} ${url}`);
    }
    assert.equal((await appOf('hello'))?.status, 'running');
  });

  it('deletes the app: container, name, route and record are gone', async () => {
    const vmid = (await appOf('hello'))!.vmid!;
    const removed = await api<{ taskId: string }>('DELETE', '/apps/hello');
    assert.equal(removed.status, 202);
    const task = await settledTask(api, removed.data.taskId);
    assert.equal(task.state, 'succeeded', task.error ?? '');
    assert.equal(await appOf('hello'), undefined);
    assert.equal((await appContainers(pve)).has(vmid), false);
    assert.deepEqual(await served('hello'), { dns: false, caddy: false });
    assert.equal((await api('GET', '/routes/hello')).status, 404);
    assert.notEqual((await getByName(CT.client, 'hello')).code, 200);
  });
});
