/**
 * /nodes/{node}/lxc: list, create and destroy containers (pve-container src/PVE/API2/LXC.pm
 * vmlist, create_vm, destroy_vm), on the rig's real LXC runtime.
 */
import { die, paramError, permissionError, PveError } from '../errors.js';
import type { ContainerConfig } from '../container-store.js';
import { printPropertyString } from '../property-string.js';
import { parseProperties, type SchemaProperty } from '../validate.js';
import { RIG_TEMPLATES } from '../config.js';
import { parseVolumeId, templateName } from '../storage.js';
import {
  boolParam,
  intParam,
  stringParam,
  userOf,
  type Route,
  type SimulatorState,
} from '../simulator-state.js';
import {
  checkConfigPermissions,
  checkLock,
  configKeySchema,
  configValues,
  containerSpec,
  containerStatus,
  loadConfig,
  mountStorage,
  netSpecs,
  NEW_DISK_RE,
  NON_CONFIG_KEYS,
} from './lxc-common.js';
import { startContainerTask } from './lxc-status.js';

/** PVE::Tools::validate_ssh_public_keys (PVE runs ssh-keygen -l on each line). */
function validateSshKeys(keys: string): void {
  for (const line of keys.split('\n')) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const ok =
      /^(?:\S+\s+)?(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-\S+@openssh\.com)\s+[A-Za-z0-9+/]+={0,3}(?:\s.*)?$/.test(
        line.trim(),
      );
    if (!ok) throw die('SSH public key validation error');
  }
}

/** PVE::Storage::check_volume_access for the `ostemplate` of a create. */
function checkTemplateAccess(sim: SimulatorState, user: string, volid: string): void {
  const parsed = parseVolumeId(volid);
  if (!parsed) {
    if (volid.startsWith('/')) {
      if (user !== 'root@pam') throw permissionError();
      return;
    }
    throw die(`unable to parse volume ID '${volid}'`);
  }
  sim.storage.definition(parsed.storage);
  if (/^vztmpl\//.test(parsed.volname) || /^iso\//.test(parsed.volname)) {
    // custom templates could be sensitive: at least read access to the storage
    sim.acl.checkAny(user, `/storage/${parsed.storage}`, ['Datastore.AllocateSpace', 'Datastore.Audit']);
  }
}

const list: Route = {
  method: 'GET',
  path: '/nodes/{node}/lxc',
  // "Only list CTs where you have VM.Audit permissions on /vms/<vmid>."
  handler: async ({ sim, user }) => {
    const result: Record<string, unknown>[] = [];
    for (const vmid of sim.containers.list()) {
      if (!sim.acl.check(user!, `/vms/${vmid}`, ['VM.Audit'], true)) continue;
      result.push(await containerStatus(sim, vmid));
    }
    return result;
  },
};

