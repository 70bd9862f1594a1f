import type { ModuleFactory } from '../../core/module.js';
import { AuditRepository } from '../audit/repository.js';
import { ProxyComponent } from './component.js';
import { ProxyRepository } from './repository.js';
import { proxyRoutes } from './routes.js';
import { ProxyService } from './service.js';

/** The reverse proxy: routes in the store, Caddy on the network's site. */
export const proxyModule: ModuleFactory = ({ store, logger, auth, services }) => {
  const network = services.get('network');
  const repository = new ProxyRepository(store.db);
  const component = new ProxyComponent(repository, network, logger.child({ module: 'proxy' }));
  network.addComponent(component);
  const proxy = new ProxyService(repository, component, network);
  services.provide('proxy', proxy);
  return {
    name: 'proxy',
    router: proxyRoutes({ proxy, audit: new AuditRepository(store.db), auth }),
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
