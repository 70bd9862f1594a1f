/**
 * Proximity.window.Command: run one of the app's safe commands (read-only commands its
 * manifest declares, run as argv inside the container) and show what it printed.
 */
import type { AppView } from '../types';

interface SafeCommand {
  name: string;
  description: string | null;
  argv: string[];
}
interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
}
type Self = ExtThis<Ext.window.IWindow> & {
  app: AppView;
  down(selector: string): Ext.IComponent & {
    setValue(value: string): void;
    getValue(): string;
    getStore(): ExtStore & { loadData(rows: object[]): void };
  };
  run(): Promise<void>;
  setLoading(loading: boolean | string): void;
  close(): void;
};

Ext.define('Proximity.window.Command', {
  extend: 'Ext.window.Window',
  alias: 'widget.proximityCommand',

  width: 720,
  height: 460,
  layout: 'fit',

  initComponent(this: Self) {
    this.title = Ext.String.format(gettext('Commands of {0}'), this.app.hostname);
    this.tbar = [
      {
        xtype: 'combobox',
        itemId: 'command',
        fieldLabel: gettext('Command'),
        labelWidth: 70,
        width: 420,
        editable: false,
        queryMode: 'local',
        valueField: 'name',
        displayField: 'label',
        emptyText: gettext('This app declares no safe commands'),
        store: { fields: ['name', 'label'], data: [] },
      },
      {
        xtype: 'button',
        itemId: 'run',
        text: gettext('Run'),
        iconCls: 'fa fa-play',
        handler: () => void this.run(),
      },
    ];
    this.items = [
      {
        xtype: 'textarea',
        itemId: 'output',
        readOnly: true,
        fieldStyle: 'font-family: monospace; font-size: 12px',
      },
    ];
    this.buttons = [{ text: gettext('Close'), handler: () => this.close() }];
    this.callParent();
    this.on('afterrender', async () => {
      try {
        const commands = await Proximity.Api.get<SafeCommand[]>(
          `/apps/${encodeURIComponent(this.app.hostname)}/commands`,
        );
        if (this.isDestroyed) return;
        this.down('#command')
          .getStore()
          .loadData(
            commands.map((c) => ({
              name: c.name,
              label: c.description ? `${c.name} \u2014 ${c.description}` : c.name,
            })),
          );
        if (commands[0]) this.down('#command').setValue(commands[0].name);
      } catch (error) {
        Proximity.Utils.showError(error);
      }
    });
  },

  async run(this: Self) {
    const name = this.down('#command').getValue();
    if (!name) return;
    this.setLoading(true);
    try {
      const result = (
        await Proximity.Api.request<CommandResult>(
          'POST',
          `/apps/${encodeURIComponent(this.app.hostname)}/commands/${encodeURIComponent(name)}`,
        )
      ).data;
      if (this.isDestroyed) return;
      const parts = [
        result.stdout,
        result.stderr && `--- stderr ---\n${result.stderr}`,
        `--- exit code ${result.exitCode}${result.truncated ? ', output truncated' : ''} ---`,
      ];
      this.down('#output').setValue(parts.filter(Boolean).join('\n'));
    } catch (error) {
      Proximity.Utils.showError(error);
    } finally {
      if (!this.isDestroyed) this.setLoading(false);
    }
  },
});

export {};
