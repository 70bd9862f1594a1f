import type { Logger } from '../../core/logger.js';
import type { Appliance } from './appliance.js';
import { ApplianceError } from './appliance.js';
import type { BridgeManager } from './bridge.js';
import { DnsService } from './dns.js';
import { parseLeaseFile } from './leases.js';
import { NatService } from './nat.js';
import type { NetworkRepository } from './repository.js';
import type { NetworkSettings } from './settings.js';
import type { SiteComponent } from './component.js';
import type { HostSite } from './site/host.js';
import type { ServiceSite } from './site/site.js';

export interface PassResult {
  at: string;
  reason: string;
  ok: boolean;
  /** What the pass had to change or repair (empty: everything was as wanted). */
  actions: string[];
  error?: string;
  /** The error itself, for callers that answer with it (not serialized). */
  failure?: unknown;
  durationMs: number;
}

/** The appliance could not be provisioned: containers go to the uplink by DHCP meanwhile. */
export interface Fallback {
  since: string;
  reason: string;
}

/**
 * Drives the real world (bridge, appliance, dnsmasq, NAT) to the stored desired state, at
 * start-up, after every change and on a timer; every pass is idempotent, passes never
 * overlap, and whatever it had to repair becomes an event. It is also what keeps dnsmasq
 * running: a dnsmasq that died is noticed within one interval and started again.
 */
export class NetworkReconciler {
  private running: Promise<PassResult> | undefined;
  private queued: Promise<PassResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  /** The lease watcher's read in progress: one at a time, awaited by stop(). */
  private leasePoll: Promise<void> | undefined;
  /** Set by stop(): no pass or lease read starts afterwards (the store is about to close). */
  private stopped = false;
  last: PassResult | undefined;
  fallback: Fallback | undefined;
  /** Where the services ran after the last pass; the lease watcher reads from there. */
  private site: ServiceSite | undefined;
  /** Other modules' services on the same site (the proxy). */
  readonly components: SiteComponent[] = [];
  /** Told after every pass (the status measured before it is out of date). */
  readonly afterPass: ((pass: PassResult) => void)[] = [];

  constructor(
    private readonly deps: {
      repository: NetworkRepository;
      bridge: BridgeManager;
      appliance: Appliance;
      host: (settings: NetworkSettings) => HostSite;
      logger: Logger;
      intervalMs: number;
    },
  ) {}

  start(): void {
    const { intervalMs } = this.deps;
    this.timer = setInterval(() => void this.request('timer'), intervalMs);
    // Leases are cheap to read and users wait for them: watched more often than the rest.
    this.leaseTimer = setInterval(() => this.pollLeases(), Math.min(1000, intervalMs));
    this.timer.unref();
    this.leaseTimer.unref();
    void this.request('start-up');
  }

