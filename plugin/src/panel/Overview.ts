/**
 * Proximity.panel.Overview: the infrastructure at a glance (bridge, appliance, DHCP/DNS,
 * NAT, reverse proxy, package cache), app counts and recent network events, with the repair actions an
 * admin reaches for first. Repairs need Sys.Modify (PVE's own privilege for node network
 * changes) and are disabled without it.
 */
import type { AppView } from '../types';

interface Infrastructure {
  placement: string;
  health: string;
  reasons: string[];
  appliance: { vmid: number; state: string; wanAddress: string | null } | null;
  services: {
    dhcp: { running: boolean; leaseCount: number };
    nat: { present: boolean; ipForward: boolean };
    bridge: { name: string; ok: boolean; exists: boolean; up: boolean; conflict?: string };
    packageCache?: PackageCache;
  };
  fallback: { active: boolean; reason?: string };
  events: { id: number; at: string; kind: string; message: string }[];
}
interface PackageCache {
  enabled: boolean;
  available: boolean;
  running: boolean;
  maxSizeMb: number;
  sizeBytes: number | null;
  requests: { hits: number; misses: number } | null;
  hitRatio: number | null;
}
interface ProxyStatus {
  health: string;
  reasons: string[];
  running: boolean;
  version?: string;
  routes: number;
  inSync?: boolean;
}

type Row = { component: string; health: string; detail: string };
type Self = ExtThis<Ext.panel.IPanel> & {
  down(selector: string): { getStore(): ExtStore & { loadData(rows: object[]): void } } & Ext.IComponent;
  reload(): Promise<void>;
  repair(path: string, confirm: string, body?: object, done?: (data: unknown) => void): void;
  setLoading(loading: boolean | string): void;
};

const ok = (good: boolean) => (good ? 'healthy' : 'down');

function rows(infra: Infrastructure, proxy: ProxyStatus): Row[] {
  const { bridge, dhcp, nat } = infra.services;
  const list: Row[] = [
    {
      component: gettext('Bridge'),
      health: ok(bridge.ok),
      detail: bridge.conflict ?? `${bridge.name} ${bridge.exists ? (bridge.up ? 'up' : 'down') : 'missing'}`,
    },
  ];
  if (infra.appliance)
    list.push({
      component: gettext('Appliance'),
      health: infra.appliance.state === 'running' ? 'healthy' : 'down',
      detail: `CT ${infra.appliance.vmid} ${infra.appliance.state}${infra.appliance.wanAddress ? `, uplink ${infra.appliance.wanAddress}` : ''}`,
    });
  list.push(
    {
      component: gettext('DHCP and DNS'),
      health: ok(dhcp.running),
      detail: `dnsmasq ${dhcp.running ? 'running' : 'stopped'}, ${dhcp.leaseCount} lease(s)`,
    },
    {
      component: gettext('Internet (NAT)'),
      health: ok(nat.present && nat.ipForward),
      detail: nat.present ? (nat.ipForward ? 'masquerade active' : 'IP forwarding off') : 'rules missing',
    },
    {
      component: gettext('Reverse proxy'),
      health: proxy.health,
      detail: proxy.running
        ? `Caddy ${proxy.version ?? ''}, ${proxy.routes} route(s)${proxy.reasons.length ? `: ${proxy.reasons.join('; ')}` : ''}`
        : proxy.reasons.join('; '),
    },
  );
  const cache = infra.services.packageCache;
  if (cache?.available) list.push(packageCacheRow(cache));
  return list;
}

/** Size against its limit and the share of bytes served from the cache (network settings turn it off). */
function packageCacheRow(cache: PackageCache): Row {
  const component = gettext('Package cache');
  if (!cache.enabled)
    return { component, health: 'off', detail: gettext('turned off in the network settings') };
  const size =
    cache.sizeBytes === null ? '' : `${Proximity.Utils.bytes(cache.sizeBytes)} of ${cache.maxSizeMb} MiB`;
  const ratio =
    cache.hitRatio === null || !cache.requests
      ? gettext('no downloads yet')
      : `${Math.round(cache.hitRatio * 100)}% from cache (${cache.requests.hits} hits, ${cache.requests.misses} misses)`;
  return {
    component,
    health: ok(cache.running),
    detail: cache.running ? `apt-cacher-ng, ${size}, ${ratio}` : gettext('apt-cacher-ng not running'),
  };
}