const create: Route = {
  method: 'POST',
  path: '/nodes/{node}/lxc',
  handler: (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const vmid = intParam(params, 'vmid')!;
    const start = boolParam(params, 'start');
    const unprivileged = boolParam(params, 'unprivileged');
    if (boolParam(params, 'restore')) throw die('restoring backups is not something the rig can do');

    // PVE::Cluster::check_vmid_unused
    if (sim.containers.get(vmid)) throw die(`CT ${vmid} already exists on node '${sim.node}'`);

    const sshKeys = stringParam(params, 'ssh-public-keys');
    if (sshKeys !== undefined) validateSshKeys(sshKeys);

    const pool = stringParam(params, 'pool');
    // RPCEnvironment.pm check_pool_exist: the rig has no pools
    if (pool !== undefined) throw permissionError(`pool '${pool}' does not exist`);

    if (!sim.acl.check(user, `/vms/${vmid}`, ['VM.Allocate'], true)) throw permissionError();

    const ostemplate = stringParam(params, 'ostemplate')!;
    const storage = stringParam(params, 'storage') ?? 'local';

    const configParams = Object.fromEntries(
      Object.entries(params).filter(([key]) => !NON_CONFIG_KEYS.has(key)),
    );
    checkConfigPermissions(sim, user, vmid, undefined, configParams, [], unprivileged);
    checkTemplateAccess(sim, user, ostemplate);

    // check_and_activate_storage for the root disk and every mount point
    const mountPoints: Record<string, string> = {};
    for (const key of Object.keys(configParams).filter((k) => k === 'rootfs' || /^mp\d+$/.test(k))) {
      const value = String(configParams[key]);
      mountPoints[key] = /^\d+(\.\d+)?$/.test(value) ? `${storage}:${value}` : value;
      delete configParams[key];
    }
    if (Object.keys(mountPoints).length > 0 && mountPoints.rootfs === undefined) {
      throw die("mount points configured, but 'rootfs' not set - aborting");
    }
    const checkStorage = (sid: string) => {
      const definition = sim.storage.definition(sid);
      if (!definition.content.includes('rootdir')) {
        throw paramError({ storage: `storage '${sid}' does not support container directories` });
      }
      sim.acl.check(user, `/storage/${sid}`, ['Datastore.AllocateSpace']);
    };
    for (const [key, value] of Object.entries(mountPoints)) {
      const format = configKeySchema(sim, key)!.format as Record<string, SchemaProperty>;
      const volume = parseProperties(format, value, key).volume ?? '';
      if (volume.startsWith('/')) {
        if (user !== 'root@pam') throw die('Only root can pass arbitrary filesystem paths.');
        continue;
      }
      const sid = mountStorage(volume, storage);
      if (sid) checkStorage(sid);
    }
    if (mountPoints.rootfs === undefined) checkStorage(storage);

    const config: ContainerConfig = configValues(sim, configParams);
    if (unprivileged) config.unprivileged = '1';

    // create_and_lock_config: the ID is taken (locked 'create') from now on
    sim.containers.write(vmid, { lock: 'create' });

    return sim.tasks.start('vzcreate', String(vmid), user, async (log) => {
      await sim.containers.withLock(vmid, async () => {
        let runtimeTouched = false;
        const fail = async (reason: unknown): Promise<never> => {
          // like create_vm: a failed creation leaves neither disks nor a config behind
          if (runtimeTouched) await sim.runtime.destroy(vmid).catch(() => undefined);
          sim.storage.freeVolumes(vmid);
          sim.containers.remove(vmid);
          const message = reason instanceof Error ? reason.message : String(reason);
          throw new Error(`unable to create CT ${vmid} - ${message}`, { cause: reason });
        };
        try {
          mountPoints.rootfs ??= `${storage}:4`; // PVE's default root disk: 4 GiB
          for (const [key, value] of Object.entries(mountPoints)) {
            // PVE::LXC::create_disks: `[storage:]size` becomes a new volume
            const format = configKeySchema(sim, key)!.format as Record<string, SchemaProperty>;
            const parsed = parseProperties(format, value, key);
            const newDisk = NEW_DISK_RE.exec(parsed.volume ?? '');
            if (!newDisk) {
              config[key] = value;
              continue;
            }
            const volume = sim.storage.allocateVolume(newDisk[1] ?? storage, vmid, Number(newDisk[2]));
            log.log(`  Logical volume "${volume.volid.split(':')[1]}" created.`);
            config[key] = printPropertyString(format, {
              ...parsed,
              volume: volume.volid,
              size: `${newDisk[2]}G`,
            });
          }
          if (!sim.storage.hasTemplate(ostemplate)) throw new Error(`can't find file '${ostemplate}'`);
          log.log(
            `extracting archive '/var/lib/vz/template/cache/${ostemplate.replace(/^[^:]+:vztmpl\//, '')}'`,
          );
          const template = RIG_TEMPLATES[templateName(ostemplate) ?? ''] ?? 'busybox';
          config.hostname ??= `CT${vmid}`;
          config.memory ??= '512';
          config.swap ??= '512';
          config.arch ??= 'amd64';
          // PVE detects the OS in the extracted rootfs; it cannot detect a busybox system
          config.ostype ??= template === 'busybox' ? 'unmanaged' : 'debian';
          const { unplugged } = netSpecs(sim, config);
          for (const key of unplugged) log.warn(`${key} has no bridge: the rig leaves it unplugged`);
          runtimeTouched = true;
          await sim.runtime.create({ ...containerSpec(sim, vmid, config), template });
          log.log('Detected container architecture: amd64');
        } catch (error) {
          await fail(error);
        }
        sim.containers.write(vmid, config); // without the 'create' lock
      });
      // LXC.pm: vm_start forks its own 'vzstart' task; the create task does not wait for it
      if (start) startContainerTask(sim, vmid, user);
    });
  },
};

const destroy: Route = {
  method: 'DELETE',
  path: '/nodes/{node}/lxc/{vmid}',
  handler: async (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const vmid = intParam(params, 'vmid')!;
    const force = boolParam(params, 'force');
    const purge = boolParam(params, 'purge');
    const earlyChecks = (config: ContainerConfig) => {
      if (config.protection === '1') throw die(`can't remove CT ${vmid} - protection mode enabled`);
      checkLock(config);
    };
    earlyChecks(loadConfig(sim, vmid));
    const runningError = `unable to destroy CT ${vmid} - container is running`;
    if (!force && (await sim.runtime.state(vmid)) === 'running') throw die(runningError);

    return sim.tasks.start('vzdestroy', String(vmid), user, async (log) => {
      await sim.containers.withLock(vmid, async () => {
        earlyChecks(loadConfig(sim, vmid));
        if ((await sim.runtime.state(vmid)) === 'running') {
          if (!force) throw new PveError(500, runningError);
          log.warn(`forced to stop CT ${vmid} before destroying!`);
          await sim.runtime.stop(vmid, { force: true });
        }
        await sim.runtime.destroy(vmid);
        for (const volid of sim.storage.freeVolumes(vmid))
          log.log(`  Logical volume "${volid.split(':')[1]}" successfully removed.`);
        sim.acl.removeVmAccess(vmid);
        if (purge) log.log(`purging CT ${vmid} from related configurations..`);
        sim.rrd.forget(vmid);
        sim.containers.remove(vmid);
      });
    });
  },
};

export const lxcRoutes: Route[] = [list, create, destroy];
