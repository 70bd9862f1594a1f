import { Router } from 'express';
import { openApiDocument } from '../../contract/routes.js';
import { Measurement } from '../../core/measure.js';
import type { ComponentStatus, ServiceModule } from '../../core/module.js';
import type { Store } from '../../core/store/store.js';
import { version } from '../../version.js';

export interface SystemOptions {
  store: Store;
  /** Every module of the service, for their status. */
  modules: () => readonly ServiceModule[];
  startedAt: Date;
  /**
   * The components' status is measured (the network's and the proxy's by `pct exec`s): shared
   * by concurrent callers and served with its age, at most `maxAgeMs` old (one reconcile
   * interval); `per-call` measures afresh per request (the reference, config `status.mode`).
   */
  componentStatus: { mode: 'shared' | 'per-call'; maxAgeMs: number };
}

async function componentStatus(module: ServiceModule): Promise<ComponentStatus> {
  try {
    return await module.status!();
  } catch (error) {
    return { health: 'down', reasons: [`status check failed: ${(error as Error).message}`] };
  }
}

/**
 * GET /health: liveness, answers as long as the process serves HTTP.
 * GET /status: version, uptime, store, each component's health with its reasons.
 * 503 only when the store is unusable: then the service cannot do anything.
 */
function systemRoutes(
  options: SystemOptions,
  measured: Measurement<Record<string, ComponentStatus>>,
): Router {
  const router = Router();

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/status', async (_req, res) => {
    const store = options.store.health();
    const { value: components, measuredAt, ageMs } = await measured.get();
    // The service is down only when its own store is; a component that is not healthy
    // (Proxmox unreachable, the appliance stopped) degrades it, and says why.
    const degraded = Object.values(components).some((c) => c.health !== 'healthy');
    const status = !store.ok ? 'down' : degraded ? 'degraded' : 'ok';
    res.status(status === 'down' ? 503 : 200).json({
      service: 'proximity',
      status,
      version,
      node_version: process.version,
      started_at: options.startedAt.toISOString(),
      uptime_s: Math.round((Date.now() - options.startedAt.getTime()) / 1000),
      store: {
        ok: store.ok,
        schema_version: store.schemaVersion,
        journal_mode: store.journalMode,
        ...(store.error ? { error: store.error } : {}),
      },
      components,
      measuredAt: measuredAt.toISOString(),
      ageMs,
    });
  });

  return router;
}

/** GET /api/v1/openapi.json: the route index (server/src/contract/routes.ts) as OpenAPI. */
function apiDocumentRoutes(): Router {
  const router = Router();
  const document = openApiDocument(version);
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  return router;
}

/**
 * Liveness and readiness: public, so probes and the UI's "backend unreachable" check need no
 * login; the API's own description, for any logged-in caller.
 */
export function systemModule(options: SystemOptions): ServiceModule {
  const { mode, maxAgeMs } = options.componentStatus;
  const components = new Measurement({
    shared: mode === 'shared',
    maxAgeMs,
    refreshAfterMs: Math.floor(maxAgeMs / 2),
    measure: async (signal) => {
      const statuses: Record<string, ComponentStatus> = {};
      for (const module of options.modules()) {
        if (signal.aborted) break;
        if (module.status) statuses[module.name] = await componentStatus(module);
      }
      return statuses;
    },
  });
  return {
    name: 'system',
    publicRouter: systemRoutes(options, components),
    router: apiDocumentRoutes(),
    // Stopped last (modules stop in reverse), still before the store closes: waits for the
    // measurement in flight, which stops asking modules once aborted.
    stop: () => components.stop(),
  };
}
