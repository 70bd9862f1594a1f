/** Proximity.panel.Tasks: deploys, deletes and other long jobs; double-click opens the task viewer. */
import type { Task } from '../types';

type Self = ExtThis<Ext.grid.IPanel> & {
  getStore(): ExtStore;
  getSelection(): { data: Task }[];
  reload(): Promise<void>;
};

Ext.define('Proximity.panel.Tasks', {
  extend: 'Proximity.grid.Live',
  alias: 'widget.proximityTasks',

  url: '/tasks?limit=200',
  fields: ['id', 'kind', 'target', 'state', 'actor', 'error', 'createdAt', 'updatedAt', 'percent'],
  idProperty: 'id',
  sorters: [{ property: 'createdAt', direction: 'DESC' }],

  emptyText: gettext('No tasks'),

  initComponent(this: Self) {
    const utils = Proximity.Utils;
    const open = () => {
      const task = this.getSelection()[0]?.data;
      if (task)
        Ext.create({
          xtype: 'proximityTaskProgress',
          taskId: task.id,
          title: `${task.kind} ${task.target ?? ''}`,
        }).show();
    };
    this.tbar = [{ text: gettext('View'), iconCls: 'fa fa-eye', handler: open }];
    this.columns = [
      { text: gettext('Start Time'), dataIndex: 'createdAt', width: 160, renderer: utils.time },
      { text: gettext('End Time'), dataIndex: 'updatedAt', width: 160, renderer: utils.time },
      { text: gettext('Description'), dataIndex: 'kind', width: 120, renderer: utils.encode },
      { text: gettext('Target'), dataIndex: 'target', width: 140, renderer: utils.encode },
      { text: gettext('User name'), dataIndex: 'actor', width: 140, renderer: utils.encode },
      {
        text: gettext('Status'),
        dataIndex: 'state',
        flex: 1,
        renderer: (state: string, _meta: unknown, record: { data: Task }) =>
          state === 'failed'
            ? `${utils.statusRenderer('failed')}: ${utils.encode(record.data.error)}`
            : utils.statusRenderer(state),
      },
    ];
    this.callParent();
    this.on('itemdblclick', open);
  },
});

export {};
