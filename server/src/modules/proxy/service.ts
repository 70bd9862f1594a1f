import { AppError, errors } from '../../core/errors.js';
import { nameTaken } from '../names/index.js';
import type { NetworkService } from '../network/service.js';
import { CaddyService } from './caddy.js';
import type { ProxyComponent } from './component.js';
import type { ProxyDiscovery } from './discovery.js';
import { canonicalJson, isDynamicRoute } from './render/caddy.js';
import type { ProxyRepository } from './repository.js';
import type { Route, RouteInput } from '../../contract/proxy.js';

const ROUTES_ONLY = { scope: 'proxy' } as const;

export type Applied = { applied: true } | { applied: false; reason: string };

/**
 * The proxy's domain operations: routes are desired state; a network pass (which applies
 * the proxy on the services' site) makes them real before the call answers. A route Caddy
 * refuses is taken back, so what is stored is always what Caddy could load.
 */
export class ProxyService {
  constructor(
    private readonly repository: ProxyRepository,
    private readonly component: ProxyComponent,
    private readonly network: NetworkService,
    private readonly discovery: ProxyDiscovery,
  ) {}

  /** Reads the containers' tags now (besides the timer) and applies what changed. */
  async discover(): Promise<{ changed: boolean; skipped: string[] }> {
    const changed = await this.discovery.sync();
    if (changed) await this.network.reconcile('discovery', ROUTES_ONLY);
    return { changed, skipped: this.discovery.skipped };
  }

  routes(): (Route & { dynamic: boolean })[] {
    return this.repository.routes().map((route) => ({ ...route, dynamic: isDynamicRoute(route) }));
  }

  route(id: string): Route {
    const route = this.repository.route(id);
    if (!route) throw errors.notFound(`no route ${id}`);
    return route;
  }

  async create(input: RouteInput, source: Route['source'] = 'api'): Promise<Route & Applied> {
    const id = input.hostnames[0]!;
    if (this.repository.route(id)) throw nameTaken(id, { kind: 'route', owner: id }, 'hostnames.0');
    this.checkHostnames(input, { id, source });
    const route: Route = { ...input, id, source };
    this.repository.insert(route);
    const applied = await this.applyOrUndo(() => this.repository.delete(id));
    return { ...route, ...applied };
  }

  async replace(id: string, input: RouteInput): Promise<Route & Applied> {
    const before = this.route(id);
    this.checkHostnames(input, before);
    if (input.hostnames[0] !== id)
      throw errors.validation('the first hostname is the route id and cannot change', {
        hostnames: `must start with ${id}`,
      });
    const route: Route = { ...input, id, source: before.source };
    this.repository.update(route);
    const applied = await this.applyOrUndo(() => this.repository.update(before));
    return { ...route, ...applied };
  }

  async delete(id: string): Promise<Applied> {
    if (!this.repository.delete(id)) throw errors.notFound(`no route ${id}`);
    return this.apply();
  }

  async setMetrics(enabled: boolean): Promise<Applied> {
    this.repository.setMetrics(enabled);
    return this.apply();
  }

  async status() {
    const routes = this.repository.routes();
    const plan = this.component.plan(this.network.settings);
    const base = {
      routes: routes.length,
      dynamicRoutes: routes.filter(isDynamicRoute).length,
      pushes: this.component.pushes,
      unresolvedUpstreams: Object.fromEntries(plan.unresolved),
      discoverySkipped: this.discovery.skipped,
    };
    if (!this.network.initialized)
      return { ...base, health: 'down', reasons: ['the network is not initialised'], running: false };
    const site = await this.network.currentSite().catch(() => undefined);
    if (!site)
      return { ...base, health: 'down', reasons: ['the services site is not running'], running: false };
    const caddy = new CaddyService(site);
    const pid = caddy.pid();
    if (pid === undefined)
      return {
        ...base,
        health: 'down',
        reasons: ['Caddy is not running'],
        running: false,
        site: site.description,
      };
    const [current, upstreams, version] = await Promise.all([
      caddy.currentConfig().catch(() => undefined),
      caddy.upstreams().catch(() => []),
      caddy.version(),
    ]);
    const inSync = current !== undefined && canonicalJson(current) === canonicalJson(plan.document(site));
    const reasons = [
      ...(inSync ? [] : ['Caddy runs another config than the routes say (the reconciler will push)']),
      ...[...plan.unresolved].map(([id, names]) => `route ${id}: no address for ${names.join(', ')}`),
    ];
    return {
      ...base,
      health: reasons.length === 0 ? 'healthy' : 'degraded',
      reasons,
      running: true,
      pid,
      site: site.description,
      version,
      inSync,
      upstreams,
    };
  }

  async caddy(): Promise<CaddyService> {
    const site = await this.network.currentSite();
    if (!site) throw errors.unavailable('the services site (appliance) is not running');
    return new CaddyService(site);
  }

  /**
   * One hostname, one holder: a name another route, an app, a DNS name, a reservation or
   * Proximity itself has is a 409 naming it (the name registry; the repository's claim enforces).
   */
  private checkHostnames(input: RouteInput, route: Pick<Route, 'id' | 'source'>): void {
    const fields: Record<string, string> = {};
    const taken: string[] = [];
    input.hostnames.forEach((name, index) => {
      const holder = this.repository.nameHolder(name, route);
      if (!holder) return;
      const conflict = nameTaken(name, holder, `hostnames.${index}`);
      Object.assign(fields, conflict.fields);
      taken.push(conflict.message);
    });
    if (new Set(input.hostnames).size !== input.hostnames.length) fields.hostnames = 'must not repeat a name';
    if (Object.keys(fields).length > 0)
      throw errors.conflict(taken.length > 0 ? taken.join('; ') : 'a hostname is repeated', fields);
  }

  /** A route change needs DNS names and the port map, not a full pass (decision 16). */
  private async apply(): Promise<Applied> {
    const pass = await this.network.reconcile('proxy', ROUTES_ONLY);
    return pass.ok ? { applied: true } : { applied: false, reason: pass.error ?? 'unknown' };
  }

  /** Caddy refused the new document (422): take the change back and say so. */
  private async applyOrUndo(undo: () => unknown): Promise<Applied> {
    const pass = await this.network.reconcile('proxy', ROUTES_ONLY);
    if (pass.ok) return { applied: true };
    if (pass.failure instanceof AppError && pass.failure.status === 422) {
      undo();
      await this.network.reconcile('proxy: undo a refused route', ROUTES_ONLY);
      throw pass.failure;
    }
    return { applied: false, reason: pass.error ?? 'unknown' };
  }
}
