/**
 * Crash safety of deploys: the backend runs as its own process (as systemd runs it) and is
 * killed with SIGKILL while a deploy is at each step in turn. After a restart every deploy
 * must converge, finished or rolled back, with no orphan container, DNS name or route, and
 * its app record neither lost nor duplicated.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/src/core/logger.js';
import { PveService } from '../../server/src/modules/pve/service.js';
import { apiClient, APPLIANCE_VMID, lanBackendConfig, startLanContainer, waitForAddress } from './lan.js';
import {
  appContainers,
  brokenManifest,
  DEPLOY_STEPS,
  extraCatalog,
  getByName,
  settledTask,
  tearDownApps,
} from './apps-support.js';

const CLIENT = 4601;
const { config, hostDir, interfacesDir } = lanBackendConfig({ reconcileIntervalMs: 3000 });
config.apps.catalogDirs = [path.resolve('catalog'), extraCatalog([brokenManifest()])];
const configFile = path.join(mkdtempSync(path.join(tmpdir(), 'proximity-crash-')), 'proximity.json');
writeFileSync(configFile, JSON.stringify(config, null, 2));
const pve = new PveService(config, createLogger('silent'));

/** The backend as a process of its own: started, killed, started again on the same store. */
class Backend {
  child: ChildProcess | undefined;
  url = '';

  async start(failpoint?: string): Promise<ReturnType<typeof apiClient>> {
    const env = { ...process.env };
    if (failpoint) env.PROXIMITY_FAILPOINT = failpoint;
    else delete env.PROXIMITY_FAILPOINT;
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    });
    this.child = child;
    let output = '';
    this.url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /^API: (\S+)\/api\/v1$/m.exec(output);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the backend exited (${code}) before it answered`)));
    });
    return apiClient(this.url);
  }

  /** Resolves when the process has ended, by itself (a failpoint) or otherwise. */
  async exited(): Promise<NodeJS.Signals | number | null> {
    const child = this.child!;
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    return child.signalCode ?? child.exitCode;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}

const backend = new Backend();
let api: ReturnType<typeof apiClient>;

before(async () => {
  api = await backend.start();
  const init = await api('POST', '/system/network/initialize');
  assert.equal(init.status, 200, JSON.stringify(init.error));
  await startLanContainer(pve, { vmid: CLIENT, hostname: 'client' });
  assert.ok(await waitForAddress(CLIENT, 10_000));
});

after(() =>
  tearDownApps({
    pve,
    stopService: () => backend.kill('SIGTERM'),
    vmids: [CLIENT, APPLIANCE_VMID],
    hostDir,
    interfacesDir,
  }),
);

/**
 * Each case crashes at the failpoint `after` a step: its work is done (the container made, the
 * route pushed, ...) but not recorded, so the resumed task must find it and not do it twice.
 * One more crashes `before` the first step: the task and the name's row exist, nothing else.
 */
const CASES: [string, 'before' | 'after'][] = [
  ['allocate', 'before'],
  ...DEPLOY_STEPS.map((step): [string, 'after'] => [step, 'after']),
];

describe('a deploy survives the backend being killed (SIGKILL) at each step', () => {
  for (const [step, when] of CASES) {
    it(`killed ${when} "${step}": converges after the restart, nothing orphaned or lost`, async () => {
      const hostname = `crash-${when}-${step}`;
      await backend.kill('SIGTERM');
      api = await backend.start(`app.deploy/${step}/${when}`);
      // At the first steps the process dies before it answers: the task is found afterwards.
      const answer = await api<{ taskId: string }>('POST', '/apps', {
        catalog_id: 'rig-hello',
        hostname,
      }).catch(() => undefined);
      if (answer) assert.equal(answer.status, 202, JSON.stringify(answer.error));
      assert.equal(await backend.exited(), 'SIGKILL', `the backend did not crash at ${step}`);

      api = await backend.start();
      const tasks = (await api<{ id: string; kind: string; target: string }[]>('GET', '/tasks')).data;
      const taskId = tasks.find((t) => t.kind === 'app.deploy' && t.target === hostname)?.id;
      assert.ok(taskId, 'the deploy task was stored before the crash');
      if (answer) assert.equal(taskId, answer.data.taskId);
      const task = await settledTask(api, taskId);
      const logs = (await api<{ line: string }[]>('GET', `/tasks/${task.id}/logs`)).data.map((l) => l.line);
      assert.ok(
        logs.some((line) => line.includes('the service restarted during this task')),
        'the task was taken up again by the new process',
      );
      assert.equal(task.state, 'succeeded', `resumed to the end: ${task.error}`);

      const apps = (await api<{ hostname: string; state: string; vmid: number }[]>('GET', '/apps')).data;
      const mine = apps.filter((app) => app.hostname === hostname);
      const containers = await appContainers(pve);
      const named = [...containers].filter(([, name]) => name === hostname);
      assert.equal(mine.length, 1, 'one app record');
      assert.equal(mine[0]!.state, 'ready');
      assert.equal(named.length, 1, 'one container, not two');
      assert.equal(named[0]![0], mine[0]!.vmid);
      const page = await getByName(CLIENT, hostname);
      assert.equal(page.code, 200, page.body);
      // No orphan anywhere: every container a deploy made is an app's, every app route too.
      const vmids = new Set(apps.map((app) => app.vmid));
      for (const [vmid, name] of containers) assert.ok(vmids.has(vmid), `CT ${vmid} (${name}) is an orphan`);
      const routes = (await api<{ id: string; source: string }[]>('GET', '/routes')).data;
      for (const route of routes.filter((r) => r.source === 'app'))
        assert.ok(
          apps.some((app) => app.hostname === route.id),
          `route ${route.id} is an orphan`,
        );

      const removed = await api<{ taskId: string }>('DELETE', `/apps/${hostname}`);
      assert.equal((await settledTask(api, removed.data.taskId)).state, 'succeeded');
    });
  }

  it('killed while rolling back a failed deploy: the rollback finishes after the restart', async () => {
    await backend.kill('SIGTERM');
    // rig-broken's second install step fails; the process dies as the undo reaches "create".
    api = await backend.start('app.deploy/create/undo');
    const answer = await api<{ taskId: string }>('POST', '/apps', {
      catalog_id: 'rig-broken',
      hostname: 'crash-rollback',
    });
    assert.equal(answer.status, 202, JSON.stringify(answer.error));
    assert.equal(await backend.exited(), 'SIGKILL');
    const named = async () =>
      [...(await appContainers(pve))].filter(([, name]) => name === 'crash-rollback').length;
    assert.equal(await named(), 1, 'the container was still there when the process died');

    api = await backend.start();
    const task = await settledTask(api, answer.data.taskId);
    assert.equal(task.state, 'failed');
    assert.match(task.error ?? '', /^install: install step 2/, 'the first cause is kept across the restart');
    assert.equal(await named(), 0, 'the resumed rollback destroyed the container');
    const apps = (await api<{ hostname: string }[]>('GET', '/apps')).data;
    assert.equal(
      apps.some((app) => app.hostname === 'crash-rollback'),
      false,
      'the name is released',
    );
    assert.equal((await api('GET', '/routes/crash-rollback')).status, 404);
  });
});
