/** /nodes and /nodes/{node}/status (pve-manager src/PVE/API2/Nodes.pm). */
import { nodeFigures, nodeStatus } from '../node-stats.js';
import { userOf, type Route } from '../simulator-state.js';

const list: Route = {
  method: 'GET',
  path: '/nodes',
  handler: (context) => {
    const { sim } = context;
    const entry: Record<string, unknown> = {
      node: sim.node,
      id: `node/${sim.node}`,
      type: 'node',
      status: 'online',
      ssl_fingerprint: sim.certificateFingerprint,
    };
    if (sim.acl.check(userOf(context), `/nodes/${sim.node}`, ['Sys.Audit'], true)) {
      Object.assign(entry, nodeFigures(), { level: '' });
    }
    return [entry];
  },
};

const status: Route = {
  method: 'GET',
  path: '/nodes/{node}/status',
  handler: ({ sim }) =>
    nodeStatus(`pve-manager/${sim.config.version.version}/${sim.config.version.repoid.slice(0, 16)}`),
};

export const nodeRoutes: Route[] = [list, status];
