import { renameSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { writeFileIfChanged, readIfExists } from '../../core/fs/atomic.js';
import { runChecked } from '../pve/executor/executor.js';
import {
  renderDnsmasqConf,
  renderHostsFile,
  renderRecordsFile,
  renderReservations,
  type DnsRecord,
} from './render/dnsmasq.js';
import type { NameRow, ReservationRow } from './repository.js';
import type { NetworkSettings } from './settings.js';
import { leaseOf } from './leases.js';
import { isLiveProcess, logTail, pidFromFile } from './site/process.js';
import type { ServiceSite } from './site/site.js';

/** What dnsmasq should serve. */
export interface DnsDesired {
  settings: NetworkSettings;
  reservations: readonly ReservationRow[];
  names: readonly NameRow[];
  /** Full names other modules need (the proxy's app and upstream names). */
  records: readonly DnsRecord[];
}

/** What a call changed; the reconciler turns these into events. */
export interface DnsChange {
  kind: 'config' | 'reservations' | 'names' | 'started' | 'restarted' | 'reloaded';
  message: string;
}

const HOSTS_RESERVATIONS = 'reservations';
const HOSTS_NAMES = 'names';
const HOSTS_RECORDS = 'records';
const STOP_WAIT_MS = 5000;
const MAX_LOG_BYTES = 4 * 1024 * 1024;

/**
 * dnsmasq on a site. The conf file holds what changes only with the network settings:
 * rewriting it means a restart. Reservations (dhcp-hostsfile) are re-read on SIGHUP;
 * names live in a hostsdir that dnsmasq watches with inotify: adding a name restarts nothing.
 */
export class DnsService {
  constructor(private readonly site: ServiceSite) {}

  private get paths() {
    return this.site.paths;
  }

  /**
   * Ends the lease of a NIC that is gone, with dnsmasq's `dhcp_release` (dnsmasq-utils): its
   * name leaves DNS now rather than at the lease's expiry (a container's hostname is in DNS
   * for as long as its lease), and its address returns to the pool. Returns the address
   * released, or undefined when the MAC holds no lease.
   */
  async release(mac: string): Promise<string | undefined> {
    const text = this.leaseFileText();
    const lease = text === undefined ? undefined : leaseOf(text, mac);
    if (!lease) return undefined;
    const argv = ['dhcp_release', this.paths.lanInterface, lease.ip, lease.mac];
    await runChecked(this.site, lease.clientId ? [...argv, lease.clientId] : argv);
    return lease.ip;
  }

  /**
   * Writes what differs and makes dnsmasq serve it with the least disruption: nothing
   * (same files), inotify (names), SIGHUP (reservations) or a restart (conf).
   */
  async apply(desired: DnsDesired): Promise<DnsChange[]> {
    const changes: DnsChange[] = [];
    const { settings } = desired;
    const reservationHosts = desired.reservations.map((r) => ({ hostname: r.hostname, ip: r.ip }));
    // Names before the conf: a dnsmasq started below reads them at once.
    if (
      this.write(path.join(this.paths.hostsDir, HOSTS_NAMES), renderHostsFile(desired.names, settings.domain))
    )
      changes.push({ kind: 'names', message: `DNS names written (${desired.names.length})` });
    if (this.write(path.join(this.paths.hostsDir, HOSTS_RECORDS), renderRecordsFile(desired.records)))
      changes.push({ kind: 'names', message: `proxy names written (${desired.records.length})` });
    // Both files, always: `a || b` would skip the second write when the first changed.
    const dhcpHostsChanged = this.write(
      this.paths.reservationsFile,
      renderReservations(desired.reservations),
    );
    const reservedNamesChanged = this.write(
      path.join(this.paths.hostsDir, HOSTS_RESERVATIONS),
      renderHostsFile(reservationHosts, settings.domain),
    );
    const reservationsChanged = dhcpHostsChanged || reservedNamesChanged;
    if (reservationsChanged)
      changes.push({
        kind: 'reservations',
        message: `reservations written (${desired.reservations.length})`,
      });

    const conf = renderDnsmasqConf(settings, this.paths);
    const confChanged = this.write(this.paths.conf, conf);
    if (confChanged) changes.push({ kind: 'config', message: `${this.paths.conf} written` });

    const pid = await this.pid();
    if (pid === undefined) {
      await this.start();
      changes.push({
        kind: 'started',
        message: `dnsmasq was not running on ${this.site.description}: started`,
      });
    } else if (confChanged) {
      await this.stop(pid);
      await this.start();
      changes.push({
        kind: 'restarted',
        message: `dnsmasq restarted on ${this.site.description} (settings changed)`,
      });
    } else if (reservationsChanged) {
      await this.site.run(['kill', '-HUP', String(pid)]);
      changes.push({ kind: 'reloaded', message: 'dnsmasq re-read the reservations (SIGHUP)' });
    }
    return changes;
  }

  /** The running dnsmasq's pid (as the site sees it), from its pid file, checked against /proc. */
  async pid(): Promise<number | undefined> {
    return pidFromFile(this.site, this.paths.pidFile, 'dnsmasq');
  }

  async stop(pid?: number): Promise<void> {
    const running = pid ?? (await this.pid());
    if (running === undefined) return;
    await this.site.run(['kill', '-TERM', String(running)]);
    // Wait for the process, not its pid file: dnsmasq removes the file before it has let
    // go of port 53, and a successor started then cannot bind.
    const deadline = Date.now() + STOP_WAIT_MS;
    while (Date.now() < deadline && isLiveProcess(this.site, running, 'dnsmasq')) await sleep(50);
    if (isLiveProcess(this.site, running, 'dnsmasq')) {
      await this.site.run(['kill', '-KILL', String(running)]);
      while (isLiveProcess(this.site, running, 'dnsmasq')) await sleep(50);
    }
  }

  /** The last `lines` lines of dnsmasq's log, at most 256 KiB read. */
  logTail(lines: number): string[] {
    return logTail(this.site, this.paths.logFile, lines);
  }

  /** undefined when it cannot be read (no lease yet, or the appliance is restarting). */
  leaseFileText(): string | undefined {
    try {
      return readIfExists(this.site.local(this.paths.leaseFile));
    } catch {
      return undefined;
    }
  }

  private async start(): Promise<void> {
    const conf = `--conf-file=${this.paths.conf}`;
    // dnsmasq checks little, but a conf it refuses must fail here, with its message.
    await runChecked(this.site, ['dnsmasq', '--test', conf]);
    rotateLog(this.site.local(this.paths.logFile));
    // It daemonizes and writes its pid file before the parent exits.
    await runChecked(this.site, ['dnsmasq', conf]);
  }

  private write(sitePath: string, content: string): boolean {
    return writeFileIfChanged(this.site.local(sitePath), content);
  }
}

/** dnsmasq appends to its log forever; one old generation is kept, rotated at start. */
function rotateLog(file: string): void {
  try {
    if (statSync(file).size > MAX_LOG_BYTES) renameSync(file, `${file}.1`);
  } catch {
    // No log yet.
  }
}
