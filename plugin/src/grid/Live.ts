/**
 * Proximity.grid.Live: a grid of what one API list answers, refreshed in place every
 * `refreshMs` while it is shown (as PVE's grids refresh from their update stores). Subclasses
 * set `url`, the records' `fields`, `idProperty` and `sorters`; `rows()` may narrow the list.
 */
type Self = ExtThis<Ext.grid.IPanel> & {
  url: string;
  refreshMs: number;
  fields: unknown[];
  idProperty: string;
  sorters?: object[];
  rows(list: object[]): object[];
  getStore(): ExtStore;
  reload(): Promise<void>;
};

Ext.define('Proximity.grid.Live', {
  extend: 'Ext.grid.Panel',

  viewConfig: { deferEmptyText: false, markDirty: false },
  refreshMs: 5000,

  rows(list: object[]): object[] {
    return list;
  },

  initComponent(this: Self) {
    this.store = Proximity.Utils.store({
      fields: this.fields,
      idProperty: this.idProperty,
      sorters: this.sorters,
    });
    this.callParent();
    Proximity.Utils.poll(this, this.refreshMs, () => this.reload());
  },

  async reload(this: Self) {
    const list = await Proximity.Api.get<object[]>(this.url);
    if (!this.isDestroyed) Proximity.Utils.mergeInto(this.getStore(), this.rows(list));
  },
});

export {};
