/**
 * Contracts shared by the parts of the rig (a Proxmox VE node made of real Linux parts):
 * the names and addresses of the lab, the container runtime the PVE API simulator drives,
 * and the node network the simulator's /nodes/{node}/network endpoints apply.
 *
 * Layout (all inside namespaces the rig creates; nothing touches the root namespace's
 * routes or addresses):
 *
 *   netns <rig>-wan                         netns <rig>-node  ("the Proxmox node")
 *   eth0 198.51.100.1/24  ──veth──  wanlink ─ vmbr0 (bridge) 198.51.100.2/24, gw .1
 *        198.51.100.10/24 (the internet)    lo 127.0.0.1: PVE API simulator :8006, sshd :2222
 *   dnsmasq DHCP .100-.199 for vmbr0,       other bridges (proximity-lan, test bridges)
 *     DNS: internet names → .10, else NX    veth<vmid>i<n> ── eth<n> of LXC container <vmid>
 *   busybox httpd .1:80 (www.internet.test)
 *   forwarder .10:80, .10:443 ──unix sockets <base>/internet/http.sock, https.sock──┐
 *                                                                                   │
 *   root namespace: the internet's caching server (internet/), no TCP listener ◄────┘
 *     Debian mirrors, npm registry → upstream, cached in ${cacheDir}/internet
 *     GitHub & co. → pinned files (<base>/internet/static); any other name → 502
 */

export const RIG_DEFAULT_NAME = 'proxrig';
export const RIG_NODE_NAME = 'pve1'; // the PVE node name the simulator reports

export const WAN = {
  subnet: '198.51.100.0/24',
  routerAddress: '198.51.100.1', // in <rig>-wan: gateway, DHCP server, "internet" web server
  nodeAddress: '198.51.100.2', // vmbr0 of the node
  prefixLength: 24,
  dhcpRange: ['198.51.100.100', '198.51.100.199'] as const,
  httpPort: 80,
  /** In <rig>-wan too: the rig's internet (Debian, npm, pinned files) on :80 and :443; DNS gives it to INTERNET_NAMES. */
  internetAddress: '198.51.100.10',
  /**
   * Public resolvers' addresses, held by <rig>-wan too (its dnsmasq answers there): the
   * product's default upstream DNS (1.1.1.1, 9.9.9.9) works unchanged, and they answer ping
   * as installers' network checks expect.
   */
  publicResolvers: ['1.1.1.1', '8.8.8.8', '9.9.9.9'],
} as const;

export const SIMULATOR_PORT = 8006; // https://127.0.0.1:8006/api2/json inside <rig>-node
export const SSHD_PORT = 2222; // 127.0.0.1:2222 inside <rig>-node, key-only

/** Where a rig keeps its state; one directory per rig name. */
export function rigPaths(name = RIG_DEFAULT_NAME) {
  const base = `/var/lib/proximity-rig/${name}`;
  return {
    base,
    stateFile: `${base}/state.json`, // what exists now: namespaces, pids, containers, files
    lxcPath: `${base}/lxc`, // lxc -P: containers live in <lxcPath>/<vmid>
    pveDir: `${base}/pve`, // simulator data: container configs (<vmid>.json), staged network
    logDir: `${base}/log`,
    sshDir: `${base}/ssh`, // host key, client key, authorized_keys, sshd_config
    binDir: `${base}/bin`, // prepended to PATH inside the node: pct and ifreload stand-ins
    etcNetworkDir: `${base}/etc/network`, // the node's /etc/network: interfaces, interfaces.d/ (ifreload)
    nodeNetns: `${name}-node`,
    wanNetns: `${name}-wan`,
  };
}

/** One container NIC, as PVE's `net[n]` property string describes it. */
export interface NetSpec {
  index: number; // n of net[n]; the host end is veth<vmid>i<n>
  name: string; // interface name inside the container (eth0)
  bridge: string; // bridge in the node namespace
  hwaddr: string; // XX:XX:XX:XX:XX:XX, upper case as PVE writes it
  ip?: 'dhcp' | 'manual' | string | undefined; // 'dhcp', 'manual' or CIDR (10.20.0.5/24)
  gw?: string | undefined;
  mtu?: number | undefined;
}

