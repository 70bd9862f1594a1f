/** Proximity.grid.Leases: what dnsmasq handed out on proximity-lan, refreshed in place. */
type Self = ExtThis<Ext.grid.IPanel> & { getStore(): ExtStore; reload(): Promise<void> };

Ext.define('Proximity.grid.Leases', {
  extend: 'Proximity.grid.Live',
  alias: 'widget.proximityLeases',

  url: '/network/leases',
  fields: ['mac', 'ip', 'hostname', 'expiresAt', 'firstSeen', 'lastSeen', 'reserved'],
  idProperty: 'mac',
  sorters: [{ property: 'ip', direction: 'ASC' }],

  emptyText: gettext('No leases'),

  initComponent(this: Self) {
    const utils = Proximity.Utils;
    this.columns = [
      { text: gettext('IP address'), dataIndex: 'ip', width: 130 },
      { text: gettext('Hostname'), dataIndex: 'hostname', flex: 1, renderer: utils.encode },
      { text: gettext('MAC address'), dataIndex: 'mac', width: 150 },
      {
        text: gettext('Reserved'),
        dataIndex: 'reserved',
        width: 90,
        renderer: (v: boolean) => (v ? gettext('Yes') : gettext('No')),
      },
      { text: gettext('Expires'), dataIndex: 'expiresAt', width: 160, renderer: utils.time },
      { text: gettext('Last seen'), dataIndex: 'lastSeen', width: 160, renderer: utils.time },
    ];
    this.callParent();
  },
});

export {};
