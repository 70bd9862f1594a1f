import type { ModuleFactory } from '../../core/module.js';
import { Appliance } from './appliance.js';
import { BridgeManager } from './bridge.js';
import { PackageCache } from './package-cache.js';
import { NetworkReconciler } from './reconciler.js';
import { NetworkRepository } from './repository.js';
import { networkRoutes } from './routes.js';
import { NetworkService } from './service.js';
import { HostSite } from './site/host.js';

/** proximity-lan: the bridge, DHCP/DNS and NAT on the appliance or the node, kept healthy. */
export const networkModule: ModuleFactory = ({ config, store, logger, pve, auth, services }) => {
  const log = logger.child({ module: 'network' });
  const { network: options } = config;
  const executor = pve.executor();
  const repository = new NetworkRepository(store.db);
  const bridge = new BridgeManager(executor, options);
  const appliance = new Appliance(pve, options.appliance, options.wanBridge);
  const host = (settings: { bridge: string }) =>
    new HostSite(executor, { dir: options.hostDir, bridge: settings.bridge, wanBridge: options.wanBridge });
  const reconciler = new NetworkReconciler({
    repository,
    bridge,
    appliance,
    host,
    logger: log,
    intervalMs: options.reconcileIntervalMs,
  });
  const packageCache = new PackageCache();
  reconciler.components.push(packageCache);
  const network = new NetworkService({
    repository,
    packageCache,
    reconciler,
    bridge,
    appliance,
    wanBridge: options.wanBridge,
    pct: pve.pct(),
    logger: log,
    statusMode: config.status.mode,
    intervalMs: options.reconcileIntervalMs,
  });
  reconciler.afterPass.push(() => network.passed());
  services.provide('network', network);
  return {
    name: 'network',
    router: networkRoutes({ network, appliance, audit: services.get('audit'), auth }),
    start: () => reconciler.start(),
    stop: async () => {
      await reconciler.stop();
      await network.stop();
    },
    status: async () => {
      const { value: status } = await network.sharedStatus();
      return { health: status.health, reasons: status.reasons, placement: status.placement };
    },
  };
};

declare module '../../core/module.js' {
  interface ProvidedServices {
    network: NetworkService;
  }
}
