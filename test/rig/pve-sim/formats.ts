/**
 * The named `format`s of the PVE API schema, ported from their Perl validators with PVE's
 * own error texts (pve-common src/PVE/JSONSchema.pm unless noted: pve-access-control
 * AccessControl.pm / Auth/Plugin.pm for users, realms and tokens; pve-container LXC/Config.pm
 * for mount point paths). A validator returns the message PVE `die`s with (without the final
 * newline), or undefined when the value is valid.
 *
 * Formats this table does not know are accepted: they belong to endpoints the rig does not
 * implement (firewall, SDN, QEMU...), which answer 501 before validation.
 */
import { readFileSync } from 'node:fs';
import { perl } from './perl-regex.js';

export type FormatValidator = (value: string) => string | undefined;

const IPV4_OCTET = '(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])';
/** $PVE::Tools::IPV4RE */
export const IPV4_RE = `(?:(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET})`;
const H16 = '(?:[0-9a-fA-F]{1,4})';
const LS32 = `(?:(?:${IPV4_RE}|${H16}:${H16}))`;
/** $PVE::Tools::IPV6RE */
export const IPV6_RE =
  '(?:' +
  `(?:(?:(?:${H16}:){6})${LS32})|` +
  `(?:(?:::(?:${H16}:){5})${LS32})|` +
  `(?:(?:(?:${H16})?::(?:${H16}:){4})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,3}${H16})?::(?:${H16}:){1})${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,4}${H16})?::)${LS32})|` +
  `(?:(?:(?:(?:${H16}:){0,5}${H16})?::)${H16})|` +
  `(?:(?:(?:(?:${H16}:){0,6}${H16})?::))` +
  ')';

const ipv4 = new RegExp(`^(?:${IPV4_RE})\\n?$`);
const ipv6 = new RegExp(`^(?:${IPV6_RE})\\n?$`);
const cidrv4 = new RegExp(`^(?:${IPV4_RE})(?:/(\\d+))\\n?$`);
const cidrv6 = new RegExp(`^(?:${IPV6_RE})(?:/(\\d+))\\n?$`);

/** PVE::Auth::Plugin: $user_regex, $realm_regex */
export const USER_RE = '[^\\s:/]+';
export const REALM_RE = '[A-Za-z][A-Za-z0-9\\.\\-_]+';
const USERID = new RegExp(`^(${USER_RE})@(${REALM_RE})\\n?$`);
/** PVE::AccessControl $token_full_regex: ((user)@(realm))!(tokenname) */
export const TOKEN_FULL = new RegExp(`^((${USER_RE})@(${REALM_RE}))!(${REALM_RE})$`);

const NETMASKS = new Set(
  Array.from({ length: 33 }, (_, bits) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return [24, 16, 8, 0].map((shift) => (mask >>> shift) & 0xff).join('.');
  }),
);

export function isIpv4(value: string): boolean {
  return ipv4.test(value);
}

export function isIpv6(value: string): boolean {
  return ipv6.test(value);
}

function cidrOk(re: RegExp, value: string, max: number): boolean {
  const match = re.exec(value);
  if (!match) return false;
  const bits = Number(match[1]);
  return bits > 7 && bits <= max;
}

export function isDnsName(value: string): boolean {
  const name = '([a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?)';
  return new RegExp(`^(${name}\\.)*${name}\\n?$`).test(value);
}

/** PVE::Auth::Plugin::verify_username */
export function verifyUsername(username: string): string | undefined {
  const length = username.length;
  if (length < 3) return `user name '${username}' is too short`;
  if (length > 64) return `user name '${username}' is too long (${length} > 64)`;
  if (!USERID.test(username)) return `value '${username}' does not look like a valid user name`;
  return undefined;
}

/** PVE::JSONSchema::parse_size */
export function parseSize(value: string): number | undefined {
  const match = perl(/^(\d+(\.\d+)?)([KMGT])?$/).exec(value);
  if (!match) return undefined;
  const units: Record<string, number> = { K: 1, M: 2, G: 3, T: 4 };
  return Math.trunc(Number(match[1]) * 1024 ** (match[3] ? units[match[3]]! : 0));
}

