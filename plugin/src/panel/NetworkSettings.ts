/**
 * Proximity.panel.NetworkSettings: the LAN's subnet, ranges, lease time, domain, upstream
 * DNS, placement and the appliance's package cache. Saving reconfigures DHCP/DNS at once; the API checks the ranges against
 * each other and its field errors land on the fields. Needs Sys.Modify to change.
 */
interface Settings {
  placement: string;
  bridge: string;
  subnet: string;
  gateway: string;
  statics: { start: string; end: string };
  pool: { start: string; end: string };
  leaseSeconds: number;
  domain: string;
  upstreamDns: string[];
  packageCache: { enabled: boolean; maxSizeMb: number };
}
type Form = {
  findField(name: string): { markInvalid(message: string): void } | null;
  isValid(): boolean;
  getValues(): Record<string, string>;
  setValues(values: object): void;
};
type Self = Omit<ExtThis<Ext.form.IPanel>, 'getForm'> & {
  getForm(): Form;
  reload(): Promise<void>;
  save(): Promise<void>;
  setLoading(loading: boolean | string): void;
};

function flatten(settings: Settings) {
  return {
    placement: settings.placement,
    bridge: settings.bridge,
    subnet: settings.subnet,
    gateway: settings.gateway,
    'statics.start': settings.statics.start,
    'statics.end': settings.statics.end,
    'pool.start': settings.pool.start,
    'pool.end': settings.pool.end,
    leaseHours: settings.leaseSeconds / 3600,
    domain: settings.domain,
    upstreamDns: settings.upstreamDns.join(', '),
    'packageCache.enabled': settings.packageCache.enabled,
    'packageCache.maxSizeMb': settings.packageCache.maxSizeMb,
  };
}

Ext.define('Proximity.panel.NetworkSettings', {
  extend: 'Ext.form.Panel',
  alias: 'widget.proximityNetworkSettings',

  bodyPadding: 10,
  scrollable: true,
  defaults: { labelWidth: 160, width: 480 },

  initComponent(this: Self) {
    const canModify = Proximity.Utils.hasCap('nodes', 'Sys.Modify');
    const text = (name: string, label: string) => ({
      xtype: 'textfield',
      name,
      fieldLabel: label,
      allowBlank: false,
    });
    this.items = [
      {
        xtype: 'combobox',
        name: 'placement',
        fieldLabel: gettext('Services run on'),
        editable: false,
        store: [
          ['appliance', gettext('the network appliance (a dual-NIC container)')],
          ['host', gettext('this node')],
        ],
      },
      text('bridge', gettext('Bridge')),
      text('subnet', gettext('Subnet (CIDR)')),
      text('gateway', gettext('Gateway')),
      text('statics.start', gettext('Static range from')),
      text('statics.end', gettext('Static range to')),
      text('pool.start', gettext('DHCP pool from')),
      text('pool.end', gettext('DHCP pool to')),
      {
        xtype: 'numberfield',
        name: 'leaseHours',
        fieldLabel: gettext('Lease time (hours)'),
        minValue: 0.05,
        maxValue: 168,
        decimalPrecision: 2,
      },
      text('domain', gettext('Domain')),
      text('upstreamDns', gettext('Upstream DNS servers')),
      {
        xtype: 'checkbox',
        name: 'packageCache.enabled',
        fieldLabel: gettext('Package cache'),
        boxLabel: gettext('apps fetch Debian packages through the appliance'),
        inputValue: 'on',
        uncheckedValue: 'off',
      },
      {
        xtype: 'numberfield',
        name: 'packageCache.maxSizeMb',
        fieldLabel: gettext('Package cache size (MiB)'),
        minValue: 64,
        maxValue: 1048576,
        allowDecimals: false,
      },
    ];
    this.tbar = [
      {
        text: gettext('Save'),
        itemId: 'save',
        iconCls: 'fa fa-floppy-o',
        disabled: !canModify,
        handler: () => void this.save(),
      },
      { text: gettext('Reset'), handler: () => void this.reload() },
    ];
    this.callParent();
    this.on('afterrender', () => void this.reload());
  },

  async reload(this: Self) {
    try {
      const settings = await Proximity.Api.get<Settings>('/network/settings');
      if (!this.isDestroyed) this.getForm().setValues(flatten(settings));
    } catch (error) {
      Proximity.Utils.showError(error);
    }
  },

  async save(this: Self) {
    const form = this.getForm();
    if (!form.isValid()) return;
    const v = form.getValues();
    const body = {
      placement: v.placement,
      bridge: v.bridge,
      subnet: v.subnet,
      gateway: v.gateway,
      statics: { start: v['statics.start'], end: v['statics.end'] },
      pool: { start: v['pool.start'], end: v['pool.end'] },
      leaseSeconds: Math.round(Number(v.leaseHours) * 3600),
      domain: v.domain,
      upstreamDns: String(v.upstreamDns)
        .split(/[\s,]+/)
        .filter(Boolean),
      packageCache: {
        enabled: v['packageCache.enabled'] === 'on',
        maxSizeMb: Number(v['packageCache.maxSizeMb']),
      },
    };
    this.setLoading(gettext('Saving...'));
    try {
      await Proximity.Api.request('PUT', '/network/settings', body);
      await this.reload();
    } catch (error) {
      const failure = error as ProximityError;
      // The API names leaseSeconds; the form shows hours.
      if (failure.fields?.leaseSeconds) failure.fields.leaseHours = failure.fields.leaseSeconds;
      delete failure.fields?.leaseSeconds;
      Proximity.Utils.showError(failure, form);
    } finally {
      if (!this.isDestroyed) this.setLoading(false);
    }
  },
});

export {};
