/**
 * Proximity.Utils: renderers and small habits shared by the views, so every grid shows a
 * status, a size or an error the same way (and the way Proxmox VE shows them).
 */
type Store = {
  getById(id: string | number): { set(values: object, options?: object): void } | null;
  getModel(): { idProperty?: string; prototype: { idProperty: string } };
  each(fn: (record: { getId(): string | number }) => void): void;
  add(rows: object[]): void;
  remove(records: unknown[]): void;
};
type Form = { findField(name: string): { markInvalid(message: string): void } | null };
type Poller = {
  on(event: string, fn: () => void): void;
  isDestroyed?: boolean;
  isVisible(deep?: boolean): boolean;
  isDescendantOf(container: unknown): boolean;
};

const STATUS_ICONS: Record<string, [string, string]> = {
  running: ['fa-play-circle', 'good'],
  healthy: ['fa-check-circle', 'good'],
  succeeded: ['fa-check-circle', 'good'],
  stopped: ['fa-stop-circle', 'muted'],
  deploying: ['fa-spinner fa-pulse', 'muted'],
  deleting: ['fa-spinner fa-pulse', 'muted'],
  unreachable: ['fa-exclamation-triangle', 'warning'],
  degraded: ['fa-exclamation-triangle', 'warning'],
  unknown: ['fa-question-circle', 'warning'],
  missing: ['fa-times-circle', 'critical'],
  failed: ['fa-times-circle', 'critical'],
  down: ['fa-times-circle', 'critical'],
};

const COLORS = { good: '#21bf4b', warning: '#fc0', critical: '#ff6c59', muted: '#999' };

function encode(value: unknown): string {
  return Ext.String.htmlEncode(value === null || value === undefined ? '' : String(value));
}

function icon(status: string): string {
  const [cls, tone] = STATUS_ICONS[status] ?? ['fa-circle-o', 'muted'];
  return `<i class="fa fa-fw ${cls}" style="color:${COLORS[tone as keyof typeof COLORS]}"></i>`;
}

