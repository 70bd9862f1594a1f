import { AppError, errors } from '../../core/errors.js';
import { nameTaken } from '../names/index.js';
import type { Logger } from '../../core/logger.js';
import { Measurement, type Measured } from '../../core/measure.js';
import type { Pct } from '../pve/pct.js';
import { ipToNumber, numberToIp, inSubnet } from './addresses.js';
import { ApplianceError, type Appliance, type ApplianceState } from './appliance.js';
import type { BridgeManager, BridgeStatus } from './bridge.js';
import { DnsService } from './dns.js';
import { NatService, type NatState } from './nat.js';
import type { PackageCache, PackageCacheStatus } from './package-cache.js';
import type { Fallback, NetworkReconciler, PassOptions, PassResult } from './reconciler.js';
import type { LeaseRow, NameRow, NetworkRepository, ReservationRow } from './repository.js';
import type { NetworkSettings } from './settings.js';
import type { SiteComponent } from './component.js';
import type { ServiceSite } from './site/site.js';

export type Health = 'healthy' | 'degraded' | 'down';

/** Whether a stored change is already live; if not, the reconciler applies it later. */
export type Applied = { applied: true } | { applied: false; reason: string };

export interface NetworkStatus {
  initialized: boolean;
  placement: NetworkSettings['placement'];
  health: Health;
  reasons: string[];
  bridge: BridgeStatus;
  appliance?: { vmid: number; state: ApplianceState | 'unknown' };
  dhcp: { running: boolean; pid: number | null; leaseCount: number };
  nat: NatState;
  fallback: (Fallback & { active: true }) | { active: false };
  lastPass: Omit<PassResult, 'failure'> | null;
  packageCache: PackageCacheStatus;
}

/** Where new app containers go: proximity-lan, or the uplink while the appliance is down. */
export interface ContainerNetwork {
  bridge: string;
  ip: 'dhcp';
  fallback: boolean;
}

/**
 * The network's domain operations, behind the routes: desired state goes to the store,
 * then a reconciler pass makes it real before the call answers.
 */
export class NetworkService {
  /**
   * The status, measured (several `pct exec`s on the appliance placement): shared by every
   * reader and served with its age, never older than one reconcile interval, so a fault shows
   * within one interval as the reconciler repairs within one (core/measure.ts).
   */
  private readonly measured: Measurement<NetworkStatus>;
  /** The appliance's uplink address (one more exec into it), measured the same way. */
  private readonly wan: Measurement<string | null>;

  constructor(
    private readonly deps: {
      repository: NetworkRepository;
      reconciler: NetworkReconciler;
      packageCache: PackageCache;
      bridge: BridgeManager;
      appliance: Appliance;
      wanBridge: string;
      pct: Pct;
      logger: Logger;
      /** `per-call`: the reference, measured afresh for every request (config `status.mode`). */
      statusMode: 'shared' | 'per-call';
      intervalMs: number;
    },
  ) {
    const ages = {
      maxAgeMs: deps.intervalMs,
      refreshAfterMs: Math.floor(deps.intervalMs / 2),
      shared: deps.statusMode === 'shared',
      onBackgroundError: (error: unknown) => deps.logger.warn({ err: error }, 'network status failed'),
    };
    this.measured = new Measurement({ ...ages, measure: () => this.measure() });
    this.wan = new Measurement({
      ...ages,
      measure: async () => (await deps.appliance.wanAddress().catch(() => undefined)) ?? null,
    });
  }

  /** Lets another module's service live on the network's site (see SiteComponent). */
  addComponent(component: SiteComponent): void {
    this.deps.reconciler.components.push(component);
  }

  /** Asks for a pass soon (a component's desired state changed); resolves when it ran. */
  reconcile(reason: string, options?: PassOptions) {
    return this.deps.reconciler.request(reason, options);
  }

  /** The site the services run on now (undefined: the appliance is not running). */
  currentSite(): Promise<ServiceSite | undefined> {
    return this.deps.reconciler.currentSite(this.settings);
  }

  /** Whether the network was set up (POST /system/network/initialize). */
  get initialized(): boolean {
    return this.deps.repository.state().initialized;
  }

  get settings(): NetworkSettings {
    return this.deps.repository.state().settings;
  }

  /** Sets the network up (or again: a no-op when all is in place). */
  async initialize(): Promise<NetworkStatus> {
    const { repository, reconciler } = this.deps;
    const state = repository.state();
    if (!state.initialized) repository.saveState({ ...state, initialized: true });
    await this.passOrThrow(await reconciler.request('initialize'), { allowFallback: true });
    return this.status();
  }

