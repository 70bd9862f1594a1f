/**
 * Proximity.panel.Apps: the deployed apps, refreshed in place every few seconds (records are
 * updated, not replaced, so nothing flickers and the selection stays). Each action is enabled
 * only when the user holds its PVE privilege on the app's container, as the API reports it.
 */
import type { AppView } from '../types';

type AppRecord = { data: AppView; set(values: object, options?: object): void };
type Grid = Omit<ExtThis<Ext.grid.IPanel>, 'getStore' | 'getSelection' | 'down' | 'query'> & {
  nodename?: string;
  getStore(): ExtStore;
  getSelection(): AppRecord[];
  down(selector: string): Ext.IComponent & { setDisabled(disabled: boolean): void };
  query(
    selector: string,
  ): (Ext.IComponent & { setDisabled(disabled: boolean): void; needs?: (app: AppView) => boolean })[];
  reload(): Promise<void>;
  selected(): AppView | undefined;
  updateButtons(): void;
  power(action: 'start' | 'stop' | 'restart'): Promise<void>;
  remove(): void;
  setLoading(loading: boolean | string): void;
};

const busy = (app: AppView) => ['deploying', 'deleting'].includes(app.status);

Ext.define('Proximity.panel.Apps', {
  extend: 'Proximity.grid.Live',
  alias: 'widget.proximityApps',

  url: '/apps',
  refreshMs: 3000,
  fields: [
    'hostname',
    'name',
    'status',
    'url',
    'kind',
    'address',
    'catalogId',
    'icon',
    'ip',
    'node',
    'vmid',
    'health',
    {
      name: 'healthText',
      depends: ['health'],
      calculate: (app: AppView) => (app.health ? (app.health.healthy ? 'healthy' : 'down') : ''),
    },
    'cpu',
    'memory',
    'uptime',
    'allowed',
    'port',
    'taskId',
  ],
  idProperty: 'hostname',
  sorters: [{ property: 'hostname', direction: 'ASC' }],

  emptyText: gettext('No apps yet: deploy one from the Catalog.'),

  /** In a node's tree: that node's apps. */
  rows(this: Grid, apps: AppView[]): AppView[] {
    return this.nodename ? apps.filter((app) => app.node === this.nodename) : apps;
  },

  initComponent(this: Grid) {
    const action = (
      itemId: string,
      text: string,
      iconCls: string,
      needs: (app: AppView) => boolean,
      handler: () => void,
    ) => ({
      xtype: 'button',
      itemId,
      text,
      iconCls,
      disabled: true,
      needs,
      handler,
    });
    this.tbar = [
      action(
        'start',
        gettext('Start'),
        'fa fa-play',
        (app) => app.allowed.power && app.status === 'stopped',
        () => void this.power('start'),
      ),
      action(
        'stop',
        gettext('Shutdown'),
        'fa fa-power-off',
        (app) => app.allowed.power && ['running', 'unreachable'].includes(app.status),
        () => void this.power('stop'),
      ),
      action(
        'restart',
        gettext('Reboot'),
        'fa fa-undo',
        (app) => app.allowed.power && ['running', 'unreachable'].includes(app.status),
        () => void this.power('restart'),
      ),
      '-',
      action(
        'logs',
        gettext('Logs'),
        'fa fa-file-text-o',
        (app) => app.vmid !== null,
        () => Ext.create({ xtype: 'proximityLogs', app: this.selected() }).show(),
      ),
      action(
        'commands',
        gettext('Commands'),
        'fa fa-terminal',
        (app) => app.allowed.command && !busy(app),
        () => Ext.create({ xtype: 'proximityCommand', app: this.selected() }).show(),
      ),
      action(
        'resources',
        gettext('Resources'),
        'fa fa-sliders',
        (app) => app.allowed.resize && !busy(app) && app.vmid !== null,
        () =>
          Ext.create({
            xtype: 'proximityResources',
            app: this.selected(),
            listeners: { saved: () => void this.reload() },
          }).show(),
      ),
      action(
        'detail',
        gettext('Summary'),
        'fa fa-book',
        (app) => app.vmid !== null,
        () => Ext.create({ xtype: 'proximityAppDetail', app: this.selected() }).show(),
      ),
      '-',
      action(
        'remove',
        gettext('Remove'),
        'fa fa-trash-o',
        (app) => app.allowed.delete && app.status !== 'deleting',
        () => this.remove(),
      ),
    ];
    const utils = Proximity.Utils;
    this.columns = [
      {
        text: '',
        dataIndex: 'icon',
        width: 40,
        sortable: false,
        renderer: (icon: string | undefined, _meta: unknown, record: AppRecord) =>
          Proximity.AppIcon.html({
            id: record.data.catalogId ?? record.data.hostname,
            name: record.data.name,
            icon,
          }),
      },
      { text: gettext('Name'), dataIndex: 'hostname', width: 160, renderer: utils.encode },
      { text: gettext('Status'), dataIndex: 'status', width: 120, renderer: utils.statusRenderer },
      {
        text: gettext('Address'),
        dataIndex: 'url',
        flex: 1,
        minWidth: 200,
        renderer: (_url: string, _meta: unknown, record: AppRecord) => utils.addressRenderer(record.data),
      },
      { text: gettext('IP address'), dataIndex: 'ip', width: 120, renderer: utils.encode },
      { text: gettext('Node'), dataIndex: 'node', width: 100, renderer: utils.encode },
      { text: 'ID', dataIndex: 'vmid', width: 70 },
      { text: gettext('Health'), dataIndex: 'healthText', width: 100, renderer: utils.healthRenderer },
      { text: gettext('CPU usage'), dataIndex: 'cpu', width: 90, renderer: utils.percent },
      {
        text: gettext('Memory usage'),
        dataIndex: 'memory',
        width: 150,
        renderer: (memory: AppView['memory']) =>
          memory ? `${utils.bytes(memory.used)} / ${utils.bytes(memory.max)}` : '',
      },
      { text: gettext('Uptime'), dataIndex: 'uptime', width: 100, renderer: utils.duration },
    ];
    this.callParent();
    this.on('selectionchange', () => this.updateButtons());
    this.on('itemdblclick', () => {
      const app = this.selected();
      if (app?.vmid !== null && app) Ext.create({ xtype: 'proximityAppDetail', app }).show();
    });
    this.getStore().on('update', () => this.updateButtons());
    this.getStore().on('datachanged', () => this.updateButtons());
  },

  selected(this: Grid): AppView | undefined {
    return this.getSelection()[0]?.data;
  },

  updateButtons(this: Grid) {
    const app = this.selected();
    const buttons = this.query('button[needs]') as unknown as {
      setDisabled(disabled: boolean): void;
      needs(app: AppView): boolean;
    }[];
    for (const button of buttons) button.setDisabled(!app || !button.needs(app));
  },

  async power(this: Grid, action: 'start' | 'stop' | 'restart') {
    const record = this.getSelection()[0];
    if (!record) return;
    this.setLoading(true);
    try {
      const answer = await Proximity.Api.request<AppView>(
        'POST',
        `/apps/${encodeURIComponent(record.data.hostname)}/${action}`,
      );
      record.set(answer.data, { dirty: false });
    } catch (error) {
      Proximity.Utils.showError(error);
    } finally {
      if (!this.isDestroyed) this.setLoading(false);
    }
  },

  remove(this: Grid) {
    const app = this.selected();
    if (!app) return;
    const kept = app.adopted
      ? gettext('The container was adopted: it is kept, only its route and record go.')
      : gettext('Its container and all its data are destroyed.');
    Ext.Msg.confirm(
      gettext('Confirm'),
      `${Ext.String.format(gettext('Remove app {0}?'), Proximity.Utils.encode(app.hostname))} ${kept}`,
      async (choice: string) => {
        if (choice !== 'yes') return;
        try {
          const answer = await Proximity.Api.request<{ taskId: string }>(
            'DELETE',
            `/apps/${encodeURIComponent(app.hostname)}`,
          );
          Ext.create({
            xtype: 'proximityTaskProgress',
            taskId: answer.data.taskId,
            title: Ext.String.format(gettext('Remove {0}'), app.hostname),
            listeners: { destroy: () => void this.reload() },
          }).show();
          void this.reload();
        } catch (error) {
          Proximity.Utils.showError(error);
        }
      },
    );
  },
});

export {};
