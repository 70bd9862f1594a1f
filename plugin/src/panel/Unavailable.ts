/**
 * Proximity.panel.Unavailable: why the tab cannot show anything, and what to do. A page
 * cannot tell a stopped service from a certificate the browser does not trust, so both
 * causes are explained, with the link that fixes the second and the command for the first.
 */
type Self = ExtThis<Ext.panel.IPanel>;

Ext.define('Proximity.panel.Unavailable', {
  extend: 'Ext.panel.Panel',
  alias: 'widget.proximityUnavailable',

  border: false,
  bodyPadding: 20,
  itemId: 'unavailable',

  initComponent(this: Self) {
    const url = Proximity.Utils.encode(Proximity.Api.serviceUrl());
    this.html = [
      '<div class="proximity-unavailable">',
      `<h2><i class="fa fa-exclamation-triangle" style="color:#fc0"></i> ${gettext('The Proximity service does not answer')}</h2>`,
      `<p>${gettext('This tab talks to the Proximity service on this node at')} <b>${url}</b>.</p>`,
      '<ul>',
      `<li>${gettext('If your browser does not trust its certificate yet (it is this node\u2019s Proxmox VE certificate), open')}`,
      ` <a href="${url}/health" target="_blank" rel="noopener noreferrer">${url}</a> `,
      `${gettext('once and accept it, then come back here.')}</li>`,
      `<li>${gettext('If the service is stopped, start it on the node\u2019s shell:')} <code>systemctl start proximity</code>,`,
      ` ${gettext('and see why it stopped with')} <code>journalctl -u proximity</code>.</li>`,
      '</ul>',
      `<p><i class="fa fa-refresh fa-spin"></i> ${gettext('Trying again every few seconds: this tab recovers by itself.')}</p>`,
      '</div>',
    ].join('');
    this.callParent();
  },
});

export {};