Ext.define('Proximity.panel.Overview', {
  extend: 'Ext.panel.Panel',
  alias: 'widget.proximityOverview',

  layout: { type: 'vbox', align: 'stretch' },
  bodyPadding: 10,
  scrollable: true,

  initComponent(this: Self) {
    const canModify = Proximity.Utils.hasCap('nodes', 'Sys.Modify');
    const button = (itemId: string, text: string, iconCls: string, handler: () => void) => ({
      xtype: 'button',
      itemId,
      text,
      iconCls,
      disabled: !canModify,
      tooltip: canModify ? undefined : gettext('Needs Sys.Modify on /'),
      handler,
    });
    this.tbar = [
      button('initialize', gettext('Initialize network'), 'fa fa-play', () =>
        this.repair(
          '/system/network/initialize',
          gettext('Create proximity-lan and its network services now?'),
        ),
      ),
      button('restartAppliance', gettext('Restart appliance'), 'fa fa-refresh', () =>
        this.repair(
          '/system/infrastructure/appliance/restart',
          gettext('Restart the network appliance? Apps lose DNS, DHCP and the proxy for a few seconds.'),
        ),
      ),
      button('rebuildBridge', gettext('Rebuild bridge'), 'fa fa-wrench', () =>
        this.repair(
          '/system/network/rebuild-bridge',
          gettext('Rewrite and re-apply the proximity-lan bridge?'),
        ),
      ),
      button('testNat', gettext('Test NAT'), 'fa fa-globe', () => {
        Ext.Msg.prompt(
          gettext('Test NAT'),
          gettext('Reach this address or name from the LAN:'),
          (choice: string, target: string) => {
            if (choice === 'ok' && target)
              this.repair('/system/infrastructure/test-nat', '', { target: target.trim() }, (result) =>
                Ext.Msg.alert(gettext('Test NAT'), Proximity.Utils.encode(JSON.stringify(result))),
              );
          },
        );
      }),
      '->',
      { xtype: 'tbtext', itemId: 'health', html: '' },
    ];
    this.items = [
      {
        xtype: 'grid',
        itemId: 'components',
        cls: 'proximity-infrastructure',
        title: gettext('Infrastructure'),
        disableSelection: true,
        store: { fields: ['component', 'health', 'detail'], data: [] },
        columns: [
          { text: gettext('Component'), dataIndex: 'component', width: 160 },
          {
            text: gettext('Status'),
            dataIndex: 'health',
            width: 120,
            renderer: Proximity.Utils.healthRenderer,
          },
          { text: gettext('Details'), dataIndex: 'detail', flex: 1, renderer: Proximity.Utils.encode },
        ],
      },
      {
        xtype: 'grid',
        itemId: 'counts',
        title: gettext('Apps'),
        margin: '10 0 0 0',
        disableSelection: true,
        hideHeaders: true,
        store: { fields: ['label', 'value'], data: [] },
        columns: [
          { dataIndex: 'label', width: 160, renderer: Proximity.Utils.encode },
          { dataIndex: 'value', flex: 1 },
        ],
      },
      {
        xtype: 'grid',
        itemId: 'events',
        title: gettext('Recent events'),
        margin: '10 0 0 0',
        minHeight: 200,
        flex: 1,
        store: {
          fields: ['id', 'at', 'kind', 'message'],
          data: [],
          sorters: [{ property: 'id', direction: 'DESC' }],
        },
        columns: [
          { text: gettext('Time'), dataIndex: 'at', width: 160, renderer: Proximity.Utils.time },
          { text: gettext('Kind'), dataIndex: 'kind', width: 140, renderer: Proximity.Utils.encode },
          { text: gettext('Message'), dataIndex: 'message', flex: 1, renderer: Proximity.Utils.encode },
        ],
      },
    ];
    this.callParent();
    Proximity.Utils.poll(this, 5000, () => this.reload());
  },

  async reload(this: Self) {
    const [infra, proxy, apps] = await Promise.all([
      Proximity.Api.get<Infrastructure>('/system/infrastructure/status'),
      Proximity.Api.get<ProxyStatus>('/system/proxy/status'),
      Proximity.Api.get<AppView[]>('/apps').catch(() => [] as AppView[]),
    ]);
    if (this.isDestroyed) return;
    this.down('#components').getStore().loadData(rows(infra, proxy));
    const count = (status: string) => apps.filter((app) => app.status === status).length;
    this.down('#counts')
      .getStore()
      .loadData([
        { label: gettext('Total'), value: apps.length },
        { label: gettext('Running'), value: count('running') },
        { label: gettext('Stopped'), value: count('stopped') },
        { label: gettext('Need attention'), value: apps.length - count('running') - count('stopped') },
      ]);
    this.down('#events').getStore().loadData(infra.events);
    const summary = infra.fallback.active
      ? `${gettext('Fallback: apps go on the uplink')} (${infra.fallback.reason ?? ''})`
      : infra.reasons.join('; ');
    (this.down('#health') as unknown as { update(html: string): void }).update(
      `${Proximity.Utils.healthRenderer(infra.health)} ${Proximity.Utils.encode(summary)}`,
    );
  },

  /** POSTs a repair (after `question`, if any), shows `done` its answer, then reloads. */
  repair(this: Self, path: string, question: string, body?: object, done?: (data: unknown) => void) {
    const run = async () => {
      this.setLoading(true);
      try {
        const answer = await Proximity.Api.request('POST', path, body ?? {});
        done?.(answer.data);
        await this.reload();
      } catch (error) {
        Proximity.Utils.showError(error);
      } finally {
        if (!this.isDestroyed) this.setLoading(false);
      }
    };
    if (!question) {
      void run();
      return;
    }
    Ext.Msg.confirm(gettext('Confirm'), question, (choice: string) => {
      if (choice === 'yes') void run();
    });
  },
});

export {};
