import { BackgroundLoop } from '../../core/background.js';
import type { ModuleFactory } from '../../core/module.js';
import { ProxyComponent } from './component.js';
import { ProxyDiscovery } from './discovery.js';
import { ProxyRepository } from './repository.js';
import { proxyRoutes } from './routes.js';
import { ProxyService } from './service.js';

/** The reverse proxy: routes in the store, Caddy on the network's site. */
export const proxyModule: ModuleFactory = ({ config, store, logger, pve, auth, services }) => {
  const network = services.get('network');
  const repository = new ProxyRepository(store.db);
  const log = logger.child({ module: 'proxy' });
  const component = new ProxyComponent(repository, network, log);
  network.addComponent(component);
  const discovery = new ProxyDiscovery(pve, repository, () => network.settings.bridge, log);
  const proxy = new ProxyService(repository, component, network, discovery);
  services.provide('proxy', proxy);
  const discover = async () => {
    // Nothing to route to before the network exists (and no PVE calls on an idle install).
    if (!network.initialized) return;
    try {
      if (await discovery.sync()) await network.reconcile('discovery', { scope: 'proxy' });
    } catch (error) {
      log.warn({ err: error }, 'discovery of tagged containers failed');
    }
  };
  const loop = new BackgroundLoop(config.network.reconcileIntervalMs, discover);
  return {
    name: 'proxy',
    start: () => {
      loop.start();
    },
    stop: () => loop.stop(),
    router: proxyRoutes({ proxy, audit: services.get('audit'), auth }),
    status: async () => {
      const status = await proxy.status();
      return {
        health: status.health as 'healthy' | 'degraded' | 'down',
        reasons: status.reasons,
        routes: status.routes,
      };
    },
  };
};

declare module '../../core/module.js' {
  interface ProvidedServices {
    proxy: ProxyService;
  }
}
