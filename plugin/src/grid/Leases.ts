/** Proximity.grid.Leases: what dnsmasq handed out on proximity-lan, refreshed in place. */
type Self = ExtThis<Ext.grid.IPanel> & { getStore(): ExtStore; reload(): Promise<void> };

Ext.define('Proximity.grid.Leases', {
  extend: 'Ext.grid.Panel',
  alias: 'widget.proximityLeases',

  emptyText: gettext('No leases'),
  viewConfig: { deferEmptyText: false, markDirty: false },

  initComponent(this: Self) {
    const utils = Proximity.Utils;
    this.store = Proximity.Utils.store({
      fields: ['mac', 'ip', 'hostname', 'expiresAt', 'firstSeen', 'lastSeen', 'reserved'],
      idProperty: 'mac',
      sorters: [{ property: 'ip', direction: 'ASC' }],
    });
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
    utils.poll(this, 5000, () => this.reload());
  },

  async reload(this: Self) {
    const leases = await Proximity.Api.get<object[]>('/network/leases');
    if (!this.isDestroyed) Proximity.Utils.mergeInto(this.getStore(), leases);
  },
});

export {};
