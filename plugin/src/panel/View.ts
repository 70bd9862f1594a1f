/**
 * Proximity.panel.View: the frame of every Proximity entry. It shows the entry's content
 * while the service answers, and Proximity.panel.Unavailable (what is wrong, how to fix it)
 * while it does not; it keeps probing and switches back by itself, so the tab recovers
 * without a page reload and never shows a blank panel or an endless spinner.
 */
type Content = Ext.IComponent & { reload?(): unknown };
type Self = Omit<ExtThis<Ext.container.IContainer>, 'getLayout'> & {
  content: Record<string, unknown>;
  contentView: Content;
  unavailable: Ext.IComponent;
  retryTimer?: number;
  onAvailability(available: boolean): void;
  getLayout(): { setActiveItem(item: unknown): void; getActiveItem(): unknown };
};

const RETRY_MS = 3000;

Ext.define('Proximity.panel.View', {
  extend: 'Ext.container.Container',
  alias: 'widget.proximityView',

  layout: 'card',

  initComponent(this: Self) {
    this.contentView = Ext.create({ ...this.content, border: false }) as Content;
    this.unavailable = Ext.create({ xtype: 'proximityUnavailable' }) as Ext.IComponent;
    this.items = [this.contentView, this.unavailable];
    this.callParent();
    Proximity.Api.on('availability', this.onAvailability, this);
    this.on('destroy', () => {
      Proximity.Api.un('availability', this.onAvailability, this);
      window.clearInterval(this.retryTimer);
    });
    this.on('afterrender', () => {
      if (Proximity.Api.available === false) this.onAvailability(false);
      else void Proximity.Api.probe();
    });
  },

  onAvailability(this: Self, available: boolean) {
    if (this.isDestroyed) return;
    const layout = this.getLayout();
    if (!available) {
      if (layout.getActiveItem() !== this.unavailable) layout.setActiveItem(this.unavailable);
      if (this.retryTimer === undefined)
        this.retryTimer = window.setInterval(() => void Proximity.Api.probe(), RETRY_MS);
      return;
    }
    window.clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    if (layout.getActiveItem() !== this.contentView) {
      layout.setActiveItem(this.contentView);
      this.contentView.reload?.();
    }
  },
});

export {};
