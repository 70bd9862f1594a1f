import type { AppView } from '../../contract/apps.js';
import { errors, type FieldErrors } from '../../core/errors.js';
import { hasPrivilege, type PermissionMap } from '../auth/permissions.js';
import type { Caller } from '../auth/service.js';
import type { TaskEngine } from '../tasks/engine.js';
import type { CatalogService } from './catalog/service.js';
import {
  appAddress,
  appKind,
  appLink,
  type AdoptInput,
  type AppRecord,
  type AppSpec,
  type DeployInput,
} from './app.js';
import type { ContainerResource } from './containers.js';
import { DELETE_KIND, type DeleteTaskInput } from './delete.js';
import { startDeploy } from './deploy/index.js';
import type { AppsDeps } from './deps.js';
import { adoptContainer } from './adopt.js';
import { listCommands, readLog, runSafeCommand } from './console.js';
import type { ProbeResult } from './health.js';
import { HealthMonitor } from './health-monitor.js';

export type { AppView };

/**
 * The apps' operations behind the routes, by use case: deploy (deploy/), delete (delete.ts),
 * adopt (adopt.ts), logs and safe commands (console.ts), the health monitor
 * (health-monitor.ts); here the list and the view, power, resources, stats and secrets, and
 * the state checks every action shares.
 */
export class AppsService {
  private readonly monitor: HealthMonitor;
  /**
   * Every app's view for one state of the store, the PVE snapshot and the health answers,
   * and per caller's permission map the part they see: a list polled by many open tabs is
   * made once per change, not once per request (issue 19).
   */
  private page:
    | { key: readonly unknown[]; views: readonly AppView[]; seen: WeakMap<PermissionMap, AppView[]> }
    | undefined;

  constructor(
    private readonly deps: AppsDeps & {
      catalog: CatalogService;
      tasks: TaskEngine;
    },
  ) {
    this.monitor = new HealthMonitor(deps);
  }

  /** Checks a deploy and starts its task (deploy/start.ts); the app's view at once. */
  async deploy(caller: Caller, input: DeployInput): Promise<{ app: AppView; taskId: string }> {
    const taskId = await startDeploy(this.deps, caller, input);
    return { app: this.view(this.require(input.hostname), null), taskId };
  }

  /** Apps the caller may see (VM.Audit on their container), with PVE's live view. */
  async list(caller: Caller): Promise<{ apps: AppView[]; pve: { ok: boolean; reason?: string } }> {
    const { resources, pve } = await this.resources();
    const records = this.deps.repository.list();
    const domain = this.deps.network.settings.domain;
    const key = [this.deps.repository.changes(), resources, this.monitor.version, domain, pve.reason];
    if (!this.page || key.some((part, i) => part !== this.page!.key[i])) {
      const views = records.map((app) => this.view(app, pve.ok ? resources : null, domain));
      this.page = { key, views, seen: new WeakMap() };
    }
    let apps = this.page.seen.get(caller.permissions);
    if (!apps) {
      apps = this.page.views.filter((app) => this.canSee(caller, app));
      this.page.seen.set(caller.permissions, apps);
    }
    return { apps, pve };
  }

  async get(hostname: string): Promise<AppView & { spec: AppSpec }> {
    return { ...(await this.viewOf(hostname)), spec: this.require(hostname).spec };
  }

  /** One app's view (after an action on it): the same PVE figures the list uses. */
  private async viewOf(hostname: string): Promise<AppView> {
    const app = this.require(hostname);
    const { resources, pve } = await this.resources({ fresh: true });
    return this.view(app, pve.ok ? resources : null);
  }

  require(hostname: string): AppRecord {
    const app = this.deps.repository.get(hostname);
    if (!app) throw errors.notFound(`no app ${hostname}`);
    return app;
  }

  canSee(caller: Caller, app: { vmid: number | null }): boolean {
    return hasPrivilege(caller.permissions, app.vmid === null ? '/vms' : `/vms/${app.vmid}`, 'VM.Audit');
  }

  /** An app that has a container and is not being deployed or deleted: what lifecycle actions need. */
  settled(hostname: string): AppRecord & { vmid: number } {
    const app = this.require(hostname);
    if (app.state === 'deploying' || app.state === 'deleting')
      throw errors.conflict(`${hostname} is ${app.state} (task ${app.taskId}): wait for it or cancel it`);
    if (app.vmid === null) throw errors.conflict(`${hostname} has no container`);
    return app as AppRecord & { vmid: number };
  }