  async rebuildBridge(): Promise<NetworkStatus> {
    await this.passOrThrow(await this.deps.reconciler.request('rebuild-bridge', { forceBridge: true }), {
      allowFallback: true,
    });
    return this.status();
  }

  /** Retries now what failed (the appliance in fallback, a refused bridge). */
  async retry(): Promise<NetworkStatus> {
    await this.deps.reconciler.request('retry');
    return this.status();
  }

  async updateSettings(settings: NetworkSettings): Promise<NetworkSettings> {
    const { repository } = this.deps;
    const outside = repository.reservations().filter((r) => !inRange(r.ip, settings.statics));
    if (outside.length > 0) {
      throw errors.conflict(
        `reservations outside the new static range: ${outside.map((r) => `${r.hostname} (${r.ip})`).join(', ')}`,
        { statics: 'must contain every reserved address' },
      );
    }
    const stray = repository.names().filter((n) => !inSubnet(n.ip, settings.subnet));
    if (stray.length > 0) {
      throw errors.conflict(`DNS names outside the new subnet: ${stray.map((n) => n.hostname).join(', ')}`, {
        subnet: 'must contain the address of every DNS name',
      });
    }
    const state = repository.state();
    repository.saveState({ ...state, settings });
    if (state.initialized)
      await this.passOrThrow(await this.deps.reconciler.request('settings'), { allowFallback: true });
    return settings;
  }

  reservations(): ReservationRow[] {
    return this.deps.repository.reservations();
  }

  async addReservation(input: {
    mac: string;
    hostname: string;
    ip?: string | undefined;
  }): Promise<ReservationRow & Applied> {
    const { repository } = this.deps;
    const { settings } = repository.state();
    const reservations = repository.reservations();
    if (input.ip !== undefined && !inRange(input.ip, settings.statics)) {
      const range = `must be in the static range ${settings.statics.start}–${settings.statics.end}`;
      throw errors.validation(`ip ${range}`, { ip: range });
    }
    const fields: Record<string, string> = {};
    if (reservations.some((r) => r.mac === input.mac)) fields.mac = `${input.mac} already has a reservation`;
    // Any kind of name (an app's, a route's, a DNS name, Proximity's own): the name registry.
    const holder = repository.registry.holder(input.hostname);
    if (holder) Object.assign(fields, nameTaken(input.hostname, holder, 'hostname').fields);
    if (input.ip !== undefined && reservations.some((r) => r.ip === input.ip))
      fields.ip = `${input.ip} is already reserved`;
    if (Object.keys(fields).length > 0) throw errors.conflict(Object.values(fields).join('; '), fields);
    const ip = input.ip ?? this.freeStatic(settings, reservations);
    const row = repository.addReservation({ mac: input.mac, hostname: input.hostname, ip });
    return { ...row, ...(await this.applyNow('reservation')) };
  }

  async deleteReservation(mac: string): Promise<Applied> {
    if (!this.deps.repository.deleteReservation(mac)) throw errors.notFound(`no reservation for ${mac}`);
    return this.applyNow('reservation');
  }

  names(): NameRow[] {
    return this.deps.repository.names();
  }

  /**
   * Adds or re-points DNS names (one file write and no restart, however many). A name any
   * other kind holds (an app, a route, a reservation, Proximity itself) is a 409 naming the
   * field (`names.<i>.hostname`, or `field(i)`) and the holder; nothing is stored then.
   */
  async putNames(
    names: readonly { hostname: string; ip: string }[],
    field: (index: number) => string = (index) => `names.${index}.hostname`,
  ): Promise<Applied> {
    const { repository } = this.deps;
    const { settings } = repository.state();
    const fields: Record<string, string> = {};
    const ipField = (index: number) => field(index).replace(/hostname$/, 'ip');
    const taken: string[] = [];
    names.forEach((name, index) => {
      if (!inSubnet(name.ip, settings.subnet)) fields[ipField(index)] = 'must be inside the subnet';
      const holder = repository.registry.holder(name.hostname);
      if (holder && !(holder.kind === 'dns' && holder.owner === name.hostname)) {
        const conflict = nameTaken(name.hostname, holder, field(index));
        Object.assign(fields, conflict.fields);
        taken.push(conflict.message);
      }
    });
    if (Object.keys(fields).length > 0)
      throw errors.conflict(taken.length > 0 ? taken.join('; ') : 'some names cannot be added', fields);
    repository.putNames(names, field);
    return this.applyNow('names');
  }

