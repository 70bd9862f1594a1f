/** Proximity.panel.Network: proximity-lan's settings, its DHCP leases and reservations. */
type Self = ExtThis<Ext.tab.IPanel> & {
  query(selector: string): { reload?(): Promise<void> }[];
  reload(): void;
};

Ext.define('Proximity.panel.Network', {
  extend: 'Ext.tab.Panel',
  alias: 'widget.proximityNetwork',

  initComponent(this: Self) {
    this.items = [
      { xtype: 'proximityNetworkSettings', title: gettext('Settings'), itemId: 'settings' },
      { xtype: 'proximityLeases', title: gettext('Leases'), itemId: 'leases' },
      { xtype: 'proximityReservations', title: gettext('Reservations'), itemId: 'reservations' },
    ];
    this.callParent();
  },

  reload(this: Self) {
    for (const view of this.query('[reload]') as unknown as { reload(): Promise<void> }[]) void view.reload();
  },
});

export {};