/** PVE::JSONSchema::pve_parse_startup_order */
function startupOrderOk(value: string): boolean {
  if (!value) return false;
  return value
    .split(',')
    .filter((part) => !/^\s*$/.test(part))
    .every((part) => /^(order=)?(\d+)$/.test(part) || /^up=(\d+)$/.test(part) || /^down=(\d+)$/.test(part));
}

function vlanIdOrRange(value: string): string | undefined {
  const match = perl(/^(\d+)(?:-(\d+))?$/).exec(value);
  if (!match) return `invalid VLAN configuration '${value}'`;
  const start = Number(match[1]);
  const end = match[2] === undefined ? undefined : Number(match[2]);
  for (const tag of [start, end]) {
    if (tag !== undefined && (tag < 2 || tag > 4094)) return `invalid VLAN tag '${tag}'`;
  }
  if (end && start >= end) return `VLAN range must go from lower to higher tag '${value}'`;
  return undefined;
}

/** pve-container PVE::LXC::Config::verify_lxc_mp_string: no `.`/`..` path components. */
function lxcMountPath(value: string): string | undefined {
  if (/\/\.\.?\//.test(value) || /^\.\.?\//.test(value) || /\/\.\.?$/.test(value) || /^\.\.?$/.test(value)) {
    return `${value} contains illegal character sequences`;
  }
  return undefined;
}

let zoneNames: Set<string> | undefined;
function timezoneOk(value: string): boolean {
  if (value === 'host' || value === 'UTC') return true;
  if (!zoneNames) {
    try {
      const table = readFileSync('/usr/share/zoneinfo/zone.tab', 'utf8');
      zoneNames = new Set(
        table
          .split('\n')
          .filter((line) => line && !line.startsWith('#'))
          .map((line) => line.split('\t')[2] ?? ''),
      );
    } catch {
      return true; // no zone table on this machine: cannot check, accept like an unknown format
    }
  }
  return zoneNames.has(value);
}

const STORAGE_CONTENT = new Set([
  'images',
  'rootdir',
  'vztmpl',
  'iso',
  'backup',
  'snippets',
  'import',
  'none',
]);

const when =
  (ok: (value: string) => boolean, message: (value: string) => string): FormatValidator =>
  (value) =>
    ok(value) ? undefined : message(value);

const matches = (re: RegExp, message: (value: string) => string): FormatValidator =>
  when((value) => perl(re).test(value), message);

