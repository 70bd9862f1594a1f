/**
 * What the container endpoints share: loading a config like PVE, the config keys' schemas,
 * turning parameters into config values (pve-container LXC/Config.pm update_pct_config),
 * the per-key permission checks (LXC.pm check_ct_modify_config_perm), the status record
 * (LXC.pm vmstatus) and the ContainerSpec the rig's runtime needs.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import type { ContainerSpec, NetSpec } from '../../contracts.js';
import type { ContainerConfig } from '../container-store.js';
import { die, permissionError } from '../errors.js';
import { parseSize } from '../formats.js';
import { printPropertyString } from '../property-string.js';
import { propertySchema } from '../schema.js';
import type { SimulatorState } from '../simulator-state.js';
import { parseVolumeId } from '../storage.js';
import { parseProperties, splitList, type SchemaProperty } from '../validate.js';

/** Keys of a create/update request that are not container configuration. */
export const NON_CONFIG_KEYS = new Set([
  'node',
  'vmid',
  'ostemplate',
  'password',
  'storage',
  'force',
  'restore',
  'unique',
  'pool',
  'ignore-unpack-errors',
  'ssh-public-keys',
  'bwlimit',
  'start',
  'unprivileged',
  'delete',
  'revert',
  'digest',
]);

/** PVE::LXC::Config $NEW_DISK_RE: `[storage:]size` asks for a new volume of that many GiB. */
export const NEW_DISK_RE = /^(?:([^/:\s]+):)?(\d+(?:\.\d+)?)$/;

/** AbstractConfig.pm load_config: the config, or 500 "Configuration file ... does not exist". */
export function loadConfig(sim: SimulatorState, vmid: number): ContainerConfig {
  const config = sim.containers.get(vmid);
  if (!config) throw die(`Configuration file 'nodes/${sim.node}/lxc/${vmid}.conf' does not exist`);
  return config;
}

/** AbstractConfig.pm check_lock: "CT is locked (create)". */
export function checkLock(config: ContainerConfig): void {
  if (config.lock) throw die(`CT is locked (${config.lock})`);
}

/** The schema of a container config key (net3 -> net[n]) from the create method. */
export function configKeySchema(sim: SimulatorState, key: string): SchemaProperty | undefined {
  const info = sim.schema.get('POST', '/nodes/{node}/lxc');
  return info && propertySchema(info, key);
}

function objectFormat(sim: SimulatorState, key: string): Record<string, SchemaProperty> {
  const format = configKeySchema(sim, key)?.format;
  if (!format || typeof format !== 'object') throw new Error(`no property-string format for ${key}`);
  return format;
}

/** PVE::Tools::random_ether_addr with PVE 8's default prefix BC:24:11 (Proxmox' OUI). */
export function randomMac(): string {
  const tail = [...randomBytes(3)].map((byte) => byte.toString(16).toUpperCase().padStart(2, '0'));
  return ['BC', '24', '11', ...tail].join(':');
}

/**
 * update_pct_config for the given options: config values as PVE writes them. A NIC gets a
 * generated hwaddr and `type=veth` when absent; booleans become 1/0; tags are normalized.
 */
export function configValues(sim: SimulatorState, params: Record<string, unknown>): ContainerConfig {
  const values: ContainerConfig = {};
  for (const [key, raw] of Object.entries(params)) {
    if (NON_CONFIG_KEYS.has(key) || raw === undefined || raw === null) continue;
    const schema = configKeySchema(sim, key);
    let value = typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw);
    if (/^net\d+$/.test(key)) {
      const format = objectFormat(sim, key);
      const net = parseProperties(format, value, key);
      net.hwaddr ??= randomMac();
      net.type ??= 'veth';
      value = printPropertyString(format, net);
    } else if (key === 'features') {
      const format = objectFormat(sim, key);
      value = printPropertyString(format, parseProperties(format, value, key));
    } else if (key === 'tags') {
      // GuestHelpers get_unique_tags: sorted, unique, ';'-separated
      value = [...new Set(splitList(value))].sort().join(';');
    } else if (schema?.type === 'boolean') {
      value = value === '1' || value === 'true' ? '1' : '0';
    }
    values[key] = value;
  }
  return values;
}