  async power(caller: Caller, hostname: string, action: 'start' | 'stop' | 'restart'): Promise<AppView> {
    const app = this.settled(hostname);
    const { containers } = this.deps;
    if (action === 'start') await containers.start(app.node, app.vmid);
    else if (action === 'stop') await containers.shutdown(app.node, app.vmid);
    else await containers.reboot(app.node, app.vmid);
    this.monitor.forget(hostname);
    this.deps.audit.append({ actor: caller.id, action: `app.${action}`, target: hostname, result: 'ok' });
    if (action !== 'stop') void this.probeOne(this.require(hostname));
    return this.viewOf(hostname);
  }

  remove(caller: Caller, hostname: string): string {
    const app = this.require(hostname);
    if (app.state === 'deploying' || app.state === 'deleting')
      throw errors.conflict(`${hostname} is ${app.state} (task ${app.taskId}): wait for it or cancel it`);
    const task = this.deps.tasks.start(DELETE_KIND, {
      input: { hostname, node: app.node, vmid: app.vmid } satisfies DeleteTaskInput,
      target: hostname,
      actor: caller.id,
      within: (taskId) => this.deps.repository.setState(hostname, 'deleting', taskId),
    });
    this.monitor.forget(hostname);
    this.deps.audit.append({
      actor: caller.id,
      action: 'app.delete',
      target: hostname,
      result: 'started',
      details: { task: task.id, vmid: app.vmid },
    });
    return task.id;
  }

  async setResources(
    caller: Caller,
    hostname: string,
    change: { cores?: number | undefined; memoryMb?: number | undefined; diskGb?: number | undefined },
  ): Promise<AppView & { spec: AppSpec }> {
    const app = this.settled(hostname);
    const fields: FieldErrors = {};
    if (change.diskGb !== undefined)
      fields.diskGb = 'is grown in Proxmox VE itself (Resources → Root Disk → Volume Action → Resize)';
    const capacity = await this.deps.containers.nodeCapacity(app.node);
    if (change.cores !== undefined && change.cores > capacity.cpus)
      fields.cores = `must be at most ${capacity.cpus}: the CPUs of ${app.node}`;
    if (change.memoryMb !== undefined && capacity.memoryMb > 0 && change.memoryMb > capacity.memoryMb)
      fields.memoryMb = `must be at most ${capacity.memoryMb}: the memory of ${app.node} in MiB`;
    if (change.cores === undefined && change.memoryMb === undefined && change.diskGb === undefined)
      fields.cores = 'give cores or memoryMb';
    if (Object.keys(fields).length > 0) throw errors.validation('the resources cannot be changed so', fields);
    await this.deps.containers.setResources(app.node, app.vmid, {
      ...(change.cores !== undefined ? { cores: change.cores } : {}),
      ...(change.memoryMb !== undefined ? { memory: change.memoryMb } : {}),
    });
    const spec = {
      ...app.spec,
      resources: {
        ...app.spec.resources,
        ...(change.cores !== undefined ? { cores: change.cores } : {}),
        ...(change.memoryMb !== undefined ? { memoryMb: change.memoryMb } : {}),
      },
    };
    this.deps.repository.setSpec(hostname, spec);
    this.deps.audit.append({
      actor: caller.id,
      action: 'app.resources',
      target: hostname,
      result: 'ok',
      details: change,
    });
    return this.get(hostname);
  }

  /** The app's log (console.ts). */
  async logs(hostname: string, lines: number): Promise<{ source: string; lines: string[] }> {
    return readLog(this.deps, await this.running(hostname), lines);
  }

  async stats(hostname: string, timeframe: 'hour' | 'day' | 'week') {
    const app = this.settled(hostname);
    const [current, rrd] = await Promise.all([
      this.deps.containers.current(app.node, app.vmid),
      this.deps.containers.rrd(app.node, app.vmid, timeframe),
    ]);
    const pick = (key: string) => (typeof current[key] === 'number' ? current[key] : null);
    return {
      status: current.status,
      cpu: pick('cpu'),
      cpus: pick('cpus'),
      memory: { used: pick('mem'), max: pick('maxmem') },
      disk: { used: pick('disk'), max: pick('maxdisk') },
      network: { in: pick('netin'), out: pick('netout') },
      uptime: pick('uptime'),
      rrd,
    };
  }