/** Validators by format name (without the `-list` / `-opt` suffixes, handled by the caller). */
export const FORMATS: Record<string, FormatValidator> = {
  string: () => undefined,
  regex: () => undefined,
  urlencoded: matches(/^[-%a-zA-Z0-9_.!~*'()]*$/, (v) => `invalid urlencoded string: ${v}`),
  'pve-configid': matches(/^[a-z][a-z0-9_-]+$/i, (v) => `invalid configuration ID '${v}'`),
  'pve-storage-id': matches(
    /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i,
    (v) => `storage ID '${v}' contains illegal characters`,
  ),
  'pve-bridge-id': matches(/^[-_.\w\d]+$/, (v) => `invalid bridge ID '${v}'`),
  'acme-plugin-id': matches(
    /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i,
    (v) => `ACME plugin ID '${v}' contains illegal characters`,
  ),
  'pve-vmid': matches(/^[1-9][0-9]{2,8}$/, () => 'value does not look like a valid VM ID'),
  'pve-node': matches(
    /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/,
    () => 'value does not look like a valid node name',
  ),
  // pve_verify_iface: the reason `proximity-lan` cannot be created through the PVE API.
  'pve-iface': matches(/^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i, (v) => `invalid network interface name '${v}'`),
  'pve-vlan-id-or-range': vlanIdOrRange,
  'mac-addr': matches(
    /^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i,
    () => 'value does not look like a valid unicast MAC address',
  ),
  ipv4: when(isIpv4, () => 'value does not look like a valid IPv4 address'),
  ipv6: when(isIpv6, () => 'value does not look like a valid IPv6 address'),
  ip: when(
    (v) => isIpv4(v) || isIpv6(v),
    () => 'value does not look like a valid IP address',
  ),
  ipv4mask: when(
    (v) => NETMASKS.has(v),
    () => 'value does not look like a valid IP netmask',
  ),
  CIDRv4: when(
    (v) => cidrOk(cidrv4, v, 32),
    () => 'value does not look like a valid IPv4 CIDR network',
  ),
  CIDRv6: when(
    (v) => cidrOk(cidrv6, v, 128),
    () => 'value does not look like a valid IPv6 CIDR network',
  ),
  CIDR: when(
    (v) => cidrOk(cidrv4, v, 32) || cidrOk(cidrv6, v, 128),
    () => 'value does not look like a valid CIDR network',
  ),
  'pve-ipv4-config': when(
    (v) => /^(?:dhcp|manual)\n?$/.test(v) || cidrOk(cidrv4, v, 32),
    () => 'value does not look like a valid ipv4 network configuration',
  ),
  'pve-ipv6-config': when(
    (v) => /^(?:auto|dhcp|manual)\n?$/.test(v) || cidrOk(cidrv6, v, 128),
    () => 'value does not look like a valid ipv6 network configuration',
  ),
  email: matches(
    /^[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/,
    () => 'value does not look like a valid email address',
  ),
  'email-or-username': when(
    (v) =>
      perl(/^[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/).test(v) ||
      perl(/^[\w+\-~]+$/).test(v),
    () => 'value does not look like a valid email address or user name',
  ),
  'dns-name': when(isDnsName, () => 'value does not look like a valid DNS name'),
  address: when(
    (v) => isIpv4(v) || isIpv6(v) || isDnsName(v),
    (v) => `value does not look like a valid address: ${v}`,
  ),
  'disk-size': when(
    (v) => parseSize(v) !== undefined,
    (v) => `value does not look like a valid disk size: ${v}`,
  ),
  'pve-tag': matches(/^[a-z0-9_][a-z0-9_\-+.]*$/i, () => 'invalid characters in tag'),
  'pve-startup-order': when(startupOrderOk, () => 'unable to parse startup options'),
  'pve-task-status-type': matches(/^(ok|error|warning|unknown)$/i, (v) => `invalid status '${v}'`),
  'pve-userid': verifyUsername,
  'pve-realm': matches(new RegExp(`^${REALM_RE}$`), (v) => `value '${v}' does not look like a valid realm`),
  'pve-tokenid': when(
    (v) => TOKEN_FULL.test(v),
    (v) => `value '${v}' does not look like a valid token ID`,
  ),
  'pve-groupid': matches(/^[A-Za-z0-9.\-_]+$/, (v) => `group name '${v}' contains invalid characters`),
  'pve-roleid': matches(/^[A-Za-z0-9.\-_]+$/, (v) => `role name '${v}' contains invalid characters`),
  'pve-poolid': matches(/^[A-Za-z0-9.\-_]+$/, (v) => `pool name '${v}' contains invalid characters`),
  // PVE::Storage::parse_volume_id
  'pve-volume-id': matches(/^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i, (v) => `unable to parse volume ID '${v}'`),
  'pve-volume-id-or-qm-path': when(
    (v) => perl(/^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i).test(v) || v.startsWith('/'),
    (v) => `unable to parse volume ID '${v}'`,
  ),
  'pve-volume-id-or-absolute-path': when(
    (v) => perl(/^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i).test(v) || v.startsWith('/'),
    (v) => `unable to parse volume ID '${v}'`,
  ),
  'pve-lxc-mp-string': lxcMountPath,
  'pve-lxc-dev-string': lxcMountPath,
  'pve-ct-timezone': when(timezoneOk, (v) => `invalid time zone '${v}'`),
  'lxc-ip-with-ll-iface': when(
    (v) => {
      const linkLocal = /^(fe80:[^%]+)%(.+)$/i.exec(v);
      return linkLocal ? isIpv6(linkLocal[1]!) : isIpv4(v) || isIpv6(v);
    },
    () => 'value does not look like a valid IP address',
  ),
  'pve-storage-content': when(
    (v) => STORAGE_CONTENT.has(v),
    (v) => `invalid content type '${v}'`,
  ),
};
