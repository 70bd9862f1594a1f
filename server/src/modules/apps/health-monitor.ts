import { appKind, type AppRecord } from './app.js';
import type { ContainerResource } from './containers.js';
import type { AppsDeps } from './deps.js';
import { probe, probeTcp, type ProbeResult } from './health.js';

const PROBE_CONCURRENCY = 4;

/**
 * The health monitor: probes running apps on the network's site so the list can tell
 * "running" from "unreachable", and keeps each app's last answer (in memory: a restart
 * starts from "not probed yet").
 */
export class HealthMonitor {
  private readonly health = new Map<string, ProbeResult>();
  private probing = false;
  /** Bumped at every change of an answer: views made from older answers are out of date. */
  version = 0;

  constructor(private readonly deps: Pick<AppsDeps, 'network' | 'repository'>) {}

  last(hostname: string): ProbeResult | undefined {
    return this.health.get(hostname);
  }

  /** After a power action or a delete: the old answer no longer says anything. */
  forget(hostname: string): void {
    if (this.health.delete(hostname)) this.version++;
  }

  /**
   * One round of the health monitor: every ready app whose container runs is asked once,
   * a few at a time, on the network's site. Rounds never overlap.
   */
  async round(current: () => Promise<{ resources: ReadonlyMap<string, ContainerResource> }>): Promise<void> {
    if (this.probing || !this.deps.network.initialized) return;
    this.probing = true;
    try {
      const { resources } = await current();
      const due = this.deps.repository
        .list()
        .filter(
          (app) =>
            app.state === 'ready' && app.ip && resources.get(`${app.node}/${app.vmid}`)?.status === 'running',
        );
      for (let index = 0; index < due.length; index += PROBE_CONCURRENCY)
        await Promise.all(due.slice(index, index + PROBE_CONCURRENCY).map((app) => this.probe(app)));
    } finally {
      this.probing = false;
    }
  }

  async probe(app: AppRecord): Promise<ProbeResult | undefined> {
    if (!app.ip) return undefined;
    const site = await this.deps.network.currentSite().catch(() => undefined);
    if (!site) return undefined;
    const { port, healthCheck } = app.spec;
    // A TCP service is probed by a connect (its check command runs only at deploy: a pct exec
    // every round would be a process in every container every few seconds).
    const answer =
      appKind(app.spec) === 'tcp'
        ? probeTcp(site, { ip: app.ip, port: port.port })
        : probe(site, {
            url: `${port.protocol}://${app.ip}:${port.port}${healthCheck.path ?? '/'}`,
            check: healthCheck,
          });
    const result = await answer.catch((error: unknown) => ({
      healthy: false,
      reason: (error as Error).message,
      at: new Date().toISOString(),
      durationMs: 0,
    }));
    this.health.set(app.hostname, result);
    this.version++;
    return result;
  }
}
