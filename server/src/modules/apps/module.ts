import { BackgroundLoop } from '../../core/background.js';
import type { ModuleFactory } from '../../core/module.js';
import { AppContainers } from './containers.js';
import { deleteKind } from './delete.js';
import { deployKind } from './deploy/index.js';
import { TcpServiceNames } from './names-dns.js';
import { AppRepository } from './repository.js';
import { appRoutes } from './routes.js';
import { AppsService } from './service.js';

/**
 * Apps: deploys from the catalog and deletes as tasks (registered on the task engine before
 * it resumes what a previous run left), the lifecycle API, and the health monitor.
 */
export const appsModule: ModuleFactory = ({ config, store, logger, pve, auth, services }) => {
  const log = logger.child({ module: 'apps' });
  const repository = new AppRepository(store.db);
  const tasks = services.get('tasks');
  const deps = {
    repository,
    audit: services.get('audit'),
    containers: new AppContainers(pve, config.apps, config.status),
    network: services.get('network'),
    proxy: services.get('proxy'),
    pve,
    logger: log,
  };
  // TCP services' names point at their containers (names-dns.ts), written with the proxy's.
  deps.network.addComponent(new TcpServiceNames(repository));
  tasks.register(deployKind(deps));
  tasks.register(deleteKind(deps));
  const apps = new AppsService({
    ...deps,
    catalog: services.get('catalog'),
    tasks,
  });
  services.provide('apps', apps);
  const probes = new BackgroundLoop(config.apps.healthIntervalMs, () =>
    apps.probeAll().catch((error: unknown) => log.warn({ err: error }, 'health round failed')),
  );
  return {
    name: 'apps',
    router: appRoutes({ apps, auth, rootfsStorage: config.apps.rootfsStorage }),
    start: () => {
      deps.containers.startRefresh();
      probes.start();
    },
    stop: async () => {
      await probes.stop();
      await deps.containers.stopRefresh();
    },
    status: () => {
      const list = repository.list();
      const count = (state: string) => list.filter((app) => app.state === state).length;
      return {
        health: count('failed') > 0 ? 'degraded' : 'healthy',
        ...(count('failed') > 0 ? { reasons: [`${count('failed')} app(s) failed`] } : {}),
        apps: list.length,
        deploying: count('deploying'),
        failed: count('failed'),
      };
    },
  };
};

declare module '../../core/module.js' {
  interface ProvidedServices {
    apps: AppsService;
  }
}
