/**
 * /nodes/{node}/network (pve-manager src/PVE/API2/Network.pm): list the node's interfaces,
 * stage changes in interfaces.new, apply them as an `srvreload` task (PVE: `ifreload -a`),
 * revert them. Interface names are checked with PVE's pve-iface format, which is why
 * `proximity-lan` cannot be created through this API (the product writes its bridge
 * directly, see docs/decisions.md#4-the-bridge-is-a-file-not-an-api-call).
 */
import { IPV4_RE } from '../formats.js';
import { paramError } from '../errors.js';
import type { InterfaceConfig } from '../network-config.js';
import { stringParam, userOf, type Route, type RouteContext } from '../simulator-state.js';
import { splitList } from '../validate.js';

/** INotify.pm: netmask given dotted (255.255.255.0) or as bits; written as bits. */
function netmaskBits(netmask: string): string {
  if (/^\d+$/.test(netmask)) return netmask;
  const bits = netmask
    .split('.')
    .map((octet) => Number(octet).toString(2).padStart(8, '0'))
    .join('');
  return String(bits.indexOf('0') === -1 ? 32 : bits.indexOf('0'));
}

/** What GET lists for an interface: API keys plus method/families/active like INotify.pm. */
function describe(entry: InterfaceConfig, active: boolean, priority: number): Record<string, unknown> {
  const result: Record<string, unknown> = { ...entry, priority, families: ['inet'] };
  result.method = entry.address ? 'static' : 'manual';
  result.method6 = entry.address6 ? 'static' : 'manual';
  if (entry.address6) result.families = entry.address ? ['inet', 'inet6'] : ['inet6'];
  if (entry.address) result.cidr = `${entry.address}/${entry.netmask}`;
  if (entry.address6) result.cidr6 = `${entry.address6}/${entry.netmask6}`;
  if (entry.type === 'bridge') {
    result.bridge_stp = 'off';
    result.bridge_fd = '0';
  }
  if (active) result.active = 1;
  return result;
}

/** Network.pm: PVE lists a bridge only to who may audit or use it (zone localnetwork). */
function mayAccessBridge(context: RouteContext, bridge: string): boolean {
  const user = userOf(context);
  return (
    user === 'root@pam' ||
    context.sim.acl.checkAny(user, `/sdn/zones/localnetwork/${bridge}`, ['SDN.Audit', 'SDN.Use'], true)
  );
}

const list: Route = {
  method: 'GET',
  path: '/nodes/{node}/network',
  handler: async (context) => {
    const { sim, params } = context;
    const active = new Map((await sim.network.listBridges()).map((bridge) => [bridge.name, bridge.active]));
    const changes = await sim.networkConfig.changes();
    if (changes) context.result.changes = changes;
    const filter = stringParam(params, 'type');
    const isBridge = (type: string) => type === 'bridge' || type === 'OVSBridge';
    return (await sim.networkConfig.effective())
      .map((entry, index) => ({ entry, priority: index + 1 }))
      .filter(({ entry }) => {
        if (filter && filter !== 'include_sdn') {
          const bridgeMatch = isBridge(entry.type) && /^any(_local)?_bridge$/.test(filter);
          if (!(filter === entry.type || bridgeMatch)) return false;
        }
        return !isBridge(entry.type) || mayAccessBridge(context, entry.iface);
      })
      .map(({ entry, priority }) => describe(entry, active.get(entry.iface) ?? false, priority))
      .sort((a, b) => String(a.iface).localeCompare(String(b.iface)));
  },
};

/** The API parameters of an interface as its staged configuration (Network.pm create/update). */
function applyParameters(entry: InterfaceConfig, params: Record<string, unknown>): void {
  const skip = new Set(['node', 'iface', 'delete', 'cidr', 'cidr6', 'digest']);
  for (const [key, value] of Object.entries(params)) {
    if (skip.has(key) || value === undefined || value === null) continue;
    entry[key] = typeof value === 'boolean' ? (value ? 1 : 0) : String(value);
  }
  const cidr = stringParam(params, 'cidr');
  if (cidr) {
    if (params.address !== undefined) throw paramError({ address: 'address conflicts with cidr' });
    if (params.netmask !== undefined) throw paramError({ netmask: 'netmask conflicts with cidr' });
    const [address, bits] = cidr.split('/');
    entry.address = address;
    entry.netmask = bits;
  }
  const cidr6 = stringParam(params, 'cidr6');
  if (cidr6) {
    const [address, bits] = cidr6.split('/');
    entry.address6 = address;
    entry.netmask6 = bits;
  }
  if (typeof entry.netmask === 'string' && new RegExp(`^${IPV4_RE}$`).test(entry.netmask)) {
    entry.netmask = netmaskBits(entry.netmask);
  }
  if (entry.autostart !== undefined && !Number(entry.autostart)) delete entry.autostart;
}