  async deleteName(hostname: string): Promise<Applied> {
    if (!this.deps.repository.deleteName(hostname)) throw errors.notFound(`no DNS name ${hostname}`);
    return this.applyNow('names');
  }

  leases(): (LeaseRow & { reserved: boolean })[] {
    const reserved = new Set(this.deps.repository.reservations().map((r) => r.mac));
    return this.deps.repository.leases().map((lease) => ({ ...lease, reserved: reserved.has(lease.mac) }));
  }

  /**
   * Releases the DHCP lease of a container that is gone (an app deleted or rolled back), so
   * its name stops resolving at once; the store forgets the lease at the same time.
   */
  async releaseLease(mac: string): Promise<string | undefined> {
    const { reconciler, repository } = this.deps;
    const site = await reconciler.currentSite(repository.state().settings).catch(() => undefined);
    if (!site) return undefined;
    const ip = await new DnsService(site).release(mac);
    if (ip) await reconciler.syncLeases(site);
    return ip;
  }

  events(limit: number) {
    return this.deps.repository.events(limit);
  }

  /** Where a new app container's NIC goes. */
  containerNetwork(): ContainerNetwork {
    const fallback = this.deps.reconciler.fallback !== undefined;
    return { bridge: fallback ? this.deps.wanBridge : this.settings.bridge, ip: 'dhcp', fallback };
  }

  /**
   * What is true now, measured after this call began (never the last pass's memory of it);
   * callers that ask at the same time share the measurement.
   */
  async status(): Promise<NetworkStatus> {
    return (await this.measured.fresh()).value;
  }

  /** The status as last measured, at most one reconcile interval old, with its age: for readers that poll. */
  sharedStatus(): Promise<Measured<NetworkStatus>> {
    return this.measured.get();
  }

  /** The appliance's uplink address while it runs (null when unknown), shared like the status. */
  wanAddress(): Promise<Measured<string | null>> {
    return this.wan.get();
  }

  /** A pass changed the world: the next reader gets a new measurement (the old one meanwhile). */
  passed(): void {
    this.measured.markStale();
    this.wan.markStale();
  }

  /** No measurement runs after this resolves (the store closes next). */
  async stop(): Promise<void> {
    await Promise.all([this.measured.stop(), this.wan.stop()]);
  }

  private async measure(): Promise<NetworkStatus> {
    const { repository, reconciler, bridge, appliance } = this.deps;
    const { initialized, settings } = repository.state();
    const reasons: string[] = [];
    const bridgeStatus = await bridge.status(settings);
    let applianceStatus: NetworkStatus['appliance'];
    if (settings.placement === 'appliance') {
      const state = await appliance.state().catch(() => 'unknown' as const);
      applianceStatus = { vmid: appliance.vmid, state };
    }
    const site = await reconciler.currentSite(settings).catch(() => undefined);
    const pid = site ? await new DnsService(site).pid() : undefined;
    const nat = site ? await new NatService(site).state() : { present: false, ipForward: false };
    const leaseCount = repository.leases().length;
    const packageCache = await this.packageCacheStatus(site, settings);

    let health: Health = 'healthy';
    const down = (reason: string) => {
      reasons.push(reason);
      health = 'down';
    };
    const degraded = (reason: string) => {
      reasons.push(reason);
      if (health === 'healthy') health = 'degraded';
    };
    if (!initialized) down('the network is not initialised');
    else {
      if (bridgeStatus.conflict) down(bridgeStatus.conflict);
      else if (!bridgeStatus.exists) down(`bridge ${settings.bridge} does not exist`);
      else if (!bridgeStatus.ok) degraded(`bridge ${settings.bridge} is not as configured`);
      if (applianceStatus && applianceStatus.state !== 'running')
        down(`appliance CT ${appliance.vmid} is ${applianceStatus.state}`);
      if (pid === undefined) down('DHCP/DNS (dnsmasq) is not running');
      if (site && !nat.present) degraded('the NAT rules are missing');
      if (site && !nat.ipForward) degraded('IPv4 forwarding is off');
      if (site && packageCache.enabled && packageCache.available && !packageCache.running)
        degraded('the package cache (apt-cacher-ng) is not running');
      if (reconciler.fallback)
        degraded(`fallback: containers use ${this.deps.wanBridge}: ${reconciler.fallback.reason}`);
    }
    const last = reconciler.last;
    return {
      initialized,
      placement: settings.placement,
      health,
      reasons,
      bridge: bridgeStatus,
      ...(applianceStatus ? { appliance: applianceStatus } : {}),
      dhcp: { running: pid !== undefined, pid: pid ?? null, leaseCount },
      nat,
      fallback: reconciler.fallback ? { active: true, ...reconciler.fallback } : { active: false },
      lastPass: last ? withoutFailure(last) : null,
      packageCache,
    };
  }

