import type { Database, Statement } from 'better-sqlite3';
import { routeInputSchema, type Route } from '../../contract/proxy.js';
import { NameRegistry, type NameHolder } from '../names/index.js';

interface RouteRow {
  id: string;
  source: Route['source'];
  spec: string;
}

/** Data access for the proxy's desired state: routes and the metrics switch. */
export class ProxyRepository {
  private readonly statements: Record<string, Statement>;
  /** A route's hostnames are claimed there with its row (names/registry.ts). */
  private readonly names: NameRegistry;

  constructor(private readonly db: Database) {
    this.names = new NameRegistry(db);
    const s = (sql: string) => db.prepare(sql);
    this.statements = {
      list: s('SELECT id, source, spec FROM proxy_routes ORDER BY id'),
      get: s('SELECT id, source, spec FROM proxy_routes WHERE id = ?'),
      insert: s('INSERT INTO proxy_routes (id, source, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
      update: s('UPDATE proxy_routes SET spec = ?, updated_at = ? WHERE id = ?'),
      delete: s('DELETE FROM proxy_routes WHERE id = ?'),
      metrics: s('SELECT metrics FROM proxy_state WHERE id = 1'),
      setMetrics: s(`INSERT INTO proxy_state (id, metrics) VALUES (1, ?)
        ON CONFLICT (id) DO UPDATE SET metrics = excluded.metrics`),
    };
  }

  routes(): Route[] {
    return (this.statements.list!.all() as RouteRow[]).map(toRoute);
  }

  route(id: string): Route | undefined {
    const row = this.statements.get!.get(id) as RouteRow | undefined;
    return row && toRoute(row);
  }

  /** Every hostname already served, with the route that serves it. */
  hostnames(): Map<string, string> {
    const taken = new Map<string, string>();
    for (const route of this.routes()) for (const name of route.hostnames) taken.set(name, route.id);
    return taken;
  }

  /** Who holds `name` in the name registry, unless it is `route` itself (or its app). */
  nameHolder(name: string, route: Pick<Route, 'id' | 'source'>): NameHolder | undefined {
    const holder = this.names.holder(name);
    if (!holder) return undefined;
    if (holder.kind === 'route' && holder.owner === route.id) return undefined;
    if (sharedWith(route) && holder.kind === 'app' && holder.owner === route.id) return undefined;
    return holder;
  }

  /** With its hostnames claimed: a 409 naming `hostnames.<i>` if another holds one. */
  insert(route: Route): void {
    const at = new Date().toISOString();
    this.db.transaction(() => {
      this.claim(route);
      this.statements.insert!.run(route.id, route.source, JSON.stringify(spec(route)), at, at);
    })();
  }

  update(route: Route): void {
    this.db.transaction(() => {
      const holder = { kind: 'route', owner: route.id } as const;
      for (const name of this.names.namesOf(holder))
        if (!route.hostnames.includes(name)) this.names.release(name, holder);
      this.claim(route);
      this.statements.update!.run(JSON.stringify(spec(route)), new Date().toISOString(), route.id);
    })();
  }

  delete(id: string): boolean {
    return this.db.transaction(() => {
      const gone = this.statements.delete!.run(id).changes > 0;
      if (gone) this.names.releaseAll({ kind: 'route', owner: id });
      return gone;
    })();
  }

  private claim(route: Route): void {
    this.names.claimAll(
      route.hostnames.map((name, index) => ({ name, field: `hostnames.${index}` })),
      { kind: 'route', owner: route.id },
      sharedWith(route),
    );
  }

  metrics(): boolean {
    return (this.statements.metrics!.get() as { metrics: number } | undefined)?.metrics === 1;
  }

  setMetrics(enabled: boolean): void {
    this.statements.setMetrics!.run(enabled ? 1 : 0);
  }
}

/** An app's own route serves the app's name: the name stays the app's. */
function sharedWith(route: Pick<Route, 'id' | 'source'>): NameHolder | undefined {
  return route.source === 'app' ? { kind: 'app', owner: route.id } : undefined;
}

function spec(route: Route): Omit<Route, 'id' | 'source'> {
  const { id: _id, source: _source, ...rest } = route;
  return rest;
}

/** Parsed again on the way out: a row written by an older version gains new defaults. */
function toRoute(row: RouteRow): Route {
  return { ...routeInputSchema.parse(JSON.parse(row.spec)), id: row.id, source: row.source };
}
