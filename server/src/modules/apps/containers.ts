import { setTimeout as sleep } from 'node:timers/promises';
import { errors } from '../../core/errors.js';
import { Measurement } from '../../core/measure.js';
import { PveError } from '../pve/errors.js';
import type { PveService } from '../pve/service.js';
import type { AppSpec } from './app.js';

/** What PVE's cluster resource list says of one container. */
export interface ContainerResource {
  vmid: number;
  node: string;
  status: string;
  name?: string;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  netin?: number;
  netout?: number;
  uptime?: number;
}

interface TemplateChoice {
  os: string;
  version: string;
  volid?: string | undefined;
}

const TASK_TIMEOUT_MS = 300_000;

/**
 * App containers through the PVE API, as Proximity's own token (the routes check the caller's
 * privileges first). Every container a deploy makes carries a marker line in its description
 * naming the app and the task, so an undo or a delete only ever destroys a container that is
 * provably ours, never one that took a VMID we had in mind.
 */
export class AppContainers {
  /**
   * PVE's resource list (one GET /cluster/resources for every container of the cluster),
   * refreshed in the background and shared by every reader: the app list costs no PVE call
   * per request. Never served older than three refresh periods; after a PVE task of ours it
   * is measured again at once (markStale).
   */
  private readonly snapshot: Measurement<Map<string, ContainerResource>>;

  constructor(
    private readonly pve: PveService,
    private readonly storages: { templateStorage: string; rootfsStorage: string },
    status: { mode: 'shared' | 'per-call'; resourcesRefreshMs: number } = {
      mode: 'shared',
      resourcesRefreshMs: 2000,
    },
  ) {
    this.snapshot = new Measurement({
      shared: status.mode === 'shared',
      maxAgeMs: status.resourcesRefreshMs * 3,
      refreshAfterMs: status.resourcesRefreshMs,
      refreshEveryMs: status.resourcesRefreshMs,
      measure: async () => {
        const list = (await this.pve.service.api.cluster.resources.$get({
          type: 'vm',
        })) as ContainerResource[];
        // Built once per snapshot, not per request: 1,000 apps are 1,000 lookups.
        return new Map(list.map((r) => [`${r.node}/${Number(r.vmid)}`, { ...r, vmid: Number(r.vmid) }]));
      },
    });
  }

  /** Starts the background refresh of the resource snapshot. */
  startRefresh(): void {
    this.snapshot.start();
  }

  /** Ends the background refresh and waits for the PVE call in flight. */
  stopRefresh(): Promise<void> {
    return this.snapshot.stop();
  }

  static marker(hostname: string, taskId: string): string {
    return `proximity-app: ${hostname} task ${taskId}`;
  }

  private lxc(node: string) {
    return this.pve.service.api.nodes.$(node).lxc;
  }

  /**
   * The first VMID free in PVE and not in `held` (VMIDs other deploys allocated but have not
   * created yet: PVE's nextid does not reserve).
   */
  async nextVmid(held: ReadonlySet<number>): Promise<number> {
    const cluster = this.pve.service.api.cluster;
    let candidate = Number(await cluster.nextid.$get());
    for (let tries = 0; tries < 1000; tries++) {
      if (!held.has(candidate)) {
        try {
          return Number(await cluster.nextid.$get({ vmid: candidate }));
        } catch (error) {
          if (!(error instanceof PveError && error.kind === 'validation')) throw error;
        }
      }
      candidate++;
    }
    throw errors.insufficientStorage('no free VMID found after 1000 tries');
  }