/** The config as GET .../config returns it: integers and booleans as JSON numbers (LXC/Config.pm check_type). */
export function configForApi(sim: SimulatorState, config: ContainerConfig): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const type = configKeySchema(sim, key)?.type;
    result[key] = type === 'integer' || type === 'boolean' ? Number(value) : value;
  }
  return result;
}

/** Size in bytes of a mount point string (`local-lvm:vm-100-disk-0,size=8G`). */
export function volumeSize(sim: SimulatorState, key: string, value: string | undefined): number {
  if (!value) return 0;
  try {
    const size = parseProperties(objectFormat(sim, key), value, key).size;
    return size ? (parseSize(size) ?? 0) : 0;
  } catch {
    return 0;
  }
}

/**
 * pve-container LXC.pm check_ct_modify_config_perm: which privilege each changed key needs.
 * Root may do anything; feature flags are root's on privileged containers, and only
 * `nesting` (with VM.Allocate) on unprivileged ones; NICs need SDN.Use on their bridge.
 */
export function checkConfigPermissions(
  sim: SimulatorState,
  user: string,
  vmid: number,
  oldConfig: ContainerConfig | undefined,
  newValues: Record<string, unknown>,
  deleted: string[],
  unprivileged: boolean,
): void {
  if (user === 'root@pam') return;
  const vmPath = `/vms/${vmid}`;
  const check = (key: string, isDelete: boolean) => {
    const value = isDelete ? undefined : newValues[key];
    if (key === 'cores' || key === 'cpuunits' || key === 'cpulimit') {
      sim.acl.check(user, vmPath, ['VM.Config.CPU']);
    } else if (key === 'rootfs' || /^mp\d+$/.test(key)) {
      sim.acl.check(user, vmPath, ['VM.Config.Disk']);
      if (isDelete) return;
      const mount = parseProperties(objectFormat(sim, key), String(value), key);
      const volume = mount.volume ?? '';
      if (volume.startsWith('/')) {
        throw permissionError(
          `mount point type ${volume.startsWith('/dev/') ? 'device' : 'bind'} is only allowed for root@pam`,
        );
      }
      const newDisk = NEW_DISK_RE.exec(volume);
      if (newDisk?.[1]) sim.acl.check(user, `/storage/${newDisk[1]}`, ['Datastore.AllocateSpace']);
    } else if (key === 'memory' || key === 'swap') {
      sim.acl.check(user, vmPath, ['VM.Config.Memory']);
    } else if (/^net\d+$/.test(key)) {
      sim.acl.check(user, vmPath, ['VM.Config.Network']);
      for (const raw of [oldConfig?.[key], value === undefined ? undefined : String(value)]) {
        if (!raw) continue;
        const net = parseProperties(objectFormat(sim, key), raw, key);
        // GuestHelpers check_vnet_access: SDN.Use on the bridge (or its VLAN tag) in zone localnetwork
        let path = `/sdn/zones/localnetwork/${net.bridge ?? ''}`;
        if (net.tag !== undefined) path += `/${net.tag}`;
        sim.acl.checkAny(user, path, ['SDN.Use']);
      }
    } else if (/^dev\d+$/.test(key)) {
      throw permissionError('configuring device passthrough is only allowed for root@pam');
    } else if (key === 'nameserver' || key === 'searchdomain' || key === 'hostname') {
      sim.acl.check(user, vmPath, ['VM.Config.Network']);
    } else if (key === 'features') {
      if (!unprivileged) {
        throw permissionError('changing feature flags for privileged container is only allowed for root@pam');
      }
      const format = objectFormat(sim, key);
      const before = oldConfig?.features ? parseProperties(format, oldConfig.features, key) : {};
      const after = value === undefined ? {} : parseProperties(format, String(value), key);
      const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
        (feature) => (before[feature] ?? '') !== (after[feature] ?? ''),
      );
      if (changed.some((feature) => feature !== 'nesting')) {
        throw permissionError('changing feature flags (except nesting) is only allowed for root@pam');
      }
      if (changed.includes('nesting')) sim.acl.check(user, vmPath, ['VM.Allocate']);
    } else if (key === 'hookscript') {
      throw permissionError('changing the hookscript is only allowed for root@pam');
    } else {
      sim.acl.check(user, vmPath, ['VM.Config.Options']);
    }
  };
  for (const key of Object.keys(newValues)) check(key, false);
  for (const key of deleted) check(key, true);
}

