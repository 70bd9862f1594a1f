/** Proximity.override.NodeConfig: the Proximity entry in each node's config tree, for that node. */
Ext.define('Proximity.override.NodeConfig', {
  override: 'PVE.node.Config',

  initComponent(this: ExtThis<PveConfigPanel>) {
    this.callParent();
    Proximity.Menu.insertInto(this, this.pveSelNode?.data.node);
  },
});

export {};