  /** The template's volume on the node, downloaded through PVE (aplinfo) if it is missing. */
  async ensureTemplate(
    node: string,
    template: TemplateChoice,
    options: { signal: AbortSignal; log: (line: string) => void },
  ): Promise<string> {
    const api = this.pve.service.api.nodes.$(node);
    const storage = template.volid?.split(':')[0] ?? this.storages.templateStorage;
    const content = (await api.storage.$(storage).content.$get({ content: 'vztmpl' })) as { volid: string }[];
    const volids = content.map((item) => item.volid);
    if (template.volid && volids.includes(template.volid)) return template.volid;
    const present = !template.volid && volids.find((volid) => matchesTemplate(fileOf(volid), template));
    if (present) return present;

    const available = (await api.aplinfo.$get()) as { template: string; os: string; version: string }[];
    const wantedFile = template.volid ? fileOf(template.volid) : undefined;
    const candidates = available
      .filter((item) =>
        wantedFile ? item.template === wantedFile : matchesTemplate(item.template, template, item),
      )
      .sort((a, b) => b.template.localeCompare(a.template, undefined, { numeric: true }));
    const chosen = candidates[0];
    if (!chosen)
      throw errors.notFound(
        `no ${template.volid ?? `${template.os} ${template.version}`} template on ${storage} and none to download (pveam available)`,
      );
    options.log(`downloading template ${chosen.template} to ${storage}`);
    const upid = await api.aplinfo.$post({ storage, template: chosen.template });
    await this.pve.service.waitForTask(upid, {
      timeoutMs: 30 * 60_000,
      signal: options.signal,
      onLog: options.log,
    });
    return `${storage}:vztmpl/${chosen.template}`;
  }

  /** Creates the container (PVE task); returns its UPID as soon as PVE accepted it. */
  async create(options: {
    node: string;
    vmid: number;
    hostname: string;
    taskId: string;
    volid: string;
    resources: AppSpec['resources'];
    bridge: string;
  }): Promise<string> {
    const r = options.resources;
    return this.lxc(options.node).$post({
      vmid: options.vmid,
      ostemplate: options.volid,
      hostname: options.hostname,
      description: `Proximity app ${options.hostname}: managed by Proximity, change it there.\n${AppContainers.marker(options.hostname, options.taskId)}\n`,
      tags: 'proximity-app',
      cores: r.cores,
      memory: r.memoryMb,
      rootfs: `${this.storages.rootfsStorage}:${r.diskGb}`,
      unprivileged: r.unprivileged,
      ...(r.nesting ? { features: 'nesting=1' } : {}),
      net0: `name=eth0,bridge=${options.bridge},ip=dhcp`,
      onboot: true,
    });
  }

