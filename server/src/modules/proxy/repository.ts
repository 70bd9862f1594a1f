import type { Database, Statement } from 'better-sqlite3';
import { routeInputSchema, type Route } from '../../contract/proxy.js';

interface RouteRow {
  id: string;
  source: Route['source'];
  spec: string;
}

/** Data access for the proxy's desired state: routes and the metrics switch. */
export class ProxyRepository {
  private readonly statements: Record<string, Statement>;

  constructor(private readonly db: Database) {
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

  insert(route: Route): void {
    const at = new Date().toISOString();
    this.statements.insert!.run(route.id, route.source, JSON.stringify(spec(route)), at, at);
  }

  update(route: Route): void {
    this.statements.update!.run(JSON.stringify(spec(route)), new Date().toISOString(), route.id);
  }

  delete(id: string): boolean {
    return this.statements.delete!.run(id).changes > 0;
  }

  metrics(): boolean {
    return (this.statements.metrics!.get() as { metrics: number } | undefined)?.metrics === 1;
  }

  setMetrics(enabled: boolean): void {
    this.statements.setMetrics!.run(enabled ? 1 : 0);
  }
}

function spec(route: Route): Omit<Route, 'id' | 'source'> {
  const { id: _id, source: _source, ...rest } = route;
  return rest;
}

/** Parsed again on the way out: a row written by an older version gains new defaults. */
function toRoute(row: RouteRow): Route {
  return { ...routeInputSchema.parse(JSON.parse(row.spec)), id: row.id, source: row.source };
}
