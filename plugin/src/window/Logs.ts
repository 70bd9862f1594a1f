/** Proximity.window.Logs: an app's log tail (its log file, else the journal), reloadable. */
import type { AppView } from '../types';

type Self = ExtThis<Ext.window.IWindow> & {
  app: AppView;
  down(selector: string): Ext.IComponent & { setValue(value: string | number): void; getValue(): number };
  reload(): Promise<void>;
  setLoading(loading: boolean | string): void;
  close(): void;
};

Ext.define('Proximity.window.Logs', {
  extend: 'Ext.window.Window',
  alias: 'widget.proximityLogs',

  width: 800,
  height: 500,
  layout: 'fit',
  maximizable: true,

  initComponent(this: Self) {
    this.title = Ext.String.format(gettext('Logs of {0}'), this.app.hostname);
    this.tbar = [
      {
        xtype: 'numberfield',
        itemId: 'lines',
        fieldLabel: gettext('Lines'),
        labelWidth: 40,
        width: 130,
        value: 200,
        minValue: 1,
        maxValue: 2000,
      },
      {
        xtype: 'button',
        text: gettext('Reload'),
        iconCls: 'fa fa-refresh',
        handler: () => void this.reload(),
      },
      '->',
      { xtype: 'tbtext', itemId: 'source', html: '' },
    ];
    this.items = [
      {
        xtype: 'textarea',
        itemId: 'text',
        readOnly: true,
        fieldStyle: 'font-family: monospace; font-size: 12px',
      },
    ];
    this.buttons = [{ text: gettext('Close'), handler: () => this.close() }];
    this.callParent();
    this.on('afterrender', () => void this.reload());
  },

  async reload(this: Self) {
    this.setLoading(true);
    try {
      const lines = this.down('#lines').getValue() || 200;
      const logs = await Proximity.Api.get<{ source: string; lines: string[] }>(
        `/apps/${encodeURIComponent(this.app.hostname)}/logs?lines=${lines}`,
      );
      if (this.isDestroyed) return;
      this.down('#text').setValue(logs.lines.join('\n'));
      (this.down('#source') as unknown as { update(html: string): void }).update(
        Proximity.Utils.encode(logs.source),
      );
    } catch (error) {
      Proximity.Utils.showError(error);
    } finally {
      if (!this.isDestroyed) this.setLoading(false);
    }
  },
});

export {};
