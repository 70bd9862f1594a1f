/**
 * GET/PUT /nodes/{node}/lxc/{vmid}/config (pve-container src/PVE/API2/LXC/Config.pm):
 * the config with its SHA-1 `digest`; updates with `delete` and `digest` checks like PVE.
 */
import { configDigest } from '../container-store.js';
import { die, paramError } from '../errors.js';
import { splitList } from '../validate.js';
import { intParam, stringParam, userOf, type Route } from '../simulator-state.js';
import {
  checkConfigPermissions,
  checkLock,
  configForApi,
  configValues,
  loadConfig,
  NON_CONFIG_KEYS,
} from './lxc-common.js';

const read: Route = {
  method: 'GET',
  path: '/nodes/{node}/lxc/{vmid}/config',
  handler: ({ sim, params }) => {
    const config = loadConfig(sim, intParam(params, 'vmid')!);
    const snapshot = stringParam(params, 'snapshot');
    if (snapshot !== undefined) throw die(`snapshot '${snapshot}' does not exist`);
    return { ...configForApi(sim, config), digest: configDigest(config) };
  },
};

const update: Route = {
  method: 'PUT',
  path: '/nodes/{node}/lxc/{vmid}/config',
  handler: async (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const vmid = intParam(params, 'vmid')!;
    const digest = stringParam(params, 'digest');
    const deleted = splitList(stringParam(params, 'delete') ?? '');
    const changes = Object.fromEntries(Object.entries(params).filter(([key]) => !NON_CONFIG_KEYS.has(key)));

    if (params.unprivileged !== undefined) throw die("unable to modify read-only option: 'unprivileged'");
    for (const key of deleted) {
      if (changes[key] !== undefined) {
        throw paramError({ delete: `you can't use '-${key}' and '-delete ${key}' at the same time` });
      }
      if (key === 'rootfs') throw paramError({ delete: "unable to delete required option 'rootfs'" });
    }

    await sim.containers.withLock(vmid, async () => {
      const config = loadConfig(sim, vmid);
      checkLock(config);
      // PVE::Tools::assert_if_modified
      if (digest !== undefined && digest !== configDigest(config)) {
        throw die('detected modified configuration - file changed by other user? Try again.');
      }
      checkConfigPermissions(sim, user, vmid, config, changes, deleted, config.unprivileged === '1');
      const values = configValues(sim, changes);
      for (const key of Object.keys(values).filter((k) => /^net\d+$/.test(k))) {
        // keep the NIC's MAC address when the update does not name one
        const old = /(?:^|,)hwaddr=([^,]+)/.exec(config[key] ?? '')?.[1];
        if (old && !/(?:^|,)hwaddr=/.test(String(changes[key]))) {
          values[key] = values[key]!.replace(/hwaddr=[^,]+/, `hwaddr=${old}`);
        }
      }
      for (const key of deleted) delete config[key];
      sim.containers.write(vmid, { ...config, ...values });
    });
    return null;
  },
};

export const lxcConfigRoutes: Route[] = [read, update];
