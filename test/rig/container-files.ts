/**
 * What the rig changes in a fresh busybox container, before it first starts:
 * - rcS no longer runs a DHCP client at boot (the template's does, with Debian's default
 *   script and before any NIC exists): the runtime starts ours once the NIC is plugged in;
 * - our udhcpc script, which applies a lease to the container only (Debian's default
 *   scripts, which the busybox template takes from the host, would rewrite the HOST's
 *   /etc/resolv.conf);
 * - a launcher that starts udhcpc in the background, sending the hostname;
 * - /etc/hostname and /etc/hosts, as PVE writes them;
 * - for the appliance template (contracts.ts): the accounts and directories a Debian system
 *   with dnsmasq-base and caddy installed has, and the lxc.mount.entry lines that bring the
 *   host's programs in. busybox's /etc/passwd knows only root, and dnsmasq refuses to start
 *   without its default user ("unknown user or group: nobody").
 */
import { appendFileSync, chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { APPLIANCE_PROGRAMS, type ContainerTemplate } from './contracts.js';

/** Paths inside the container. */
export const DHCP_START = '/etc/proximity-rig/dhcp-start';
export const DHCP_SCRIPT = '/etc/proximity-rig/udhcpc.script';

export function writeContainerFiles(rootfs: string, hostname: string, template: ContainerTemplate): void {
  const inRootfs = (file: string) => path.join(rootfs, file);
  mkdirSync(inRootfs('/etc/proximity-rig'), { recursive: true });
  writeExecutable(inRootfs('/etc/init.d/rcS'), RCS);
  writeExecutable(inRootfs(DHCP_SCRIPT), UDHCPC_SCRIPT);
  writeExecutable(inRootfs(DHCP_START), DHCP_START_SCRIPT);
  writeFileSync(inRootfs('/etc/hostname'), `${hostname}\n`);
  writeFileSync(inRootfs('/etc/hosts'), `127.0.0.1 localhost\n127.0.1.1 ${hostname}\n`);
  if (template === 'appliance') {
    appendFileSync(inRootfs('/etc/passwd'), APPLIANCE_USERS.map((user) => `${user.join(':')}\n`).join(''));
    appendFileSync(inRootfs('/etc/group'), APPLIANCE_GROUPS.map((group) => `${group.join(':')}\n`).join(''));
    for (const [, , uid, gid, , home] of APPLIANCE_USERS) {
      if (home === '/nonexistent') continue;
      mkdirSync(inRootfs(home), { recursive: true });
      chownSync(inRootfs(home), Number(uid), Number(gid));
    }
  }
}

/** The template's lines for the container's LXC config. */
export function templateConfigLines(template: ContainerTemplate): string[] {
  if (template !== 'appliance') return [];
  // Same path inside; create=file makes the mount point (the busybox rootfs has empty usr/*bin).
  return APPLIANCE_PROGRAMS.map(
    (program) => `lxc.mount.entry = ${program} ${program.slice(1)} none ro,bind,create=file 0 0`,
  );
}

/**
 * passwd entries as Debian's base-passwd (nobody) and the packages' postinst scripts
 * (dnsmasq-base: dnsmasq in nogroup, home /var/lib/misc, where its lease file goes; caddy)
 * make them. dnsmasq's compiled-in default is user nobody, group dip.
 */
const APPLIANCE_USERS = [
  ['nobody', 'x', '65534', '65534', 'nobody', '/nonexistent', '/usr/sbin/nologin'],
  ['dnsmasq', 'x', '100', '65534', 'dnsmasq', '/var/lib/misc', '/usr/sbin/nologin'],
  ['caddy', 'x', '101', '101', 'Caddy web server', '/var/lib/caddy', '/usr/sbin/nologin'],
] as const;

const APPLIANCE_GROUPS = [
  ['dip', 'x', '30', ''],
  ['caddy', 'x', '101', ''],
  ['nogroup', 'x', '65534', ''],
] as const;

function writeExecutable(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

const RCS = `#!/bin/sh
# Proximity rig: mounts only; the runtime configures the network once the NIC is plugged in.
/bin/mount -a
`;

// Runs inside the container: $1 interface, $2 hostname. udhcpc stays in the foreground of
// a background job so it keeps renewing; its output goes to a file, so lxc-attach (and
// whoever waits for its output) returns at once.
const DHCP_START_SCRIPT = `#!/bin/sh
iface="$1"
name="$2"
udhcpc -f -i "$iface" -x "hostname:$name" -s ${DHCP_SCRIPT} -p "/var/run/udhcpc.$iface.pid" \\
  </dev/null >>"/var/log/udhcpc.$iface.log" 2>&1 &
`;

// Called by udhcpc with $1 = deconfig|bound|renew|leasefail|nak and the lease in the
// environment (ip, mask = prefix length, router, dns, domain). Touches this container only.
const UDHCPC_SCRIPT = `#!/bin/sh
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set dev "$interface" up
    ;;
  bound|renew)
    if ! ip -4 addr show dev "$interface" | grep -q "inet $ip/$mask "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$mask" \${broadcast:+broadcast "$broadcast"} dev "$interface"
    fi
    if [ -n "$router" ]; then
      set -- $router
      ip route del default dev "$interface" 2>/dev/null
      ip route add default via "$1" dev "$interface"
    fi
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
    for server in $dns; do echo "nameserver $server" >> /etc/resolv.conf; done
    ;;
esac
exit 0
`;