  /** The container's configuration, or undefined if it does not exist. */
  async config(node: string, vmid: number): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.lxc(node).$(vmid).config.$get({})) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof PveError && /does not exist/.test(error.message)) return undefined;
      throw error;
    }
  }

  /** Whether the container exists and its description carries our marker for this app. */
  static isOurs(config: Record<string, unknown> | undefined, hostname: string, taskId?: string): boolean {
    const description = String(config?.description ?? '');
    const marker = new RegExp(`^proximity-app: ${hostname} task (\\S+)$`, 'm').exec(description);
    return marker !== null && (taskId === undefined || marker[1] === taskId);
  }

  /** Waits until PVE's lock on the container (create, destroy, ...) is gone. */
  async waitUnlocked(
    node: string,
    vmid: number,
    signal: AbortSignal,
  ): Promise<Record<string, unknown> | undefined> {
    const deadline = Date.now() + TASK_TIMEOUT_MS;
    for (;;) {
      const config = await this.config(node, vmid);
      if (!config?.lock) return config;
      if (Date.now() > deadline) throw errors.unavailable(`CT ${vmid} stays locked (${String(config.lock)})`);
      await sleep(500, undefined, { signal });
    }
  }

  async status(node: string, vmid: number): Promise<string> {
    const current = (await this.lxc(node).$(vmid).status.current.$get()) as { status: string };
    return current.status;
  }

  async current(node: string, vmid: number): Promise<Record<string, unknown>> {
    return (await this.lxc(node).$(vmid).status.current.$get()) as Record<string, unknown>;
  }

  async rrd(node: string, vmid: number, timeframe: 'hour' | 'day' | 'week') {
    return this.lxc(node).$(vmid).rrddata.$get({ timeframe, cf: 'AVERAGE' });
  }

  /** Starts it unless it runs; waits for PVE's task. */
  async start(node: string, vmid: number, signal?: AbortSignal): Promise<boolean> {
    if ((await this.status(node, vmid)) === 'running') return false;
    await this.wait(await this.lxc(node).$(vmid).status.start.$post(), signal);
    return true;
  }

  /** Shuts it down cleanly, forcing it after `timeout` seconds, as PVE's Shutdown button. */
  async shutdown(node: string, vmid: number, timeout = 30): Promise<boolean> {
    if ((await this.status(node, vmid)) !== 'running') return false;
    await this.wait(await this.lxc(node).$(vmid).status.shutdown.$post({ timeout, forceStop: true }));
    return true;
  }

  async reboot(node: string, vmid: number): Promise<void> {
    if ((await this.status(node, vmid)) !== 'running') {
      await this.start(node, vmid);
      return;
    }
    await this.wait(await this.lxc(node).$(vmid).status.reboot.$post({ timeout: 30 }));
  }

  async setResources(node: string, vmid: number, change: { cores?: number; memory?: number }): Promise<void> {
    await this.lxc(node).$(vmid).config.$put(change);
    this.snapshot.markStale();
  }

  /** Stops (hard) and destroys it with its disks and jobs, as PVE's Remove with purge. */
  async destroy(node: string, vmid: number): Promise<void> {
    if ((await this.status(node, vmid)) === 'running')
      await this.wait(await this.lxc(node).$(vmid).status.stop.$post());
    await this.wait(
      await this.lxc(node).$(vmid).$delete({ purge: true, 'destroy-unreferenced-disks': true }),
    );
    this.snapshot.markStale();
  }

  /** eth0's MAC, as PVE generated it at create time. */
  static macOf(config: Record<string, unknown>): string | undefined {
    return /(?:^|,)hwaddr=([0-9A-Fa-f:]{17})(?:,|$)/.exec(String(config.net0 ?? ''))?.[1]?.toLowerCase();
  }

  static bridgeOf(config: Record<string, unknown>): string | undefined {
    return /(?:^|,)bridge=([^,]+)/.exec(String(config.net0 ?? ''))?.[1];
  }

  /** eth0's address as PVE reports it (fallback containers on the uplink have no lease of ours). */
  async address(node: string, vmid: number): Promise<string | undefined> {
    const interfaces = (await this.lxc(node).$(vmid).interfaces.$get()) as { name: string; inet?: string }[];
    return interfaces.find((i) => i.name === 'eth0')?.inet?.split('/')[0];
  }

  /**
   * Every container of the cluster as PVE lists it, from the shared snapshot; `fresh`: listed
   * after this call began (the view after an action of ours must show its effect).
   */
  async resources(options: { fresh?: boolean } = {}): Promise<ReadonlyMap<string, ContainerResource>> {
    return (options.fresh ? await this.snapshot.fresh() : await this.snapshot.get()).value;
  }

  /** The node's size, to refuse resources it cannot give. */
  async nodeCapacity(node: string): Promise<{ cpus: number; memoryMb: number }> {
    const status = (await this.pve.service.api.nodes.$(node).status.$get()) as {
      cpuinfo?: { cpus?: number };
      memory?: { total?: number };
    };
    return {
      cpus: status.cpuinfo?.cpus ?? 1,
      memoryMb: Math.floor((status.memory?.total ?? 0) / 1024 / 1024),
    };
  }

  private async wait(upid: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.pve.service.waitForTask(upid, { timeoutMs: TASK_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    } finally {
      // The task changed what PVE lists: the next reader starts a new snapshot.
      this.snapshot.markStale();
    }
  }
}

function fileOf(volid: string): string {
  return volid.slice(volid.indexOf('/') + 1);
}

/**
 * A template file for `os` `version`: PVE names them `debian-13-standard_13.1-2_amd64.tar.zst`
 * (aplinfo's os `debian-13`), or its aplinfo entry says so (`busybox`, version `1.36`).
 */
export function matchesTemplate(
  file: string,
  template: TemplateChoice,
  apl?: { os: string; version: string },
): boolean {
  const major = template.version.split('.')[0];
  if (file.startsWith(`${template.os}-${template.version}-`) || file.startsWith(`${template.os}-${major}-`))
    return true;
  if (apl === undefined) {
    const escaped = template.version.replace(/\./g, '\\.');
    return new RegExp(`^${template.os}[-_].*_${escaped}[._-]`).test(file);
  }
  return (
    (apl.os === template.os && apl.version.startsWith(template.version)) ||
    apl.os === `${template.os}-${major}`
  );
}
