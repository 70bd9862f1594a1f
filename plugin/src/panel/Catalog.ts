/**
 * Proximity.panel.Catalog: what can be deployed, searchable and filtered by category and
 * source, with each app's icon (drawn offline: AppIcon.ts), whether it is a web app or a TCP
 * service, and a link to its site. Deploy opens Proximity.window.Deploy; it is disabled
 * without VM.Allocate (PVE's privilege to create guests).
 */
import type { CatalogSummary } from '../types';

type Store = {
  loadData(rows: object[]): void;
  clearFilter(suppress?: boolean): void;
  filterBy(fn: (record: { data: CatalogSummary }) => boolean): void;
};
type Self = Omit<ExtThis<Ext.grid.IPanel>, 'getStore' | 'getSelection' | 'down'> & {
  nodename?: string;
  getStore(): Store;
  getSelection(): { data: CatalogSummary }[];
  down(selector: string): Ext.IComponent & {
    getValue(): string;
    setDisabled(disabled: boolean): void;
    getStore(): Store;
  };
  entries: CatalogSummary[];
  reload(): Promise<void>;
  applyFilter(): void;
  deploy(): void;
};

const ICON_SIZE = 24;

function iconRenderer(icon: string | undefined, _meta: unknown, record: { data: CatalogSummary }): string {
  // Never a remote URL: a data URI, or the letter tile (AppIcon.ts).
  return Proximity.AppIcon.html({ id: record.data.id, name: record.data.name, icon }, ICON_SIZE);
}

/** A web app, or a TCP service with the port clients connect to (no page to open). */
function kindRenderer(kind: string, _meta: unknown, record: { data: CatalogSummary }): string {
  if (kind !== 'tcp') return gettext('Web app');
  return `<i class="fa fa-plug fa-fw"></i> ${Proximity.Utils.encode(Ext.String.format(gettext('TCP service, port {0}'), record.data.port))}`;
}

/** The app's own site: a link the user may follow, never fetched by the page itself. */
function websiteRenderer(website: string | undefined): string {
  if (!website || !/^https?:/.test(website)) return '';
  const encode = Proximity.Utils.encode;
  return `<a href="${encode(website)}" target="_blank" rel="noopener noreferrer" title="${encode(website)}"><i class="fa fa-external-link"></i></a>`;
}

Ext.define('Proximity.panel.Catalog', {
  extend: 'Ext.grid.Panel',
  alias: 'widget.proximityCatalog',

  emptyText: gettext('No catalog entries match.'),
  viewConfig: { deferEmptyText: false },

  initComponent(this: Self) {
    const canDeploy = Proximity.Utils.hasCap('vms', 'VM.Allocate');
    this.entries = [];
    this.store = Proximity.Utils.store({
      fields: [
        'id',
        'name',
        'description',
        'category',
        'icon',
        'website',
        'source',
        'version',
        'installSteps',
        'kind',
        'port',
      ],
      idProperty: 'id',
      sorters: [{ property: 'name', direction: 'ASC' }],
    });
    this.tbar = [
      {
        xtype: 'button',
        itemId: 'deploy',
        text: gettext('Deploy'),
        iconCls: 'fa fa-rocket',
        disabled: true,
        tooltip: canDeploy ? undefined : gettext('Needs VM.Allocate'),
        handler: () => this.deploy(),
      },
      '->',
      {
        xtype: 'combobox',
        itemId: 'category',
        fieldLabel: gettext('Category'),
        labelWidth: 60,
        width: 240,
        editable: false,
        queryMode: 'local',
        displayField: 'text',
        valueField: 'category',
        value: '',
        store: { fields: ['category', 'text'], data: [{ category: '', text: gettext('All') }] },
        listeners: { change: () => this.applyFilter() },
      },
      {
        xtype: 'combobox',
        itemId: 'source',
        fieldLabel: gettext('Source'),
        labelWidth: 50,
        width: 220,
        editable: false,
        queryMode: 'local',
        displayField: 'text',
        valueField: 'value',
        value: '',
        store: {
          fields: ['value', 'text'],
          data: [
            { value: '', text: gettext('All') },
            { value: 'proximity', text: 'Proximity' },
            { value: 'community-scripts', text: 'Community scripts' },
          ],
        },
        listeners: { change: () => this.applyFilter() },
      },
      {
        xtype: 'textfield',
        itemId: 'search',
        emptyText: gettext('Search'),
        width: 200,
        listeners: { change: { fn: () => this.applyFilter(), buffer: 200 } },
      },
    ];
    const utils = Proximity.Utils;
    this.columns = [
      { text: '', dataIndex: 'icon', width: ICON_SIZE + 16, sortable: false, renderer: iconRenderer },
      { text: gettext('Name'), dataIndex: 'name', width: 180, renderer: utils.encode },
      { text: gettext('Category'), dataIndex: 'category', width: 150, renderer: utils.encode },
      { text: gettext('Description'), dataIndex: 'description', flex: 1, renderer: utils.encode },
      { text: gettext('Type'), dataIndex: 'kind', width: 170, renderer: kindRenderer },
      { text: gettext('Version'), dataIndex: 'version', width: 90, renderer: utils.encode },
      { text: gettext('Website'), dataIndex: 'website', width: 70, renderer: websiteRenderer },
      {
        text: gettext('Source'),
        dataIndex: 'source',
        width: 140,
        renderer: (source: string) => (source === 'proximity' ? 'Proximity' : 'Community scripts'),
      },
    ];
    this.callParent();
    this.on('selectionchange', () =>
      this.down('#deploy').setDisabled(!canDeploy || this.getSelection().length === 0),
    );
    this.on('itemdblclick', () => {
      if (canDeploy) this.deploy();
    });
    this.on('afterrender', () => void this.reload().catch((error) => utils.showError(error)));
  },

  async reload(this: Self) {
    this.entries = await Proximity.Api.get<CatalogSummary[]>('/catalog');
    if (this.isDestroyed) return;
    const categories = [...new Set(this.entries.map((entry) => entry.category))].sort();
    this.down('#category')
      .getStore()
      .loadData([
        { category: '', text: gettext('All') },
        ...categories.map((category) => ({ category, text: category })),
      ]);
    this.getStore().loadData(this.entries);
    this.applyFilter();
  },

  applyFilter(this: Self) {
    const search = (this.down('#search').getValue() ?? '').trim().toLowerCase();
    const category = this.down('#category').getValue() ?? '';
    const source = this.down('#source').getValue() ?? '';
    const store = this.getStore();
    store.clearFilter(true);
    store.filterBy(({ data }) => {
      if (category && data.category !== category) return false;
      if (source && data.source !== source) return false;
      if (!search) return true;
      return [data.name, data.description, data.id, data.category].some((text) =>
        text.toLowerCase().includes(search),
      );
    });
  },

  deploy(this: Self) {
    const entry = this.getSelection()[0]?.data;
    if (!entry) return;
    Ext.create({ xtype: 'proximityDeploy', entry, nodename: this.nodename }).show();
  },
});

export {};