/**
 * What a container's rootfs is made from (PVE's `ostemplate`; the simulator maps its
 * template files to these). Both are LXC's busybox template; `appliance` stands for a
 * Debian template with dnsmasq (and its utils), nftables and Caddy installed: the host's programs
 * (APPLIANCE_PROGRAMS) are bind-mounted read-only at the same paths, and the accounts
 * Debian and those packages bring (nobody, nogroup, dip, dnsmasq, caddy) exist. `debian` is
 * the rig's real Debian 13 template (debian-template.ts, debian-container.ts): systemd as
 * PID 1, apt, unprivileged when asked, its NICs configured by the guest's own ifupdown.
 */
export type ContainerTemplate = 'busybox' | 'appliance' | 'debian';

/** The appliance template's programs: host files, bind-mounted read-only (their libraries come with the busybox template's /lib and /usr/lib). */
export const APPLIANCE_PROGRAMS = [
  '/usr/sbin/dnsmasq',
  '/usr/sbin/nft',
  '/usr/bin/caddy',
  // dnsmasq-utils: the product releases a deleted app's lease with it.
  '/usr/bin/dhcp_release',
] as const;

export interface ContainerSpec {
  vmid: number;
  hostname: string;
  nets: NetSpec[];
  memoryMb: number;
  cores: number;
  /** Used by create only; default 'busybox'. */
  template?: ContainerTemplate | undefined;
  /** PVE's `unprivileged`: root of the container is uid/gid 100000 on the node (debian only). */
  unprivileged?: boolean | undefined;
  /** PVE's `features` (debian only). */
  features?: { nesting?: boolean; keyctl?: boolean } | undefined;
}

export type ContainerState = 'running' | 'stopped';

export interface InterfaceInfo {
  name: string; // lo, eth0, ...
  hwaddr: string; // lower case, as PVE's /interfaces reports
  inet?: string; // 10.20.0.101/24
  inet6?: string;
}

/** Real figures, read from the container's cgroup and its veths. */
export interface ContainerStats {
  cpuSeconds: number; // cumulative CPU time
  memoryBytes: number;
  memoryMaxBytes: number;
  netInBytes: number; // as PVE counts: bytes the container received
  netOutBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  uptimeSeconds: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Real LXC containers (busybox template, privileged) in the rig's lxcPath, plugged into
 * the node namespace's bridges exactly as PVE plugs them. Implemented by the rig; used by
 * the PVE API simulator (which runs inside the node namespace) and by the pct stand-in.
 */
export interface ContainerRuntime {
  create(spec: ContainerSpec): Promise<void>; // rootfs + config; not started
  start(spec: ContainerSpec): Promise<void>; // lxc-start, veths, DHCP client (sends hostname) or static IP
  stop(vmid: number, options?: { timeoutSeconds?: number; force?: boolean }): Promise<void>;
  destroy(vmid: number): Promise<void>; // stopped first if needed; removes everything
  state(vmid: number): Promise<ContainerState | 'absent'>;
  initPid(vmid: number): Promise<number | undefined>;
  interfaces(vmid: number): Promise<InterfaceInfo[]>;
  stats(vmid: number): Promise<ContainerStats>;
  exec(vmid: number, argv: string[], options?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  list(): Promise<number[]>;
}

/** Bridges of the node namespace, for the simulator's network apply (PUT /nodes/{n}/network). */
export interface BridgeSpec {
  name: string;
  cidr?: string | undefined; // address of the node on it
  ports?: string[] | undefined;
}

export interface NodeNetwork {
  listBridges(): Promise<{ name: string; cidr?: string; active: boolean }[]>;
  ensureBridge(spec: BridgeSpec): Promise<void>;
  deleteBridge(name: string): Promise<void>;
}
