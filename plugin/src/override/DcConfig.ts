/** Proximity.override.DcConfig: the Proximity entry in the Datacenter's config tree. */
Ext.define('Proximity.override.DcConfig', {
  override: 'PVE.dc.Config',

  initComponent(this: ExtThis<PveConfigPanel>) {
    this.callParent();
    Proximity.Menu.insertInto(this);
  },
});

export {};