  /** The package cache's part of the status: on, running, size, hits (network/package-cache.ts). */
  private packageCacheStatus(site: ServiceSite | undefined, settings: NetworkSettings) {
    return this.deps.packageCache
      .status(site, settings)
      .catch(() => this.deps.packageCache.unknown(settings));
  }

  /**
   * The apt proxy a new app container is given (http://<gateway>:3142), or undefined when
   * the cache is off, the network is in fallback or apt-cacher-ng is not running: apt
   * pointed at a cache that does not answer would fail the deploy.
   */
  async packageCacheProxy(): Promise<string | undefined> {
    if (this.deps.reconciler.fallback) return undefined;
    const site = await this.currentSite().catch(() => undefined);
    return this.deps.packageCache.proxyFor(site, this.settings).catch(() => undefined);
  }

  /**
   * Reaches `target:port` over HTTP from inside a container on the LAN (the path app
   * containers take through NAT), or from the services' site when no container is named.
   */
  async testNat(input: { target: string; port: number; vmid?: number | undefined; timeoutSeconds: number }) {
    const url = `http://${input.target}:${input.port}/`;
    // `timeout` rather than wget's own -T: BusyBox 1.35's wget crashes on -T.
    const argv = ['timeout', String(input.timeoutSeconds), 'wget', '-q', '-O', '-', url];
    const options = { timeoutMs: (input.timeoutSeconds + 5) * 1000, maxOutputBytes: 4096 };
    let from: string;
    let result;
    if (input.vmid !== undefined) {
      from = `CT ${input.vmid}`;
      result = await this.deps.pct.exec(input.vmid, argv, options);
    } else {
      const site = await this.requireSite();
      from = site.description;
      result = await site.run(argv, options);
    }
    return {
      from,
      url,
      ok: result.code === 0,
      durationMs: result.durationMs,
      output: (result.code === 0 ? result.stdout : result.stderr || result.stdout).slice(0, 2048),
    };
  }

  /** The services' site now, or a clear 503 when there is none (appliance down). */
  async requireSite(): Promise<ServiceSite> {
    const site = await this.deps.reconciler.currentSite(this.settings);
    if (!site) throw errors.unavailable(`appliance CT ${this.deps.appliance.vmid} is not running`);
    return site;
  }

  private freeStatic(settings: NetworkSettings, reservations: readonly ReservationRow[]): string {
    const used = new Set(reservations.map((r) => r.ip));
    for (let n = ipToNumber(settings.statics.start); n <= ipToNumber(settings.statics.end); n++) {
      const ip = numberToIp(n);
      if (!used.has(ip)) return ip;
    }
    throw errors.insufficientStorage(
      `no free address left in the static range ${settings.statics.start}–${settings.statics.end}`,
    );
  }

  /** After a change of names or reservations: files written and dnsmasq told before we answer. */
  /**
   * The change is stored either way (desired state): if it cannot be applied now, the
   * reconciler applies it once it can, and the caller is told so.
   */
  private async applyNow(reason: string): Promise<Applied> {
    if (!this.deps.repository.state().initialized)
      return { applied: false, reason: 'the network is not initialised' };
    const pass = await this.deps.reconciler.request(reason);
    return pass.ok ? { applied: true } : { applied: false, reason: pass.error ?? 'unknown' };
  }

  private async passOrThrow(pass: PassResult, options: { allowFallback: boolean }): Promise<void> {
    if (pass.ok) return;
    // Fallback is a state the network can work in; any other failure (a conflict) is not.
    if (options.allowFallback && pass.failure instanceof ApplianceError) return;
    if (pass.failure instanceof AppError) throw pass.failure;
    throw errors.unavailable(`the network could not be brought to the wanted state: ${pass.error}`, {
      cause: pass.failure,
    });
  }
}

function inRange(ip: string, range: { start: string; end: string }): boolean {
  const n = ipToNumber(ip);
  return n >= ipToNumber(range.start) && n <= ipToNumber(range.end);
}

function withoutFailure(pass: PassResult): Omit<PassResult, 'failure'> {
  const { failure: _failure, ...rest } = pass;
  return rest;
}
