/** Every endpoint the simulator implements; anything else in the PVE schema answers 501. */
import type { Route } from '../simulator-state.js';
import { accessRoutes } from './access.js';
import { clusterRoutes } from './cluster.js';
import { lxcConfigRoutes } from './lxc-config.js';
import { lxcMetricsRoutes } from './lxc-metrics.js';
import { lxcStatusRoutes } from './lxc-status.js';
import { lxcRoutes } from './lxc.js';
import { networkRoutes } from './network.js';
import { nodeRoutes } from './nodes.js';
import { storageRoutes } from './storage.js';
import { taskRoutes } from './tasks.js';

export const routes: Route[] = [
  ...accessRoutes,
  ...clusterRoutes,
  ...nodeRoutes,
  ...lxcRoutes,
  ...lxcConfigRoutes,
  ...lxcStatusRoutes,
  ...lxcMetricsRoutes,
  ...networkRoutes,
  ...storageRoutes,
  ...taskRoutes,
];
