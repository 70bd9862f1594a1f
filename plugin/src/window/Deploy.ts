/**
 * Proximity.window.Deploy: deploy one catalog entry. The hostname is checked as it is typed
 * (the API's own rule: an RFC 1123 label, not one of Proximity's names, not an app's);
 * everything else is checked by the API, and its field errors are shown on the fields
 * (`hostname`, `resources.cores`, `env.KEY`…). On success the window hands over to the
 * task's progress window, which ends at the app's URL.
 */
import {
  appHostnameProblem,
  HOSTNAME_MAX,
  HOSTNAME_MESSAGE,
  HOSTNAME_PATTERN,
  RESERVED_MESSAGE,
} from '../../../server/src/contract/rules';
import type { AppView, CatalogSummary } from '../types';

interface Manifest {
  resources: { cores: number; memoryMb: number; diskGb: number };
  env: { key: string; default: string; description?: string }[];
}
type Values = Record<string, string | number | boolean | undefined>;
type Self = ExtThis<Ext.window.IWindow> & {
  entry: CatalogSummary;
  nodename?: string;
  taken: Set<string>;
  domain: string;
  formItems: object[];
  formConfig: object;
  down(selector: string): Ext.IComponent & {
    getForm(): { setValues(values: object): void };
    add(items: object[]): void;
    setValue(value: unknown): void;
  };
  loadManifest(): Promise<void>;
};

Ext.define('Proximity.window.Deploy', {
  extend: 'Proximity.window.Edit',
  alias: 'widget.proximityDeploy',

  width: 520,
  submitText: gettext('Deploy'),
  method: 'POST',
  path: '/apps',

  toBody(this: Self, values: Values) {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(values))
      if (name.startsWith('env.')) env[name.slice(4)] = String(value);
    const number = (name: string) =>
      values[name] === '' || values[name] === undefined ? undefined : Number(values[name]);
    return {
      catalogId: this.entry.id,
      hostname: String(values.hostname),
      ...(values.node ? { node: String(values.node) } : {}),
      resources: {
        cores: number('resources.cores'),
        memoryMb: number('resources.memoryMb'),
        diskGb: number('resources.diskGb'),
      },
      ...(Object.keys(env).length > 0 ? { env } : {}),
      ...(values.keepOnFailure ? { keepOnFailure: true } : {}),
    };
  },

  initComponent(this: Self) {
    this.taken = new Set();
    this.domain = 'prox.local';
    this.title = Ext.String.format(gettext('Deploy {0}'), this.entry.name);
    const suggested = this.entry.id
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63);
    this.formConfig = { defaults: { anchor: '100%', labelWidth: 130 } };
    this.formItems = [
      {
        xtype: 'textfield',
        name: 'hostname',
        fieldLabel: gettext('Hostname'),
        allowBlank: false,
        value: suggested,
        maxLength: HOSTNAME_MAX,
        validateOnChange: true,
        validator: (value: string) => {
          // The API's own rule (server/src/contract/rules.ts), reserved names included,
          // in the UI's words.
          const problem = appHostnameProblem(value);
          if (problem === HOSTNAME_MESSAGE)
            return gettext('Lower-case letters, digits and hyphens; not starting or ending with a hyphen');
          if (problem === RESERVED_MESSAGE) return gettext('Reserved for Proximity itself');
          if (problem) return Ext.String.capitalize(problem);
          if (this.taken.has(value)) return gettext('An app with this name exists');
          return true;
        },
      },
      {
        xtype: 'displayfield',
        itemId: 'url',
        fieldLabel: gettext('Address'),
        value: '',
      },
      {
        xtype: 'textfield',
        name: 'node',
        fieldLabel: gettext('Node'),
        value: this.nodename ?? '',
        emptyText: gettext('this node'),
      },
      {
        xtype: 'numberfield',
        name: 'resources.cores',
        fieldLabel: gettext('Cores'),
        minValue: 1,
        maxValue: 128,
        allowDecimals: false,
      },
      {
        xtype: 'numberfield',
        name: 'resources.memoryMb',
        fieldLabel: gettext('Memory (MiB)'),
        minValue: 16,
        step: 64,
        allowDecimals: false,
      },
      {
        xtype: 'numberfield',
        name: 'resources.diskGb',
        fieldLabel: gettext('Disk size (GiB)'),
        minValue: 1,
        allowDecimals: false,
      },
      {
        xtype: 'fieldcontainer',
        itemId: 'env',
        defaults: { anchor: '100%', labelWidth: 130 },
        layout: 'anchor',
        items: [],
      },
      {
        xtype: 'checkbox',
        name: 'keepOnFailure',
        fieldLabel: gettext('Keep on failure'),
        boxLabel: gettext('keep the container to debug a failed deploy'),
        inputValue: 1,
      },
    ];
    this.on('saved', (answer: { taskId: string; app: AppView }) => {
      Ext.create({
        xtype: 'proximityTaskProgress',
        taskId: answer.taskId,
        title: Ext.String.format(gettext('Deploy {0}'), answer.app.hostname),
        appUrl: answer.app.url,
      }).show();
    });
    this.callParent();
    const hostname = this.down('field[name=hostname]') as unknown as Required<Ext.IComponent> & {
      getValue(): string;
    };
    const showUrl = () => {
      const value = hostname.getValue();
      // A TCP service has no page: its name resolves to the container, clients use the port.
      const address =
        this.entry.kind === 'tcp'
          ? `${value}.${this.domain}:${this.entry.port} (${gettext('TCP service')})`
          : `http://${value}.${this.domain}`;
      this.down('#url').setValue(HOSTNAME_PATTERN.test(value) ? Proximity.Utils.encode(address) : '');
    };
    hostname.on('change', showUrl);
    showUrl();
    void this.loadManifest().then(showUrl);
  },

  /** Defaults from the manifest (resources, env) and the names already taken. */
  async loadManifest(this: Self) {
    try {
      const [manifest, apps, settings] = await Promise.all([
        Proximity.Api.get<Manifest>(`/catalog/${encodeURIComponent(this.entry.id)}`),
        Proximity.Api.get<AppView[]>('/apps').catch(() => [] as AppView[]),
        Proximity.Api.get<{ domain: string }>('/network/settings').catch(() => ({ domain: this.domain })),
      ]);
      if (this.isDestroyed) return;
      this.domain = settings.domain;
      this.taken = new Set(apps.map((app) => app.hostname));
      const form = this.down('form').getForm();
      form.setValues({
        'resources.cores': manifest.resources.cores,
        'resources.memoryMb': manifest.resources.memoryMb,
        'resources.diskGb': manifest.resources.diskGb,
      });
      this.down('#env').add(
        manifest.env.map((variable) => ({
          xtype: 'textfield',
          name: `env.${variable.key}`,
          fieldLabel: variable.key,
          value: variable.default,
          ...(variable.description
            ? { emptyText: variable.description, autoEl: { 'data-qtip': variable.description } }
            : {}),
        })),
      );
      (this.down('field[name=hostname]') as unknown as { validate(): boolean }).validate();
    } catch (error) {
      Proximity.Utils.showError(error);
    }
  },
});

export {};
