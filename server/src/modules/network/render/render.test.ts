import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fieldErrors } from '../../../core/http/validate.js';
import { defaultNetworkSettings, networkSettingsSchema } from '../settings.js';
import {
  renderDnsmasqConf,
  renderHostsFile,
  renderRecordsFile,
  renderReservations,
  type DnsmasqPlacement,
} from './dnsmasq.js';
import { renderNatRuleset, renderPortMapUpdate, withoutElements } from './nftables.js';
import { renderBridgeStanza } from './bridge.js';
import { APPLIANCE_BASE, sitePaths } from '../site/site.js';

const goldenDir = path.join(import.meta.dirname, 'golden');

/** Compares with the golden file; `UPDATE_GOLDEN=1 npm run test:unit` rewrites them after a reviewed change. */
function assertGolden(name: string, actual: string): void {
  const file = path.join(goldenDir, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from its golden file`);
}

// The paths each site really uses: the golden files show what lands on disk.
const appliance: DnsmasqPlacement = sitePaths(APPLIANCE_BASE, 'eth1');
const host: DnsmasqPlacement = sitePaths('/var/lib/proximity/dns', 'proximity-lan');

describe('network renderers', () => {
  it('renders dnsmasq.conf for both placements from one renderer', () => {
    assertGolden('dnsmasq.appliance.conf', renderDnsmasqConf(defaultNetworkSettings, appliance));
    assertGolden('dnsmasq.host.conf', renderDnsmasqConf(defaultNetworkSettings, host));
  });

  it('renders reservations and names sorted, whatever the input order', () => {
    const reservations = [
      { mac: 'BC:24:11:00:00:02', ip: '10.20.0.6', hostname: 'db' },
      { mac: 'bc:24:11:00:00:01', ip: '10.20.0.5', hostname: 'wiki' },
    ];
    assertGolden('reservations', renderReservations(reservations));
    assert.equal(renderReservations([...reservations].reverse()), renderReservations(reservations));
    const names = [
      { hostname: 'wiki', ip: '10.20.0.101' },
      { hostname: 'blog', ip: '10.20.0.102' },
    ];
    assertGolden('hosts', renderHostsFile(names, 'prox.local'));
  });

  it('renders the NAT ruleset as one atomic replacement of our table only', () => {
    const appliance = renderNatRuleset(defaultNetworkSettings, {
      lanInterface: 'eth1',
      wanInterface: 'eth0',
    });
    assertGolden('nat.appliance.nft', appliance);
    assert.match(appliance, /^table inet proximity \{\}\ndelete table inet proximity\n/m);
    assert.doesNotMatch(appliance, /table (ip|inet) (filter|nat)\b/);
  });

  it("maps the proxy's port-80 dials to each app's real port, one port per address", () => {
    const ruleset = renderNatRuleset(defaultNetworkSettings, { lanInterface: 'eth1', wanInterface: 'eth0' }, [
      { ip: '10.20.0.102', port: 3000 },
      { ip: '10.20.0.101', port: 8080 },
      { ip: '10.20.0.103', port: 80 },
    ]);
    assertGolden('nat.ports.nft', ruleset);
    assert.match(
      ruleset,
      /elements = \{ 10\.20\.0\.101 : 10\.20\.0\.101 \. 8080, 10\.20\.0\.102 : 10\.20\.0\.102 \. 3000 \}/,
    );
    assert.throws(() =>
      renderNatRuleset(defaultNetworkSettings, { lanInterface: 'eth1', wanInterface: 'eth0' }, [
        { ip: '10.20.0.1; flush ruleset', port: 1 },
      ]),
    );
  });

  it('updates only the port map when only the ports change (the table, and NAT state, stay)', () => {
    const placement = { lanInterface: 'eth1', wanInterface: 'eth0' };
    const one = renderNatRuleset(defaultNetworkSettings, placement, [{ ip: '10.20.0.101', port: 8080 }]);
    const two = renderNatRuleset(defaultNetworkSettings, placement, [
      { ip: '10.20.0.101', port: 8080 },
      { ip: '10.20.0.102', port: 3000 },
    ]);
    assert.notEqual(one, two);
    assert.equal(withoutElements(one), withoutElements(two));
    assert.equal(withoutElements(one), renderNatRuleset(defaultNetworkSettings, placement));
    assert.notEqual(
      withoutElements(one),
      withoutElements(renderNatRuleset(defaultNetworkSettings, { ...placement, wanInterface: 'eth9' })),
    );
    assert.equal(
      renderPortMapUpdate([
        { ip: '10.20.0.102', port: 3000 },
        { ip: '10.20.0.101', port: 8080 },
      ]),
      'flush map inet proximity upstream_ports\nadd element inet proximity upstream_ports { 10.20.0.101 : 10.20.0.101 . 8080, 10.20.0.102 : 10.20.0.102 . 3000 }\n',
    );
    assert.equal(renderPortMapUpdate([]), 'flush map inet proximity upstream_ports\n');
  });

  it('renders full names of other modules, refusing anything that is not a DNS name', () => {
    const records = [
      { name: 'wiki.upstream.prox.local', ip: '10.20.0.101' },
      { name: 'wiki.prox.local', ip: '10.20.0.1' },
    ];
    assertGolden('records', renderRecordsFile(records));
    assert.throws(() => renderRecordsFile([{ name: 'evil\naddress=/x/1.2.3.4', ip: '10.20.0.1' }]));
    assert.throws(() => renderRecordsFile([{ name: 'a..b', ip: '10.20.0.1' }]));
  });

  it('renders the bridge stanza with the gateway on the node only for the host placement', () => {
    const appliance = renderBridgeStanza(defaultNetworkSettings);
    const host = renderBridgeStanza({ ...defaultNetworkSettings, placement: 'host' });
    assertGolden('proximity-lan.appliance', appliance);
    assertGolden('proximity-lan.host', host);
    assert.doesNotMatch(appliance, /^\taddress/m);
    assert.match(appliance, /^\thwaddress 66:82:ff:cb:45:32$/m, 'a fixed, locally administered MAC');
    assert.match(host, /^\taddress 10\.20\.0\.1\/24$/m);
  });

  it('never writes an invalid name, MAC or address into a file', () => {
    const bad = [
      { mac: 'bc:24:11:00:00:01', ip: '10.20.0.5', hostname: 'wiki\naddress=/evil/6.6.6.6' },
      { mac: 'bc:24:11:00:00:01', ip: '10.20.0.5', hostname: 'a;b' },
      { mac: 'bc:24:11:00:00:01', ip: '10.20.0.5', hostname: 'x'.repeat(64) },
      { mac: 'bc:24:11:00:00:01', ip: '10.20.0.5', hostname: 'café' },
      { mac: 'bc:24:11:00:00:01', ip: '10.20.0.5', hostname: 'with space' },
      { mac: 'zz:24:11:00:00:01', ip: '10.20.0.5', hostname: 'ok' },
      { mac: '01:24:11:00:00:01', ip: '10.20.0.5', hostname: 'multicast' },
      { mac: 'bc:24:11:00:00:01', ip: '10.20.0.256', hostname: 'ok' },
    ];
    for (const reservation of bad) {
      assert.throws(() => renderReservations([reservation]), `accepted ${JSON.stringify(reservation)}`);
    }
    assert.throws(() => renderHostsFile([{ hostname: 'ok', ip: '1.2.3' }], 'prox.local'));
  });
});

describe('network settings', () => {
  it('defaults to the seeds: 10.20.0.0/24, gateway .1, statics .2–.99, pool .100–.250, 12 h, prox.local', () => {
    assert.deepEqual(defaultNetworkSettings, {
      placement: 'appliance',
      bridge: 'proximity-lan',
      subnet: { network: '10.20.0.0', prefix: 24 },
      gateway: '10.20.0.1',
      statics: { start: '10.20.0.2', end: '10.20.0.99' },
      pool: { start: '10.20.0.100', end: '10.20.0.250' },
      leaseSeconds: 43200,
      domain: 'prox.local',
      upstreamDns: ['1.1.1.1', '9.9.9.9'],
      packageCache: { enabled: true, maxSizeMb: 1024 },
    });
  });

  function refused(input: unknown): Record<string, string> {
    const result = networkSettingsSchema.safeParse(input);
    assert.equal(result.success, false, `accepted ${JSON.stringify(input)}`);
    return fieldErrors(result.error!);
  }

  it('names the field of each inconsistency', () => {
    assert.ok('gateway' in refused({ gateway: '10.30.0.1' }));
    assert.ok(
      'pool' in refused({ pool: { start: '10.20.0.50', end: '10.20.0.200' } }),
      'pool overlapping statics',
    );
    assert.ok(
      'pool.end' in refused({ pool: { start: '10.20.0.200', end: '10.20.1.10' } }),
      'pool outside the subnet',
    );
    assert.ok(
      'pool.end' in refused({ pool: { start: '10.20.0.200', end: '10.20.0.150' } }),
      'reversed range',
    );
    assert.ok(
      'statics' in refused({ statics: { start: '10.20.0.1', end: '10.20.0.99' } }),
      'statics holding the gateway',
    );
    assert.ok('subnet' in refused({ subnet: '10.20.0.5/24' }));
    assert.ok('domain' in refused({ domain: 'Prox Local' }));
    assert.ok('upstreamDns.0' in refused({ upstreamDns: ['dns.example'] }));
    assert.ok('bridge' in refused({ bridge: 'br;rm -rf' }));
  });
});
