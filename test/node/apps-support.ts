/**
 * Helpers for app tests on the rig: following a task's server-sent events, waiting for a task
 * to end, asking an app by its name through the proxy from a client container, and reading
 * what PVE, dnsmasq and Caddy hold about an app.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PveService } from '../../server/src/modules/pve/service.js';
import { dig, followTaskEvents, inContainerNetwork, tearDownLan, type ApiAnswer } from './lan.js';
import { nodeName } from './support.js';

export interface TaskView {
  id: string;
  state: string;
  error: string | null;
  steps: { name: string; state: string; message: string | null }[];
  data: Record<string, unknown>;
}

export const DEPLOY_STEPS = [
  'allocate',
  'template',
  'create',
  'start',
  'lease',
  'package-cache',
  'install',
  'route',
  'health',
];

/** Follows a task's events to the end: the task at each change, and the log lines. */
export async function followTask(
  baseUrl: string,
  id: string,
  onTask: (task: TaskView) => void = () => {},
): Promise<{ tasks: TaskView[]; logs: string[] }> {
  const events = await followTaskEvents<TaskView & { line: string }>(baseUrl, id, (name, data) => {
    if (name === 'task') onTask(data);
  });
  return {
    tasks: events.filter(([name]) => name === 'task').map(([, data]) => data),
    logs: events.filter(([name]) => name === 'log').map(([, data]) => data.line),
  };
}

/** Polls GET /tasks/:id until the task is final. */
export async function settledTask(
  api: <T>(method: string, path: string, body?: unknown) => Promise<ApiAnswer<T>>,
  id: string,
  timeoutMs = 120_000,
): Promise<TaskView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = (await api<TaskView>('GET', `/tasks/${id}`)).data;
    if (!['running', 'cancelling'].includes(task.state)) return task;
    if (Date.now() > deadline)
      throw new Error(`task ${id} still ${task.state}: ${JSON.stringify(task.steps)}`);
    await sleep(200);
  }
}

/** GET http://<name>.prox.local/ from a client container: DNS by dnsmasq, then Caddy. */
export async function getByName(
  clientVmid: number,
  name: string,
  pathname = '/',
): Promise<{ code: number; body: string }> {
  // The client's resolver is dnsmasq on the gateway, as DHCP told it (curl here has no c-ares).
  const address = (await dig(clientVmid, `${name}.prox.local`)).split('\n')[0];
  if (!address) return { code: 0, body: `${name}.prox.local does not resolve` };
  const result = await inContainerNetwork(clientVmid, [
    'curl',
    '-s',
    '-m',
    '5',
    '--resolve',
    `${name}.prox.local:80:${address}`,
    '-w',
    '\n%{http_code}',
    `http://${name}.prox.local${pathname}`,
  ]);
  const lines = result.stdout.split('\n');
  return { code: Number(lines.pop()), body: lines.join('\n').trim() };
}

/** The containers PVE knows that a deploy made (tag proximity-app), by VMID. */
export async function appContainers(pve: PveService): Promise<Map<number, string>> {
  const list = (await pve.service.api.nodes.$(nodeName).lxc.$get()) as {
    vmid: number | string;
    tags?: string;
    name?: string;
  }[];
  return new Map(
    list
      .filter((ct) => (ct.tags ?? '').split(/[;, ]/).includes('proximity-app'))
      .map((ct) => [Number(ct.vmid), ct.name ?? '']),
  );
}

/** The rig's test app as the starter catalog ships it. */
export function rigHelloManifest(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.resolve('catalog/rig-hello.json'), 'utf8')) as Record<string, unknown>;
}

/** rig-hello whose second install step fails (exit 3) after printing a line. */
export function brokenManifest(): Record<string, unknown> {
  return {
    ...rigHelloManifest(),
    id: 'rig-broken',
    name: 'rig-broken',
    install: [
      { name: 'Works', argv: ['true'] },
      { name: 'Fails on purpose', argv: ['sh', '-c', 'echo about to fail; exit 3'] },
    ],
  };
}

/** A catalog directory with manifests made for failure cases (an install step that fails). */
export function extraCatalog(manifests: Record<string, unknown>[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'proximity-catalog-'));
  for (const manifest of manifests)
    writeFileSync(path.join(dir, `${String(manifest.id)}.json`), JSON.stringify(manifest, null, 2));
  return dir;
}

/** tearDownLan for app tests: also destroys every container a deploy made and left behind. */
export async function tearDownApps(options: Parameters<typeof tearDownLan>[0]): Promise<void> {
  const leftovers = [...(await appContainers(options.pve).catch(() => new Map<number, string>())).keys()];
  await tearDownLan({ ...options, vmids: [...leftovers, ...options.vmids] });
}
