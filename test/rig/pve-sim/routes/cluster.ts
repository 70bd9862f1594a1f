/**
 * Datacenter-wide views (pve-manager src/PVE/API2/Cluster.pm resources, tasks, nextid;
 * API2.pm version). The rig is a single-node "cluster".
 */
import { paramError } from '../errors.js';
import { nodeFigures } from '../node-stats.js';
import { STORAGES } from '../storage.js';
import { clusterTaskSummary } from '../tasks.js';
import { intParam, stringParam, userOf, type Route } from '../simulator-state.js';
import { containerStatus } from './lxc-common.js';

const version: Route = {
  method: 'GET',
  path: '/version',
  handler: ({ sim }) => ({ ...sim.config.version }),
};

const nextid: Route = {
  method: 'GET',
  path: '/cluster/nextid',
  handler: ({ sim, params }) => {
    const used = new Set(sim.containers.list());
    const vmid = intParam(params, 'vmid');
    if (vmid) {
      if (!used.has(vmid)) return stringParam(params, 'vmid');
      throw paramError({ vmid: `VM ${vmid} already exists` });
    }
    // datacenter.cfg next-id defaults: from 100 up to 1,000,000. PVE's JSON encoder sends the
    // number as a string here (the loop variable was used as a hash key).
    for (let candidate = 100; candidate < 1_000_000; candidate++) {
      if (!used.has(candidate)) return String(candidate);
    }
    throw new Error('unable to get any free VMID');
  },
};

const resources: Route = {
  method: 'GET',
  path: '/cluster/resources',
  handler: async (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const type = stringParam(params, 'type');
    const result: Record<string, unknown>[] = [];
    if (!type || type === 'vm') {
      for (const vmid of sim.containers.list()) {
        if (!sim.acl.check(user, `/vms/${vmid}`, ['VM.Audit'], true)) continue;
        const status = await containerStatus(sim, vmid);
        result.push({
          id: `lxc/${vmid}`,
          type: 'lxc',
          vmid,
          name: status.name,
          node: sim.node,
          status: status.status,
          template: status.template ?? 0,
          cpu: status.cpu,
          maxcpu: status.cpus,
          mem: status.mem,
          maxmem: status.maxmem,
          disk: status.disk,
          maxdisk: status.maxdisk,
          uptime: status.uptime,
          netin: status.netin,
          netout: status.netout,
          diskread: status.diskread,
          diskwrite: status.diskwrite,
          ...(status.tags ? { tags: status.tags } : {}),
          ...(status.lock ? { lock: status.lock } : {}),
        });
      }
    }
    if (!type || type === 'node') {
      const entry: Record<string, unknown> = {
        id: `node/${sim.node}`,
        type: 'node',
        node: sim.node,
        status: 'online',
      };
      // API2Tools extract_node_stats: figures only for who may audit the node
      if (sim.acl.check(user, `/nodes/${sim.node}`, ['Sys.Audit'], true)) {
        Object.assign(entry, nodeFigures(), { level: '', 'cgroup-mode': 2 });
      }
      result.push(entry);
    }
    if (!type || type === 'storage') {
      for (const storage of STORAGES) {
        if (!sim.acl.check(user, `/storage/${storage.storage}`, ['Datastore.Audit'], true)) continue;
        const usage = sim.storage.usage(storage.storage);
        result.push({
          id: `storage/${sim.node}/${storage.storage}`,
          type: 'storage',
          storage: storage.storage,
          node: sim.node,
          status: 'available',
          plugintype: storage.type,
          content: storage.content.join(','),
          shared: storage.shared,
          disk: usage.used,
          maxdisk: usage.total,
        });
      }
    }
    if (
      (!type || type === 'sdn') &&
      sim.acl.checkAny(user, '/sdn/zones/localnetwork', ['SDN.Audit', 'SDN.Use'], true)
    ) {
      result.push({
        id: `sdn/${sim.node}/localnetwork`,
        type: 'sdn',
        sdn: 'localnetwork',
        node: sim.node,
        status: 'ok',
      });
    }
    return result;
  },
};

const tasks: Route = {
  method: 'GET',
  path: '/cluster/tasks',
  handler: (context) => {
    const { sim } = context;
    const user = userOf(context);
    const all = sim.acl.check(user, '/', ['Sys.Audit'], true);
    return sim.tasks
      .list()
      .filter((task) => all || task.user === user)
      .map(clusterTaskSummary);
  },
};

// Cluster.pm get_options: datacenter.cfg's settings (the rig's is empty) plus the tags the user
// may set (no tags exist on the rig); the real UI reads `allowed-tags` at start-up.
const options: Route = {
  method: 'GET',
  path: '/cluster/options',
  handler: () => ({ 'allowed-tags': [] }),
};

// Subscription.pm on a node without a key: status "notfound".
const subscription: Route = {
  method: 'GET',
  path: '/nodes/{node}/subscription',
  handler: () => ({
    status: 'notfound',
    message: 'There is no subscription key',
    url: 'https://www.proxmox.com/en/proxmox-virtual-environment/pricing',
  }),
};

export const clusterRoutes: Route[] = [version, nextid, resources, tasks, options, subscription];
