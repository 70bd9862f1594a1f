/**
 * Proximity.panel.Placeholder: the first class of the plugin, proving the pipeline
 * (TypeScript -> webpack -> proximity.js -> Ext.define in pve-manager's page) end to end.
 * The real views replace it once the tab is registered.
 */
type Placeholder = ExtThis<Ext.panel.IPanel>;

Ext.define('Proximity.panel.Placeholder', {
  extend: 'Ext.panel.Panel',
  alias: 'widget.proximityPlaceholder',

  border: false,
  bodyPadding: 10,

  initComponent(this: Placeholder) {
    this.html = Ext.String.format('Proximity {0}', Ext.String.htmlEncode(PROXIMITY_VERSION));
    this.callParent();
  },
});

export {};
