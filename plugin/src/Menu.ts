/**
 * Proximity.Menu: the "Proximity" entry and its sub-entries, inserted into PVE's Datacenter
 * and Node config trees (PVE.panel.Config#insertNodes). Item ids carry our prefix so they
 * can never clash with PVE's own (insertNodes throws on a duplicate).
 */
type Entry = Record<string, unknown>;
type Self = {
  entries(node?: string): Entry[];
  insertInto(panel: PveConfigPanel, node?: string): void;
};

const ROOT = 'proximity';

Ext.define('Proximity.Menu', {
  singleton: true,

  /** Who may see the entry: whoever may see guests or the node (PVE's own read privileges). */
  visible(): boolean {
    const utils = Proximity.Utils;
    return utils.hasCap('vms', 'VM.Audit') || utils.hasCap('nodes', 'Sys.Audit');
  },

  entries(node?: string): Entry[] {
    const view = (content: string, extra: Entry = {}) => ({
      xtype: 'proximityView',
      content: { xtype: content, nodename: node, ...extra },
    });
    const sub = (itemId: string, title: string, iconCls: string, content: string) => ({
      ...view(content),
      itemId: `${ROOT}-${itemId}`,
      title,
      iconCls,
      groups: [ROOT],
    });
    return [
      {
        ...view('proximityOverview'),
        itemId: ROOT,
        title: 'Proximity',
        iconCls: 'fa fa-cubes',
        expandedOnInit: true,
      },
      sub('apps', gettext('Apps'), 'fa fa-th', 'proximityApps'),
      sub('catalog', gettext('Catalog'), 'fa fa-shopping-bag', 'proximityCatalog'),
      sub('network', gettext('Network'), 'fa fa-exchange', 'proximityNetwork'),
      sub('proxy', gettext('Proxy'), 'fa fa-random', 'proximityProxy'),
      sub('tasks', gettext('Tasks'), 'fa fa-list-alt', 'proximityTasks'),
      sub('audit', gettext('Audit log'), 'fa fa-history', 'proximityAudit'),
    ];
  },

  /**
   * Adds the entries after PVE built its own tree. PVE restores the saved tab (hstateid)
   * inside initComponent, before our entries exist, so a saved Proximity tab is selected here.
   */
  insertInto(this: Self, panel: PveConfigPanel, node?: string) {
    if (!Proximity.Menu.visible()) return;
    panel.insertNodes(this.entries(node));
    const saved = panel.hstateid ? panel.sp.get(panel.hstateid)?.value : undefined;
    if (saved && saved.startsWith(ROOT) && panel.savedItems[saved]) {
      if (panel.selectById) panel.selectById(saved);
    }
  },
});

export {};