  /**
   * Stops the timers, refuses new passes, and waits for the pass in progress, the one queued
   * behind it and the lease read: after this resolves, nothing here touches the store.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.leaseTimer);
    while (this.running || this.queued || this.leasePoll) {
      await Promise.allSettled([this.running, this.queued, this.leasePoll]);
    }
  }

  private pollLeases(): void {
    if (this.stopped || this.leasePoll) return;
    const poll = this.syncLeases()
      .catch(() => {}) // a lease file mid-rewrite: the next tick reads it
      .finally(() => {
        if (this.leasePoll === poll) this.leasePoll = undefined;
      });
    this.leasePoll = poll;
  }

  private skipped(reason: string): PassResult {
    return {
      at: new Date().toISOString(),
      reason,
      ok: false,
      actions: [],
      error: 'the service is stopping',
      durationMs: 0,
    };
  }

  /**
   * Runs a pass now, or right after the one in progress (which may have read older desired
   * state). Concurrent requests share the queued pass.
   */
  request(reason: string, options: { forceBridge?: boolean } = {}): Promise<PassResult> {
    if (this.stopped) return Promise.resolve(this.skipped(reason));
    if (!this.running) {
      const pass = this.pass(reason, options);
      this.running = pass;
      void pass.finally(() => {
        if (this.running === pass) this.running = undefined;
      });
      return pass;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.request(reason, options);
    });
    return this.queued;
  }

  /** The site where the services should run now, without changing anything. */
  async currentSite(settings: NetworkSettings): Promise<ServiceSite | undefined> {
    if (settings.placement === 'host') return this.deps.host(settings);
    return this.deps.appliance.site();
  }

  private async pass(reason: string, options: { forceBridge?: boolean }): Promise<PassResult> {
    const started = Date.now();
    const { repository, logger } = this.deps;
    const { initialized, settings } = repository.state();
    const result: PassResult = { at: new Date().toISOString(), reason, ok: true, actions: [], durationMs: 0 };
    if (!initialized) return this.finish(result, started);
    try {
      result.actions.push(...(await this.deps.bridge.ensure(settings, { force: options.forceBridge })));
      const site = await this.placeServices(settings, result.actions);
      this.site = site;
      if (site) {
        // Leases first: the components resolve upstream names from them, once for the pass.
        await this.syncLeases(site);
        const plans = this.components.map((component) => component.plan(settings));
        const dns = new DnsService(site);
        const desired = {
          settings,
          reservations: repository.reservations(),
          names: repository.names(),
          records: plans.flatMap((plan) => plan.dnsRecords),
        };
        result.actions.push(...(await dns.apply(desired)).map((change) => change.message));
        const ports = plans.flatMap((plan) => plan.upstreamPorts);
        result.actions.push(...(await new NatService(site).apply(settings, ports)));
        for (const plan of plans) result.actions.push(...(await plan.apply(site)));
      }
    } catch (error) {
      result.ok = false;
      result.error = (error as Error).message;
      result.failure = error;
      logger.warn({ err: error, reason }, 'network reconcile pass failed');
    }
    for (const action of result.actions) repository.addEvent('repair', action);
    if (!result.ok && result.error !== this.last?.error) repository.addEvent('error', result.error!);
    if (result.actions.length > 0) logger.info({ reason, actions: result.actions }, 'network reconciled');
    return this.finish(result, started);
  }

  /**
   * Makes the placement's site ready and the other one quiet. An appliance that cannot be
   * provisioned puts the network in fallback (with the reason) until a pass succeeds.
   */
  private async placeServices(
    settings: NetworkSettings,
    actions: string[],
  ): Promise<ServiceSite | undefined> {
    const { appliance, repository } = this.deps;
    const host = this.deps.host(settings);
    if (settings.placement === 'host') {
      const applianceSite = await appliance.site().catch(() => undefined);
      if (applianceSite)
        for (const c of this.components) actions.push(...(await c.leave(applianceSite).catch(() => [])));
      if (await appliance.stop().catch(() => false))
        actions.push(`appliance CT ${appliance.vmid} stopped (services moved to the node)`);
      return host;
    }
    // Services leave the node first: never two DHCP servers on one LAN.
    for (const c of this.components) actions.push(...(await c.leave(host)));
    const hostDns = new DnsService(host);
    if ((await hostDns.pid()) !== undefined) {
      await hostDns.stop();
      actions.push('dnsmasq on the node stopped (services moved to the appliance)');
    }
    if (await new NatService(host).remove()) actions.push('NAT table on the node removed');
    try {
      const { site, actions: applianceActions } = await appliance.ensure(settings);
      actions.push(...applianceActions);
      if (this.fallback) {
        actions.push('appliance ready: fallback ended');
        this.fallback = undefined;
      }
      return site;
    } catch (error) {
      if (!(error instanceof ApplianceError)) throw error;
      if (this.fallback?.reason !== error.message) {
        this.fallback = { since: new Date().toISOString(), reason: error.message };
        repository.addEvent(
          'fallback',
          `appliance unavailable, containers fall back to the uplink: ${error.message}`,
        );
      }
      throw error;
    }
  }

  /** Reads dnsmasq's lease file into the store; new and vanished leases become events. */
  async syncLeases(site: ServiceSite | undefined = this.site): Promise<void> {
    const { repository } = this.deps;
    if (!site || !repository.state().initialized) return;
    const text = new DnsService(site).leaseFileText();
    if (text === undefined) return;
    const { added, removed } = repository.syncLeases(parseLeaseFile(text));
    for (const lease of added)
      repository.addEvent('lease', `${lease.ip} leased to ${lease.mac} (${lease.hostname ?? 'no name'})`);
    for (const lease of removed) repository.addEvent('lease', `${lease.ip} released by ${lease.mac}`);
  }

  private finish(result: PassResult, started: number): PassResult {
    result.durationMs = Date.now() - started;
    this.last = result;
    for (const listener of this.afterPass) listener(result);
    return result;
  }
}
