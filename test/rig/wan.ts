/**
 * "The internet" of the rig, inside the <rig>-wan namespace: dnsmasq hands out addresses
 * to whatever sits on the node's vmbr0 (and answers DNS for a tiny zone), busybox httpd
 * serves a static page and a CGI that tells the client which address it came from, which
 * is how tests see NAT at work.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WAN } from './contracts.js';
import { INTERNET_NAMES } from './internet/policy.js';

export const WAN_INTERFACE = 'eth0';
/** A name the WAN's DNS answers, for tests of resolution through the appliance. */
export const WAN_WEB_NAME = 'www.internet.test';
export const WAN_INDEX_TEXT = 'hello from the internet';

export function wanFiles(base: string) {
  const dir = path.join(base, 'wan');
  return {
    dir,
    leaseFile: path.join(dir, 'dnsmasq.leases'),
    dnsmasqPidFile: path.join(dir, 'dnsmasq.pid'),
    webRoot: path.join(dir, 'www'),
  };
}

/** The web root: /index.html and /cgi-bin/whoami (prints the client's address). */
export function writeWebRoot(webRoot: string): void {
  mkdirSync(path.join(webRoot, 'cgi-bin'), { recursive: true });
  writeFileSync(path.join(webRoot, 'index.html'), `${WAN_INDEX_TEXT}\n`);
  const whoami = path.join(webRoot, 'cgi-bin', 'whoami');
  // busybox httpd sets REMOTE_ADDR for CGIs; a static file cannot know who asked.
  writeFileSync(whoami, '#!/bin/sh\nprintf \'Content-Type: text/plain\\r\\n\\r\\n\'\necho "$REMOTE_ADDR"\n');
  chmodSync(whoami, 0o755);
}

/** dnsmasq with our own command line only: no config file, no resolv.conf, no /etc/hosts. */
export function dnsmasqArgv(base: string): string[] {
  const files = wanFiles(base);
  const [first, last] = WAN.dhcpRange;
  return [
    '/usr/sbin/dnsmasq',
    '--keep-in-foreground',
    '--log-facility=-', // stderr, which spawnDetached sends to the log file
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    `--interface=${WAN_INTERFACE}`,
    '--bind-interfaces',
    '--user=root', // the lease file lives in the rig directory, owned by root
    '--group=root',
    `--pid-file=${files.dnsmasqPidFile}`,
    `--dhcp-leasefile=${files.leaseFile}`,
    `--dhcp-range=${first},${last},255.255.255.0,1h`,
    `--dhcp-option=option:router,${WAN.routerAddress}`,
    `--dhcp-option=option:dns-server,${WAN.routerAddress}`,
    '--dhcp-authoritative',
    '--no-ping', // otherwise dnsmasq pings each address for ~3 s before leasing it
    '--log-dhcp',
    '--local=/internet.test/',
    `--host-record=${WAN_WEB_NAME},${WAN.routerAddress}`,
    // The rig's internet (internet/): these names and nothing else; no upstream resolver.
    ...INTERNET_NAMES.map((name) => `--host-record=${name},${WAN.internetAddress}`),
    '--local=/#/', // every other name: NXDOMAIN, answered here
  ];
}

export function httpdArgv(base: string): string[] {
  return [
    '/usr/bin/busybox',
    'httpd',
    '-f', // foreground: the pid we record is the server's
    '-vv',
    '-p',
    `${WAN.routerAddress}:${WAN.httpPort}`,
    '-h',
    wanFiles(base).webRoot,
  ];
}

export interface Lease {
  expiry: number;
  mac: string;
  ip: string;
  hostname: string | undefined;
}

/** dnsmasq's lease file: `<expiry> <mac> <ip> <host|*> <client-id|*>`, rewritten in place. */
export function parseLeases(text: string): Lease[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 4 && /^\d+$/.test(fields[0]!))
    .map(([expiry, mac, ip, host]) => ({
      expiry: Number(expiry),
      mac: mac!.toLowerCase(),
      ip: ip!,
      hostname: host === '*' ? undefined : host,
    }));
}