/** The NICs of a config as the runtime contract describes them (net[n] without a bridge are left out). */
export function netSpecs(
  sim: SimulatorState,
  config: ContainerConfig,
): { nets: NetSpec[]; unplugged: string[] } {
  const nets: NetSpec[] = [];
  const unplugged: string[] = [];
  for (const key of Object.keys(config).filter((k) => /^net\d+$/.test(k))) {
    const net = parseProperties(objectFormat(sim, key), config[key]!, key);
    if (!net.bridge) {
      unplugged.push(key);
      continue;
    }
    nets.push({
      index: Number(key.slice(3)),
      name: net.name ?? `eth${key.slice(3)}`,
      bridge: net.bridge,
      hwaddr: (net.hwaddr ?? randomMac()).toUpperCase(),
      ip: net.ip,
      gw: net.gw,
      mtu: net.mtu === undefined ? undefined : Number(net.mtu),
    });
  }
  return { nets: nets.sort((a, b) => a.index - b.index), unplugged };
}

export function containerSpec(sim: SimulatorState, vmid: number, config: ContainerConfig): ContainerSpec {
  return {
    vmid,
    hostname: config.hostname ?? `CT${vmid}`,
    nets: netSpecs(sim, config).nets,
    memoryMb: Number(config.memory ?? 512),
    cores: Number(config.cores ?? cpus().length),
    unprivileged: config.unprivileged === '1',
    features: featureFlags(config.features),
  };
}

/** PVE's `features` property string (`nesting=1,keyctl=1`) as the runtime's flags. */
function featureFlags(features: string | undefined): { nesting: boolean; keyctl: boolean } {
  const on = new Set(
    (features ?? '')
      .split(',')
      .filter((part) => /^(nesting|keyctl)=(1|on|yes|true)$/i.test(part))
      .map((part) => part.split('=')[0]!.toLowerCase()),
  );
  return { nesting: on.has('nesting'), keyctl: on.has('keyctl') };
}

/** PVE::LXC::vmstatus for one container: the list entry / status/current body. */
export async function containerStatus(sim: SimulatorState, vmid: number): Promise<Record<string, unknown>> {
  const config = loadConfig(sim, vmid);
  const state = await sim.runtime.state(vmid);
  const running = state === 'running';
  const hostCpus = cpus().length;
  let cpusLimit = Number(config.cores ?? hostCpus);
  if (config.cpulimit && Number(config.cpulimit) > 0 && Number(config.cpulimit) < cpusLimit) {
    cpusLimit = Number(config.cpulimit);
  }
  const status: Record<string, unknown> = {
    vmid,
    name: config.hostname ?? `CT${vmid}`,
    status: running ? 'running' : 'stopped',
    type: 'lxc',
    cpus: cpusLimit,
    cpu: 0,
    maxmem: Number(config.memory ?? 512) * 1024 * 1024,
    mem: 0,
    maxswap: Number(config.swap ?? 512) * 1024 * 1024,
    swap: 0,
    maxdisk: volumeSize(sim, 'rootfs', config.rootfs),
    disk: 0,
    uptime: 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
  };
  if (config.tags) status.tags = config.tags;
  if (config.lock) status.lock = config.lock;
  if (config.template === '1') status.template = 1;
  if (running) {
    const stats = await sim.runtime.stats(vmid);
    Object.assign(status, {
      cpu: sim.rrd.latestCpu(vmid),
      mem: stats.memoryBytes,
      uptime: Math.floor(stats.uptimeSeconds),
      netin: stats.netInBytes,
      netout: stats.netOutBytes,
      diskread: stats.diskReadBytes,
      diskwrite: stats.diskWriteBytes,
    });
    const pid = await sim.runtime.initPid(vmid);
    if (pid !== undefined) status.pid = pid;
  }
  return status;
}

/** `[storage:]size` or a volume in a mount point string -> its storage id. */
export function mountStorage(volume: string, defaultStorage: string): string | undefined {
  const newDisk = NEW_DISK_RE.exec(volume);
  if (newDisk) return newDisk[1] ?? defaultStorage;
  return parseVolumeId(volume)?.storage;
}
