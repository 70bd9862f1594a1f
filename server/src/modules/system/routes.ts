import { Router } from 'express';
import type { ComponentStatus, ServiceModule } from '../../core/module.js';
import type { Store } from '../../core/store/store.js';
import { version } from '../../version.js';

export interface SystemRoutesOptions {
  store: Store;
  modules: () => readonly ServiceModule[];
  startedAt: Date;
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
 * GET /status: readiness and a summary: version, uptime, store, each module's health.
 * 503 when the store is unusable or a component is down, so a probe can act on it.
 */
export function systemRoutes(options: SystemRoutesOptions): Router {
  const router = Router();

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/status', async (_req, res) => {
    const store = options.store.health();
    const components: Record<string, ComponentStatus> = {};
    for (const module of options.modules()) {
      if (module.status) components[module.name] = await componentStatus(module);
    }
    const healths = Object.values(components).map((c) => c.health);
    const status =
      !store.ok || healths.includes('down') ? 'down' : healths.includes('degraded') ? 'degraded' : 'ok';
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
    });
  });

  return router;
}