  commands(hostname: string) {
    return listCommands(this.require(hostname));
  }

  /** Runs one of the app's pre-declared read-only commands (console.ts). */
  async runCommand(caller: Caller, hostname: string, name: string) {
    return runSafeCommand(this.deps, caller, await this.running(hostname), name);
  }

  /** Makes a container already on proximity-lan an app (adopt.ts); probed at once. */
  async adopt(caller: Caller, input: AdoptInput): Promise<AppView> {
    const hostname = await adoptContainer(this.deps, caller, input);
    void this.probeOne(this.require(hostname));
    return this.viewOf(hostname);
  }

  /** The generated secrets, once: the second call finds them gone. */
  takeSecrets(caller: Caller, hostname: string): Record<string, string> {
    const app = this.require(hostname);
    if (app.state !== 'ready')
      throw errors.conflict(`${hostname} is ${app.state}: secrets are shown once it is ready`);
    if (!app.secretsPending)
      throw errors.notFound(`the secrets of ${hostname} were already shown (or it has none)`);
    const secrets = this.deps.repository.takeSecrets(hostname);
    this.deps.audit.append({ actor: caller.id, action: 'app.secrets.shown', target: hostname, result: 'ok' });
    return secrets;
  }

  /** One round of the health monitor (health-monitor.ts). */
  probeAll(): Promise<void> {
    return this.monitor.round(() => this.resources());
  }

  probeOne(app: AppRecord): Promise<ProbeResult | undefined> {
    return this.monitor.probe(app);
  }

  private async running(hostname: string): Promise<AppRecord & { vmid: number }> {
    const app = this.settled(hostname);
    const status = await this.deps.containers.status(app.node, app.vmid);
    if (status !== 'running')
      throw errors.conflict(`CT ${app.vmid} (${hostname}) is ${status}: start it first`);
    return app;
  }

  /** PVE's resource list from the shared snapshot (`fresh`: listed after this call began). */
  private async resources(options: { fresh?: boolean } = {}): Promise<{
    resources: ReadonlyMap<string, ContainerResource>;
    pve: { ok: boolean; reason?: string };
  }> {
    try {
      return { resources: await this.deps.containers.resources(options), pve: { ok: true } };
    } catch (error) {
      return { resources: new Map(), pve: { ok: false, reason: (error as Error).message } };
    }
  }

  /**
   * The catalog entry's icon, only when it is an image data URI: the UI loads nothing from
   * the internet (a remote logo URL stays in the catalog; the UI draws a letter tile).
   */
  private icon(app: AppRecord): { icon?: string } {
    const icon = app.catalogId === null ? undefined : this.deps.catalog.get(app.catalogId)?.icon;
    return icon?.startsWith('data:image/') ? { icon } : {};
  }

  /** `resources` null: PVE did not answer, so whether the container runs is unknown. */
  private view(
    app: AppRecord,
    resources: ReadonlyMap<string, ContainerResource> | null,
    domain: string = this.deps.network.settings.domain,
  ): AppView {
    const resource = app.vmid === null ? undefined : resources?.get(`${app.node}/${app.vmid}`);
    const health = this.monitor.last(app.hostname) ?? null;
    let status: AppView['status'];
    if (app.state !== 'ready') status = app.state;
    else if (resources === null) status = 'unknown';
    else if (!resource) status = 'missing';
    else if (resource.status !== 'running') status = 'stopped';
    else status = health && !health.healthy ? 'unreachable' : 'running';
    return {
      hostname: app.hostname,
      name: app.spec.catalog?.name ?? app.hostname,
      catalogId: app.catalogId,
      ...this.icon(app),
      kind: appKind(app.spec),
      url: appLink(app.hostname, domain, app.spec),
      address: appAddress(app.hostname, domain, app.spec),
      node: app.node,
      vmid: app.vmid,
      state: app.state,
      status,
      health,
      ip: app.ip,
      mac: app.mac,
      port: app.spec.port.port,
      protocol: app.spec.port.protocol,
      cpu: resource?.cpu ?? null,
      memory: resource?.maxmem ? { used: resource.mem ?? 0, max: resource.maxmem } : null,
      uptime: resource?.uptime ?? null,
      taskId: app.taskId,
      owner: app.owner,
      adopted: app.catalogId === null,
      secretsPending: app.secretsPending,
      createdAt: app.createdAt,
    };
  }
}