Ext.define('Proximity.Utils', {
  singleton: true,

  /**
   * A store whose records are keyed by `idProperty` (in ExtJS 6 that is the model's setting,
   * not the store's), so mergeInto and getById find a record by its name.
   */
  store(config: { fields: unknown[]; idProperty: string; sorters?: object[] }) {
    const model = Ext.define(null as unknown as string, {
      extend: 'Ext.data.Model',
      idProperty: config.idProperty,
      fields: config.fields,
    });
    return Ext.create('Ext.data.Store', { model, ...(config.sorters ? { sorters: config.sorters } : {}) });
  },

  caps(): PveCaps {
    return (Ext.state.Manager.get('GuiCap') as PveCaps | undefined) ?? {};
  },

  hasCap(section: keyof PveCaps, privilege: string): boolean {
    return Boolean(Proximity.Utils.caps()[section]?.[privilege]);
  },

  encode,

  statusRenderer(status: string): string {
    return `${icon(status)} ${encode(status)}`;
  },

  healthRenderer(health: string | null | undefined): string {
    return health ? `${icon(health)} ${encode(health)}` : '';
  },

  /** App URLs open in a new tab, as PVE opens consoles. */
  linkRenderer(url: string | null | undefined): string {
    if (!url) return '';
    return `<a href="${encode(url)}" target="_blank" rel="noopener noreferrer">${encode(url)}</a>`;
  },

  /**
   * Where an app is reached: a web app's URL as a link; a TCP service (a database, a broker)
   * has no page, so it says so and shows the address clients connect to, not a link.
   */
  addressRenderer(app: { kind?: string; url: string; address?: string }): string {
    if (app.kind !== 'tcp') return Proximity.Utils.linkRenderer(app.url);
    return `<i class="fa fa-plug fa-fw"></i> ${encode(gettext('TCP service'))} <code class="proximity-address">${encode(app.address)}</code>`;
  },

  bytes(value: number | null | undefined): string {
    if (value === null || value === undefined) return '';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let size = value;
    let unit = 0;
    while (size >= 1024 && unit < units.length - 1) {
      size /= 1024;
      unit += 1;
    }
    return `${unit === 0 ? size : size.toFixed(2)} ${units[unit]}`;
  },

  percent(value: number | null | undefined): string {
    return value === null || value === undefined ? '' : `${(value * 100).toFixed(1)}%`;
  },

  time(value: string | null | undefined): string {
    return value ? Ext.Date.format(new Date(value), 'Y-m-d H:i:s') : '';
  },

  duration(seconds: number | null | undefined): string {
    if (!seconds) return '';
    const days = Math.floor(seconds / 86400);
    const clock = new Date((seconds % 86400) * 1000).toISOString().slice(11, 19);
    return days > 0 ? `${days}d ${clock}` : clock;
  },

  /**
   * Shows an API error where the user can act on it: each field the API names is marked on
   * the form (the way Proxmox edit windows show errors); the rest goes to a message box.
   */
  showError(error: unknown, form?: Form) {
    const failure = error as Partial<ProximityError>;
    const fields = failure.fields ?? {};
    const unplaced: string[] = [];
    for (const [name, message] of Object.entries(fields)) {
      // `upstreams.2.port` lands on the `upstreams` field when there is no finer one.
      const parts = name.split('.');
      let field = null;
      for (let length = parts.length; length > 0 && !field; length -= 1)
        field = form?.findField(parts.slice(0, length).join('.')) ?? null;
      if (field)
        field.markInvalid(name.includes('.') && !form?.findField(name) ? `${name}: ${message}` : message);
      else unplaced.push(`${name}: ${message}`);
    }
    if (form && Object.keys(fields).length > 0 && unplaced.length === 0) return;
    const text = [failure.message ?? String(error), ...unplaced].map(encode).join('<br>');
    Ext.Msg.alert(gettext('Error'), text);
  },

  /**
   * Updates a store in place from a fresh list: changed records are set, new ones added,
   * gone ones removed. Selection and scroll stay where they are (no flicker on refresh).
   */
  mergeInto(store: Store, rows: object[]) {
    const idProperty = store.getModel().prototype.idProperty;
    const seen = new Set<string>();
    const added: object[] = [];
    for (const row of rows) {
      const id = (row as Record<string, string | number>)[idProperty]!;
      seen.add(String(id));
      const record = store.getById(id);
      if (record) record.set(row, { dirty: false });
      else added.push(row);
    }
    const gone: unknown[] = [];
    store.each((record) => {
      if (!seen.has(String(record.getId()))) gone.push(record);
    });
    if (gone.length > 0) store.remove(gone);
    if (added.length > 0) store.add(added);
  },

  /**
   * Runs `fn` now and every `intervalMs` while `owner` lives and is visible, never two at
   * once (a slow answer is not stacked up), like PVE's update stores. PVE renders a new
   * entry's card while it is still hidden and shows it afterwards, so the owner itself
   * never fires `show`: any shown ancestor (Ext.GlobalEvents' `show`) loads it at once.
   */
  poll(owner: Poller, intervalMs: number, fn: () => Promise<unknown> | void) {
    let busy = false;
    const tick = async () => {
      if (busy || owner.isDestroyed || !owner.isVisible(true)) return;
      busy = true;
      try {
        await fn();
      } catch {
        // the view shows errors itself; polling goes on (the service may come back)
      } finally {
        busy = false;
      }
    };
    const timer = window.setInterval(() => void tick(), intervalMs);
    const shown = (component: unknown) => {
      if (component === owner || owner.isDescendantOf(component)) void tick();
    };
    Ext.on('show', shown);
    owner.on('destroy', () => {
      window.clearInterval(timer);
      Ext.un('show', shown);
    });
    owner.on('activate', () => void tick());
    owner.on('afterrender', () => void tick());
  },
});

export {};
