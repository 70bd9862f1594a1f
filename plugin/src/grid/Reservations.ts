/**
 * Proximity.grid.Reservations: fixed addresses (and names) for MAC addresses, from the
 * static range. Adding and removing need Sys.Modify.
 */
interface Reservation {
  mac: string;
  ip: string;
  hostname: string;
}
type Self = ExtThis<Ext.grid.IPanel> & {
  getStore(): ExtStore;
  getSelection(): { data: Reservation }[];
  down(selector: string): { setDisabled(disabled: boolean): void };
  reload(): Promise<void>;
};

Ext.define('Proximity.grid.Reservations', {
  extend: 'Proximity.grid.Live',
  alias: 'widget.proximityReservations',

  url: '/network/reservations',
  refreshMs: 10000,
  fields: ['mac', 'ip', 'hostname', 'createdAt'],
  idProperty: 'mac',
  sorters: [{ property: 'ip', direction: 'ASC' }],

  emptyText: gettext('No reservations'),

  initComponent(this: Self) {
    const utils = Proximity.Utils;
    const canModify = utils.hasCap('nodes', 'Sys.Modify');
    this.tbar = [
      {
        text: gettext('Add'),
        iconCls: 'fa fa-plus',
        disabled: !canModify,
        handler: () =>
          Ext.create({
            xtype: 'proximityReservation',
            listeners: { saved: () => void this.reload() },
          }).show(),
      },
      {
        text: gettext('Remove'),
        itemId: 'remove',
        iconCls: 'fa fa-trash-o',
        disabled: true,
        handler: () => {
          const reservation = this.getSelection()[0]?.data;
          if (!reservation) return;
          Ext.Msg.confirm(
            gettext('Confirm'),
            Ext.String.format(gettext('Remove the reservation of {0}?'), utils.encode(reservation.mac)),
            async (choice: string) => {
              if (choice !== 'yes') return;
              try {
                await Proximity.Api.request(
                  'DELETE',
                  `/network/reservations/${encodeURIComponent(reservation.mac)}`,
                );
                await this.reload();
              } catch (error) {
                utils.showError(error);
              }
            },
          );
        },
      },
    ];
    this.columns = [
      { text: gettext('IP address'), dataIndex: 'ip', width: 130 },
      { text: gettext('Hostname'), dataIndex: 'hostname', flex: 1, renderer: utils.encode },
      { text: gettext('MAC address'), dataIndex: 'mac', width: 150 },
      { text: gettext('Created'), dataIndex: 'createdAt', width: 160, renderer: utils.time },
    ];
    this.callParent();
    this.on('selectionchange', () =>
      this.down('#remove').setDisabled(!canModify || this.getSelection().length === 0),
    );
  },
});

export {};
