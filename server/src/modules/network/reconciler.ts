import { existsSync } from 'node:fs';
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
  /** A light pass: DNS names and the proxy's port map only (a route change). */
  light?: boolean;
}

export interface PassOptions {
  forceBridge?: boolean;
  /** `proxy`: only routes changed; a light pass will do if the last pass left all well. */
  scope?: 'all' | 'proxy';
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
  /** What the queued pass must do: the union of what its requests asked for. */
  private queuedOptions: PassOptions | undefined;
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
   * state). Concurrent requests share the queued pass, which is a full one if any of them
   * asked for a full one. `scope: 'proxy'` (a route changed) asks for a light pass when the
   * last pass left everything well: DNS names and the proxy's port map only (docs/decisions.md,
   * decision 16); anything else is a full pass.
   */
  request(reason: string, options: PassOptions = {}): Promise<PassResult> {
    if (this.stopped) return Promise.resolve(this.skipped(reason));
    if (!this.running) {
      const pass = this.pass(reason, options);
      this.running = pass;
      void pass.finally(() => {
        if (this.running === pass) this.running = undefined;
      });
      return pass;
    }
    const wanted = this.queuedOptions;
    this.queuedOptions = {
      forceBridge: (wanted?.forceBridge ?? false) || options.forceBridge === true,
      scope: wanted && wanted.scope !== 'proxy' ? 'all' : (options.scope ?? 'all'),
    };
    this.queued ??= this.running.then(() => {
      const queuedOptions = this.queuedOptions ?? {};
      this.queued = undefined;
      this.queuedOptions = undefined;
      return this.request(reason, queuedOptions);
    });
    return this.queued;
  }

  /** The site where the services should run now, without changing anything. */
  async currentSite(settings: NetworkSettings): Promise<ServiceSite | undefined> {
    if (settings.placement === 'host') return this.deps.host(settings);
    return this.deps.appliance.site();
  }

  private async pass(reason: string, options: PassOptions): Promise<PassResult> {
    const started = Date.now();
    const { repository, logger } = this.deps;
    const { initialized, settings } = repository.state();
    const result: PassResult = { at: new Date().toISOString(), reason, ok: true, actions: [], durationMs: 0 };
    if (!initialized) return this.finish(result, started);
    try {
      const light = options.scope === 'proxy' ? this.lightSite() : undefined;
      if (light) {
        result.light = true;
        if (!(await this.applySite(light, settings, result.actions, { portMapOnly: true }))) {
          result.light = false;
          await this.applySite(light, settings, result.actions);
        }
      } else {
        result.actions.push(...(await this.deps.bridge.ensure(settings, { force: options.forceBridge })));
        const site = await this.placeServices(settings, result.actions);
        this.site = site;
        if (site) await this.applySite(site, settings, result.actions);
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
   * The site a light pass may use: the one the last pass placed the services on, when that
   * pass succeeded, no fallback is on and the site is still there (an appliance whose init
   * process is gone has restarted: a full pass finds it again).
   */
  private lightSite(): ServiceSite | undefined {
    const site = this.site;
    if (!site || !this.last?.ok || this.fallback) return undefined;
    return existsSync(site.local(site.paths.conf)) ? site : undefined;
  }

  /**
   * The services' state on a placed site: leases, DNS, NAT (or, for a light pass, only the
   * proxy's port map: false when that is not enough) and the components. One order for both.
   */
  private async applySite(
    site: ServiceSite,
    settings: NetworkSettings,
    actions: string[],
    options: { portMapOnly?: boolean } = {},
  ): Promise<boolean> {
    const { repository } = this.deps;
    // Leases first: the components resolve upstream names from them, once for the pass.
    await this.syncLeases(site);
    const plans = this.components.map((component) => component.plan(settings));
    const ports = plans.flatMap((plan) => plan.upstreamPorts);
    const nat = new NatService(site);
    let natActions: string[] = [];
    if (options.portMapOnly) {
      const mapped = await nat.applyPortMap(settings, ports);
      if (mapped === false) return false;
      natActions = mapped;
    }
    const desired = {
      settings,
      reservations: repository.reservations(),
      names: repository.names(),
      records: plans.flatMap((plan) => plan.dnsRecords),
    };
    actions.push(...(await new DnsService(site).apply(desired)).map((change) => change.message));
    actions.push(...(options.portMapOnly ? natActions : await nat.apply(settings, ports)));
    // A light pass applies only what a route change moves: the proxy (the package cache and
    // the like are checked by the full passes).
    for (const [index, plan] of plans.entries())
      if (!options.portMapOnly || this.components[index]!.name === 'proxy')
        actions.push(...(await plan.apply(site)));
    return true;
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
