/**
 * Containers made from the rig's Debian 13 template (debian-template.ts) the way Proxmox VE
 * makes them (pve-container: LXC/Create.pm restore_tar_archive, LXC.pm update_lxc_config,
 * LXC/Setup/Debian.pm):
 * - the archive is extracted through `lxc-usernsexec` with the container's id map, so an
 *   unprivileged container's files belong to 100000+ exactly as `pct create` leaves them
 *   (and `./dev/*` is skipped: device nodes cannot be made there, LXC populates /dev);
 * - the LXC config is regenerated at every start: Debian's common config, the userns config,
 *   the id map and `sys:mixed` for unprivileged containers, veth NICs that LXC itself
 *   creates and attaches to their bridge (PVE names the host end `veth<vmid>i<n>` too);
 * - before every start the guest's /etc/hostname, /etc/hosts and /etc/network/interfaces are
 *   written from the container's config, as PVE's pre-start hook does; DHCP is then done by
 *   the guest's own ifupdown + dhclient, which sends the hostname (Debian's dhclient.conf).
 *
 * systemd runs as PID 1. In an unprivileged container `systemctl is-system-running` ends as
 * `degraded`: sys-kernel-debug.mount (debugfs cannot be mounted in a user namespace) and
 * systemd-modules-load.service (CAP_SYS_MODULE looks present inside the user namespace, but
 * loading modules is refused) fail, as they do in PVE's unprivileged Debian containers.
 * EXPECTED_FAILED_UNITS names them; anything else failing is a real problem.
 */
import { spawn } from 'node:child_process';
import { chownSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ContainerSpec, NetSpec } from './contracts.js';
import { ID_COUNT, ID_SHIFT, idmapConfigLines } from './idmap.js';

export { ID_COUNT, ID_SHIFT };

/** Units that fail in an unprivileged container for reasons of the kernel, not of the setup. */
export const EXPECTED_FAILED_UNITS = ['sys-kernel-debug.mount', 'systemd-modules-load.service'] as const;

const LXC_CONFIG_DIR = '/usr/share/lxc/config';

/** Extracts `archive` (.tar.zst) into `rootfs` as root of the container's user namespace. */
export async function extractTemplate(archive: string, rootfs: string, unprivileged: boolean): Promise<void> {
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  const shift = unprivileged ? ID_SHIFT : 0;
  chownSync(rootfs, shift, shift);
  const userns = unprivileged
    ? ['lxc-usernsexec', '-m', `u:0:${ID_SHIFT}:${ID_COUNT}`, '-m', `g:0:${ID_SHIFT}:${ID_COUNT}`, '--']
    : [];
  const argv = [
    ...userns,
    'tar', 'xpf', '-', '--zstd', '--numeric-owner', '--sparse', '-C', rootfs,
    '--skip-old-files', '--anchored', '--exclude', './dev/*',
  ]; // prettier-ignore
  const input = openSync(archive, 'r');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: [input, 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`extracting ${archive} failed (${code}): ${stderr.trim()}`)),
      );
    });
  } finally {
    closeSync(input);
  }
}

/**
 * The seccomp rules PVE adds for unprivileged containers (LXC.pm make_seccomp_config), after
 * LXC's common.seccomp: keyctl() answers ENOSYS unless the `keyctl` feature is on (systemd
 * and Docker in a container need it), btrfs ioctls and AF_ALG sockets are refused.
 */
export function seccompExtraRules(features: ContainerSpec['features']): string {
  const rules: Record<string, string[]> = {
    ioctl: ['errno 1 [1,0x9400,SCMP_CMP_MASKED_EQ,0xff00]'],
    keyctl: ['errno 38'],
    socket: ['errno 97 [0,38,SCMP_CMP_EQ]'],
  };
  if (features?.keyctl) delete rules.keyctl;
  return Object.keys(rules)
    .sort()
    .flatMap((syscall) => rules[syscall]!.map((rule) => `${syscall} ${rule}\n`))
    .join('');
}

