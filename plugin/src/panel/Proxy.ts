/**
 * Proximity.panel.Proxy: the reverse proxy's routes (one per app, plus the admin's own and
 * discovered containers'). Add/Edit open Proximity.window.RouteEdit; routes an app owns are
 * changed through the app (its deploy made them) and cannot be removed here.
 */
interface RouteRow {
  id: string;
  source: 'api' | 'app' | 'discovered';
  hostnames: string[];
  upstreams: { host: string; port: number }[];
  loadBalancing: { policy: string };
  tls: string;
}
type Self = ExtThis<Ext.grid.IPanel> & {
  getStore(): ExtStore;
  getSelection(): { data: RouteRow }[];
  down(selector: string): { setDisabled(disabled: boolean): void };
  reload(): Promise<void>;
  edit(route?: RouteRow): void;
};

Ext.define('Proximity.panel.Proxy', {
  extend: 'Proximity.grid.Live',
  alias: 'widget.proximityProxy',

  url: '/routes',
  refreshMs: 10000,
  fields: ['id', 'source', 'hostnames', 'upstreams', 'loadBalancing', 'tls', 'healthChecks'],
  idProperty: 'id',
  sorters: [{ property: 'id', direction: 'ASC' }],

  emptyText: gettext('No routes'),

  initComponent(this: Self) {
    const utils = Proximity.Utils;
    const canModify = utils.hasCap('nodes', 'Sys.Modify');
    this.tbar = [
      { text: gettext('Add'), iconCls: 'fa fa-plus', disabled: !canModify, handler: () => this.edit() },
      {
        text: gettext('Edit'),
        itemId: 'edit',
        iconCls: 'fa fa-pencil',
        disabled: true,
        handler: () => this.edit(this.getSelection()[0]?.data),
      },
      {
        text: gettext('Remove'),
        itemId: 'remove',
        iconCls: 'fa fa-trash-o',
        disabled: true,
        handler: () => {
          const route = this.getSelection()[0]?.data;
          if (!route) return;
          Ext.Msg.confirm(
            gettext('Confirm'),
            Ext.String.format(gettext('Remove route {0}?'), utils.encode(route.id)),
            async (choice: string) => {
              if (choice !== 'yes') return;
              try {
                await Proximity.Api.request('DELETE', `/routes/${encodeURIComponent(route.id)}`);
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
      { text: gettext('Route'), dataIndex: 'id', width: 150, renderer: utils.encode },
      {
        text: gettext('Hostnames'),
        dataIndex: 'hostnames',
        flex: 1,
        renderer: (names: string[]) => utils.encode(names.join(', ')),
      },
      {
        text: gettext('Upstreams'),
        dataIndex: 'upstreams',
        flex: 1,
        renderer: (upstreams: RouteRow['upstreams']) =>
          utils.encode(upstreams.map((u) => `${u.host}:${u.port}`).join(', ')),
      },
      {
        text: gettext('Policy'),
        dataIndex: 'loadBalancing',
        width: 120,
        renderer: (lb: RouteRow['loadBalancing']) => utils.encode(lb?.policy),
      },
      { text: 'TLS', dataIndex: 'tls', width: 80 },
      { text: gettext('Source'), dataIndex: 'source', width: 100 },
    ];
    this.callParent();
    this.on('selectionchange', () => {
      const route = this.getSelection()[0]?.data;
      this.down('#edit').setDisabled(!canModify || !route);
      this.down('#remove').setDisabled(!canModify || !route || route.source === 'app');
    });
    this.on('itemdblclick', () => {
      if (canModify) this.edit(this.getSelection()[0]?.data);
    });
  },

  edit(this: Self, route?: RouteRow) {
    Ext.create({
      xtype: 'proximityRouteEdit',
      routeId: route?.id,
      listeners: { saved: () => void this.reload() },
    }).show();
  },
});

export {};
