/**
 * Proximity.window.AppDetail: an app's summary the way PVE's container Summary shows it: the
 * current figures, then CPU, memory and network graphs from PVE's RRD data (hour/day/week).
 * Graphs use ExtJS charts, which pve-manager's page loads (charts.js); without them the
 * figures are still shown.
 */
import type { AppView } from '../types';

interface Stats {
  status: string;
  cpu: number | null;
  cpus: number | null;
  memory: { used: number | null; max: number | null };
  disk: { used: number | null; max: number | null };
  network: { in: number | null; out: number | null };
  uptime: number | null;
  rrd: Record<string, number>[];
}
type Self = ExtThis<Ext.window.IWindow> & {
  app: AppView;
  down(selector: string): Ext.IComponent & {
    getValue(): string;
    getStore(): ExtStore & { loadData(rows: object[]): void };
    update(html: string): void;
  };
  reload(): Promise<void>;
  close(): void;
};

const hasCharts = () => Boolean(Ext.ClassManager.get('Ext.chart.CartesianChart'));

function chart(
  itemId: string,
  title: string,
  fields: string[],
  titles: string[],
  render: (value: number) => string,
) {
  if (!hasCharts()) return { xtype: 'component', itemId, html: '' };
  return {
    xtype: 'cartesian',
    itemId,
    height: 180,
    margin: '5 0 0 0',
    legend: { docked: 'right' },
    store: { fields: ['time', ...fields], data: [] },
    insetPadding: 10,
    axes: [
      {
        type: 'numeric',
        position: 'left',
        grid: true,
        minimum: 0,
        renderer: (_axis: unknown, value: number) => render(value),
      },
      { type: 'time', position: 'bottom', fields: ['time'], dateFormat: 'H:i' },
    ],
    series: fields.map((field, index) => ({
      type: 'line',
      xField: 'time',
      yField: field,
      title: titles[index],
      fill: true,
      style: { lineWidth: 1.5, opacity: 0.6 },
      tooltip: {
        trackMouse: true,
        renderer: (tooltip: { setHtml(html: string): void }, record: { get(key: string): number }) =>
          tooltip.setHtml(`${titles[index]}: ${render(record.get(field))}`),
      },
    })),
    title,
  };
}

Ext.define('Proximity.window.AppDetail', {
  extend: 'Ext.window.Window',
  alias: 'widget.proximityAppDetail',

  width: 760,
  height: 720,
  layout: { type: 'vbox', align: 'stretch' },
  scrollable: true,
  bodyPadding: 10,
  maximizable: true,

  initComponent(this: Self) {
    const utils = Proximity.Utils;
    this.title = Ext.String.format(gettext('Summary of {0}'), this.app.hostname);
    this.tbar = [
      '->',
      {
        xtype: 'combobox',
        itemId: 'timeframe',
        editable: false,
        width: 160,
        value: 'hour',
        store: [
          ['hour', gettext('Hour (average)')],
          ['day', gettext('Day (average)')],
          ['week', gettext('Week (average)')],
        ],
        listeners: { change: () => void this.reload() },
      },
    ];
    this.items = [
      { xtype: 'component', itemId: 'figures', html: '', margin: '0 0 5 0' },
      { xtype: 'component', html: `<b>${gettext('CPU usage')}</b>` },
      chart('cpu', gettext('CPU usage'), ['cpu'], [gettext('CPU usage')], utils.percent),
      { xtype: 'component', html: `<b>${gettext('Memory usage')}</b>`, margin: '10 0 0 0' },
      chart(
        'memory',
        gettext('Memory usage'),
        ['maxmem', 'mem'],
        [gettext('Total'), gettext('RAM usage')],
        utils.bytes,
      ),
      { xtype: 'component', html: `<b>${gettext('Network traffic')}</b>`, margin: '10 0 0 0' },
      chart(
        'network',
        gettext('Network traffic'),
        ['netin', 'netout'],
        [gettext('netin'), gettext('netout')],
        (v) => `${utils.bytes(v)}/s`,
      ),
    ];
    this.buttons = [{ text: gettext('Close'), handler: () => this.close() }];
    this.callParent();
    this.on('afterrender', () => void this.reload());
  },

  async reload(this: Self) {
    const utils = Proximity.Utils;
    try {
      const timeframe = this.down('#timeframe').getValue() || 'hour';
      const stats = await Proximity.Api.get<Stats>(
        `/apps/${encodeURIComponent(this.app.hostname)}/stats?timeframe=${timeframe}`,
      );
      if (this.isDestroyed) return;
      const rows: [string, string][] = [
        [gettext('Status'), utils.statusRenderer(stats.status)],
        [gettext('CPU usage'), `${utils.percent(stats.cpu)} ${gettext('of')} ${stats.cpus ?? '?'} CPU(s)`],
        [gettext('Memory usage'), `${utils.bytes(stats.memory.used)} / ${utils.bytes(stats.memory.max)}`],
        [gettext('Bootdisk size'), `${utils.bytes(stats.disk.used)} / ${utils.bytes(stats.disk.max)}`],
        [gettext('Network'), `in ${utils.bytes(stats.network.in)}, out ${utils.bytes(stats.network.out)}`],
        [gettext('Uptime'), utils.duration(stats.uptime)],
        [gettext('Address'), utils.addressRenderer(this.app)],
      ];
      this.down('#figures').update(
        `<table class="proximity-figures">${rows.map(([k, v]) => `<tr><td style="padding-right:20px">${k}</td><td>${v}</td></tr>`).join('')}</table>`,
      );
      if (!hasCharts()) return;
      // PVE's RRD time is in seconds; points without data (the CT was off) stay gaps.
      const points = stats.rrd.map((point) => ({ ...point, time: new Date(point.time * 1000) }));
      for (const id of ['cpu', 'memory', 'network']) this.down(`#${id}`).getStore().loadData(points);
    } catch (error) {
      utils.showError(error);
    }
  },
});

export {};
