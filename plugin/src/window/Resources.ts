/**
 * Proximity.window.Resources: an app's cores and memory. Disks grow in PVE itself (Resources
 * of the container), which the API's field error says when someone tries.
 */
import type { AppView } from '../types';

type Self = ExtThis<Ext.window.IWindow> & { app: AppView; path: string; formItems: object[] };

Ext.define('Proximity.window.Resources', {
  extend: 'Proximity.window.Edit',
  alias: 'widget.proximityResources',

  method: 'PUT',

  toBody(values: Record<string, string>) {
    const change: Record<string, number> = {};
    for (const key of ['cores', 'memoryMb'])
      if (values[key] !== '' && values[key] !== undefined) change[key] = Number(values[key]);
    return change;
  },

  initComponent(this: Self) {
    this.title = Ext.String.format(gettext('Resources of {0}'), this.app.hostname);
    this.path = `/apps/${encodeURIComponent(this.app.hostname)}/resources`;
    const memoryMb = this.app.memory ? Math.round(this.app.memory.max / 1024 / 1024) : undefined;
    this.formItems = [
      {
        xtype: 'numberfield',
        name: 'cores',
        fieldLabel: gettext('Cores'),
        minValue: 1,
        maxValue: 128,
        allowDecimals: false,
      },
      {
        xtype: 'numberfield',
        name: 'memoryMb',
        fieldLabel: gettext('Memory (MiB)'),
        minValue: 16,
        step: 64,
        allowDecimals: false,
        value: memoryMb,
      },
    ];
    this.callParent();
  },
});

export {};
