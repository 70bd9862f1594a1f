/**
 * Proximity.window.Reservation: reserve an address (and a name) for a MAC address, checked
 * by the API's own patterns (server/src/contract/rules.ts) as they are typed.
 */
import { HOSTNAME_PATTERN, MAC_PATTERN } from '../../../server/src/contract/rules';

type Self = ExtThis<Ext.window.IWindow> & { formItems: object[] };

Ext.define('Proximity.window.Reservation', {
  extend: 'Proximity.window.Edit',
  alias: 'widget.proximityReservation',

  title: gettext('Add reservation'),
  submitText: gettext('Add'),
  method: 'POST',
  path: '/network/reservations',

  toBody(values: Record<string, string>) {
    return { mac: values.mac, hostname: values.hostname, ...(values.ip ? { ip: values.ip } : {}) };
  },

  initComponent(this: Self) {
    this.formItems = [
      {
        xtype: 'textfield',
        name: 'mac',
        fieldLabel: gettext('MAC address'),
        allowBlank: false,
        regex: MAC_PATTERN,
        regexText: gettext('A MAC address like BC:24:11:00:00:01'),
      },
      {
        xtype: 'textfield',
        name: 'hostname',
        fieldLabel: gettext('Hostname'),
        allowBlank: false,
        regex: HOSTNAME_PATTERN,
        regexText: gettext('Lower-case letters, digits and hyphens'),
      },
      {
        xtype: 'textfield',
        name: 'ip',
        fieldLabel: gettext('IP address'),
        emptyText: gettext('next free static address'),
      },
    ];
    this.callParent();
  },
});

export {};
