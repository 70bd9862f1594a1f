/** Proximity.panel.Audit: who changed what and with which result (needs Sys.Audit). */
interface Entry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  result: string;
  details: Record<string, unknown> | null;
}
type Self = ExtThis<Ext.grid.IPanel> & { getStore(): ExtStore; reload(): Promise<void> };

Ext.define('Proximity.panel.Audit', {
  extend: 'Proximity.grid.Live',
  alias: 'widget.proximityAudit',

  url: '/audit?limit=500',
  refreshMs: 10000,
  fields: ['id', 'at', 'actor', 'action', 'target', 'result', 'details'],
  idProperty: 'id',
  sorters: [{ property: 'id', direction: 'DESC' }],

  emptyText: gettext('No entries'),

  initComponent(this: Self) {
    const utils = Proximity.Utils;
    this.columns = [
      { text: gettext('Time'), dataIndex: 'at', width: 160, renderer: utils.time },
      { text: gettext('User name'), dataIndex: 'actor', width: 160, renderer: utils.encode },
      { text: gettext('Action'), dataIndex: 'action', width: 180, renderer: utils.encode },
      { text: gettext('Target'), dataIndex: 'target', width: 140, renderer: utils.encode },
      { text: gettext('Result'), dataIndex: 'result', width: 90, renderer: utils.encode },
      {
        text: gettext('Details'),
        dataIndex: 'details',
        flex: 1,
        renderer: (d: Entry['details']) => (d ? utils.encode(JSON.stringify(d)) : ''),
      },
    ];
    this.callParent();
  },
});

export {};
