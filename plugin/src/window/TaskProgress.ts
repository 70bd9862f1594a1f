/**
 * Proximity.window.TaskProgress: a task followed live, like PVE's task viewer: each step with
 * its state, a progress bar, the log as it is written, and the outcome. A deploy ends with
 * its app's URL. If the live stream breaks (service restarting) it polls the task instead.
 */
import type { Task, TaskLogLine } from '../types';

type Self = ExtThis<Ext.window.IWindow> & {
  taskId: string;
  appUrl?: string;
  stopFollowing?: () => void;
  pollTimer?: number;
  seenLogs: Set<number>;
  down(selector: string): Ext.IComponent & {
    getStore(): ExtStore & { loadData(rows: object[]): void };
    updateProgress(value: number, text?: string): void;
    getValue(): string;
    setValue(value: string): void;
    inputEl: { dom: HTMLTextAreaElement };
    update(html: string): void;
  };
  showTask(task: Task): void;
  appendLog(line: TaskLogLine): void;
  close(): void;
};

const STEP_ICONS: Record<string, string> = {
  pending: 'fa-circle-o',
  running: 'fa-spinner fa-pulse',
  done: 'fa-check',
  failed: 'fa-times',
  undone: 'fa-undo',
};

Ext.define('Proximity.window.TaskProgress', {
  extend: 'Ext.window.Window',
  alias: 'widget.proximityTaskProgress',

  width: 640,
  height: 600,
  layout: { type: 'vbox', align: 'stretch' },
  bodyPadding: 5,
  modal: false,
  maximizable: true,

  initComponent(this: Self) {
    this.seenLogs = new Set();
    this.items = [
      { xtype: 'progressbar', itemId: 'progress', text: gettext('Starting...'), margin: '0 0 5 0' },
      {
        xtype: 'grid',
        itemId: 'steps',
        // the eight steps of a deploy without a scroll bar
        height: 236,
        disableSelection: true,
        store: { fields: ['name', 'state', 'message'], data: [] },
        columns: [
          {
            text: gettext('Step'),
            dataIndex: 'name',
            width: 140,
            renderer: (name: string, _meta: unknown, record: { get(key: string): string }) =>
              `<i class="fa fa-fw ${STEP_ICONS[record.get('state')] ?? 'fa-circle-o'}"></i> ${Proximity.Utils.encode(name)}`,
          },
          { text: gettext('Status'), dataIndex: 'state', width: 90 },
          { text: gettext('Details'), dataIndex: 'message', flex: 1, renderer: Proximity.Utils.encode },
        ],
      },
      {
        xtype: 'textarea',
        itemId: 'log',
        flex: 1,
        readOnly: true,
        fieldStyle: 'font-family: monospace; font-size: 12px',
      },
      { xtype: 'component', itemId: 'outcome', padding: '5 0 0 0', html: '' },
    ];
    this.buttons = [{ text: gettext('Close'), handler: () => this.close() }];
    this.callParent();
    const follow = () => {
      this.stopFollowing = Proximity.Api.follow(this.taskId, {
        task: (task) => this.showTask(task),
        log: (line) => this.appendLog(line),
        lost: () => {
          // Poll until the task settles; the stream may come back when the service does.
          window.clearInterval(this.pollTimer);
          this.pollTimer = window.setInterval(async () => {
            try {
              this.showTask(await Proximity.Api.get<Task>(`/tasks/${encodeURIComponent(this.taskId)}`));
            } catch {
              // still away: the next round tries again
            }
          }, 2000);
        },
      });
    };
    follow();
    this.on('destroy', () => {
      this.stopFollowing?.();
      window.clearInterval(this.pollTimer);
    });
  },

  appendLog(this: Self, line: TaskLogLine) {
    if (this.isDestroyed || this.seenLogs.has(line.id)) return;
    this.seenLogs.add(line.id);
    const log = this.down('#log');
    const prefix = line.step ? `[${line.step}] ` : '';
    log.setValue(`${log.getValue()}${Ext.Date.format(new Date(line.at), 'H:i:s')} ${prefix}${line.line}\n`);
    const area = log.inputEl?.dom;
    if (area) area.scrollTop = area.scrollHeight;
  },

  showTask(this: Self, task: Task) {
    if (this.isDestroyed) return;
    this.down('#steps').getStore().loadData(task.steps);
    const current = task.steps.find((step) => step.state === 'running');
    const label =
      task.state === 'running'
        ? `${current?.name ?? ''} ${current?.message ?? ''}`.trim() || gettext('running')
        : task.state;
    this.down('#progress').updateProgress(task.percent / 100, `${task.percent}% ${label}`);
    if (task.state === 'running' || task.state === 'cancelling') return;
    window.clearInterval(this.pollTimer);
    const outcome = this.down('#outcome');
    if (task.state === 'succeeded') {
      const url = this.appUrl ?? (typeof task.data.url === 'string' ? task.data.url : undefined);
      outcome.update(
        `<i class="fa fa-check-circle" style="color:#21bf4b"></i> ${gettext('TASK OK')}` +
          (url && task.kind === 'app.deploy'
            ? ` &mdash; ${gettext('your app answers at')} ${/^https?:/.test(url) ? Proximity.Utils.linkRenderer(url) : `<code>${Proximity.Utils.encode(url.replace(/^tcp:\/\//, ''))}</code>`}`
            : ''),
      );
    } else {
      outcome.update(
        `<i class="fa fa-times-circle" style="color:#ff6c59"></i> ${gettext('TASK ERROR')}: ${Proximity.Utils.encode(task.error ?? task.state)}`,
      );
    }
  },
});

export {};