/** The LXC config of a Debian container (without the rig's log and limit lines). */
export function debianLxcConfig(spec: ContainerSpec, rootfs: string, seccompFile?: string): string[] {
  const unprivileged = spec.unprivileged === true;
  const lines = [
    'lxc.arch = amd64',
    `lxc.include = ${LXC_CONFIG_DIR}/debian.common.conf`,
    ...(unprivileged
      ? [
          `lxc.include = ${LXC_CONFIG_DIR}/debian.userns.conf`,
          // LXC.pm: unprivileged CTs default to sys:rw, which does not play well with systemd
          'lxc.mount.auto = sys:mixed',
        ]
      : []),
    ...(unprivileged && seccompFile ? [`lxc.seccomp.profile = ${seccompFile}`] : []),
    ...(spec.features?.nesting ? [`lxc.include = ${LXC_CONFIG_DIR}/nesting.conf`] : []),
    'lxc.monitor.unshare = 1',
    ...(unprivileged ? idmapConfigLines() : []),
    'lxc.tty.max = 2',
    'lxc.environment = TERM=linux',
    `lxc.uts.name = ${spec.hostname}`,
    `lxc.rootfs.path = dir:${rootfs}`,
  ];
  spec.nets.forEach((net, i) => lines.push(...netConfigLines(spec.vmid, i, net)));
  return lines;
}

function netConfigLines(vmid: number, i: number, net: NetSpec): string[] {
  return [
    `lxc.net.${i}.type = veth`,
    `lxc.net.${i}.veth.pair = veth${vmid}i${net.index}`,
    `lxc.net.${i}.hwaddr = ${net.hwaddr}`,
    `lxc.net.${i}.name = ${net.name}`,
    // PVE attaches the host end with its lxcnetaddbr hook (firewall bridges); LXC's own
    // link option does the same for a plain bridge.
    `lxc.net.${i}.link = ${net.bridge}`,
    ...(net.mtu ? [`lxc.net.${i}.mtu = ${net.mtu}`] : []),
  ];
}

/** /etc/network/interfaces as PVE's Debian setup writes it for the container's NICs. */
export function renderInterfaces(nets: readonly NetSpec[]): string {
  let text = 'auto lo\niface lo inet loopback\n\n';
  for (const net of nets) {
    text += `auto ${net.name}\n`;
    if (net.ip === 'dhcp') text += `iface ${net.name} inet dhcp\n\n`;
    else if (net.ip && net.ip !== 'manual') {
      text += `iface ${net.name} inet static\n\taddress ${net.ip}\n`;
      if (net.gw) text += `\tgateway ${net.gw}\n`;
      text += '\n';
    } else text += `iface ${net.name} inet manual\n\n`;
  }
  return text;
}

/** /etc/hosts as PVE writes it: the container's name on 127.0.1.1. */
export function renderHosts(hostname: string): string {
  const short = hostname.split('.')[0]!;
  const names = short === hostname ? hostname : `${hostname} ${short}`;
  return `127.0.0.1 localhost.localdomain localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.1.1 ${names}\n`;
}

/**
 * Writes the files PVE's pre-start hook writes, owned by the container's root. A path that
 * is a symlink inside the guest is refused: the node must never write through the guest's
 * links onto its own files.
 */
/** Writes the container's rules.seccomp (common.seccomp + PVE's rules); returns its path. */
export function writeSeccompProfile(containerDir: string, features: ContainerSpec['features']): string {
  const file = path.join(containerDir, 'rules.seccomp');
  writeFileSync(file, readFileSync(`${LXC_CONFIG_DIR}/common.seccomp`, 'utf8') + seccompExtraRules(features));
  return file;
}

export function writeGuestSetup(rootfs: string, spec: ContainerSpec): void {
  const owner = spec.unprivileged ? ID_SHIFT : 0;
  const files: [string, string][] = [
    ['etc/hostname', `${spec.hostname.split('.')[0]}\n`],
    ['etc/hosts', renderHosts(spec.hostname)],
    ['etc/network/interfaces', renderInterfaces(spec.nets)],
  ];
  for (const [relative, text] of files) {
    const file = path.join(rootfs, relative);
    let isLink = false;
    try {
      isLink = lstatSync(file).isSymbolicLink();
    } catch {
      // absent: created below
    }
    if (isLink) throw new Error(`CT ${spec.vmid}: /${relative} is a symlink; refusing to write through it`);
    writeFileSync(file, text, { mode: 0o644 });
    chownSync(file, owner, owner);
  }
}