function checkDuplicates(interfaces: InterfaceConfig[], iface: string, entry: InterfaceConfig): void {
  for (const [key, name] of [
    ['gateway', 'Default gateway'],
    ['gateway6', 'Default ipv6 gateway'],
  ] as const) {
    if (!entry[key]) continue;
    const other = interfaces.find((candidate) => candidate.iface !== iface && candidate[key]);
    if (other) throw paramError({ [key]: `${name} already exists on interface '${other.iface}'.` });
  }
  const portKeys = ['bridge_ports', 'ovs_ports', 'slaves', 'ovs_bonds'];
  const ports = (candidate: InterfaceConfig) =>
    portKeys.flatMap((key) => splitList(String(candidate[key] ?? '')));
  const portKey = portKeys.find((key) => entry[key]);
  for (const port of ports(entry)) {
    const other = interfaces.find(
      (candidate) => candidate.iface !== iface && ports(candidate).includes(port),
    );
    if (other) throw paramError({ [portKey!]: `${port} is already used on interface '${other.iface}'.` });
  }
}

const create: Route = {
  method: 'POST',
  path: '/nodes/{node}/network',
  handler: async ({ sim, params }) => {
    const iface = stringParam(params, 'iface')!;
    const interfaces = await sim.networkConfig.effective();
    if (interfaces.some((entry) => entry.iface === iface))
      throw paramError({ iface: 'interface already exists' });
    const entry: InterfaceConfig = { iface, type: stringParam(params, 'type')! };
    applyParameters(entry, params);
    checkDuplicates(interfaces, iface, entry);
    sim.networkConfig.stage([...interfaces, entry]);
    return null;
  },
};

const reload: Route = {
  method: 'PUT',
  path: '/nodes/{node}/network',
  handler: (context) =>
    context.sim.tasks.start('srvreload', 'networking', userOf(context), async (log) => {
      await context.sim.networkConfig.apply(log);
    }),
};

const revert: Route = {
  method: 'DELETE',
  path: '/nodes/{node}/network',
  handler: ({ sim }) => {
    sim.networkConfig.revert();
    return null;
  },
};

const readOne: Route = {
  method: 'GET',
  path: '/nodes/{node}/network/{iface}',
  handler: async ({ sim, params }) => {
    const iface = stringParam(params, 'iface')!;
    const entry = (await sim.networkConfig.effective()).find((candidate) => candidate.iface === iface);
    if (!entry) throw paramError({ iface: 'interface does not exist' });
    const active = (await sim.network.listBridges()).some((bridge) => bridge.name === iface && bridge.active);
    return describe(entry, active, 0);
  },
};

const updateOne: Route = {
  method: 'PUT',
  path: '/nodes/{node}/network/{iface}',
  handler: async ({ sim, params }) => {
    const iface = stringParam(params, 'iface')!;
    const interfaces = await sim.networkConfig.effective();
    const entry = interfaces.find((candidate) => candidate.iface === iface);
    if (!entry) throw paramError({ iface: 'interface does not exist' });
    for (const key of splitList(stringParam(params, 'delete') ?? '')) delete entry[key];
    applyParameters(entry, params);
    checkDuplicates(interfaces, iface, entry);
    sim.networkConfig.stage(interfaces);
    return null;
  },
};

const deleteOne: Route = {
  method: 'DELETE',
  path: '/nodes/{node}/network/{iface}',
  handler: async ({ sim, params }) => {
    const iface = stringParam(params, 'iface')!;
    const interfaces = await sim.networkConfig.effective();
    if (!interfaces.some((candidate) => candidate.iface === iface)) {
      throw paramError({ iface: 'interface does not exist' });
    }
    sim.networkConfig.stage(interfaces.filter((candidate) => candidate.iface !== iface));
    return null;
  },
};

export const networkRoutes: Route[] = [list, create, reload, revert, readOne, updateOne, deleteOne];
