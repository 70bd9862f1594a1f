/**
 * Proximity.window.RouteEdit: one reverse-proxy route: names, upstreams, load balancing,
 * health checks, TLS, the security-headers preset, access lists and basic auth. Lists are
 * typed one per line (or comma separated); the API validates and its field errors land on
 * the field that holds the value (`upstreams.1.port` → Upstreams).
 */
import { LB_POLICIES, TLS_MODES } from '../../../server/src/contract/rules';
import type { Route } from '../types';

type Values = Record<string, string | number | boolean | undefined>;
type Self = ExtThis<Ext.window.IWindow> & {
  routeId?: string;
  method: string;
  path: string;
  submitText: string;
  formItems: object[];
  down(selector: string): { getForm(): { setValues(values: object): void } };
  load(): Promise<void>;
};

const list = (value: unknown) =>
  String(value ?? '')
    .split(/[\s,]+/)
    .filter(Boolean);
const number = (value: unknown) =>
  value === '' || value === undefined || value === null ? undefined : Number(value);

function toForm(route: Route): Values {
  return {
    hostnames: route.hostnames.join(', '),
    publicHostnames: route.publicHostnames.join(', '),
    upstreams: route.upstreams.map((u) => `${u.host}:${u.port}`).join('\n'),
    'loadBalancing.policy': route.loadBalancing.policy,
    'loadBalancing.cookieName': route.loadBalancing.cookieName ?? '',
    'loadBalancing.headerField': route.loadBalancing.headerField ?? '',
    'loadBalancing.tryDurationSeconds': route.loadBalancing.tryDurationSeconds,
    'healthChecks.active.path': route.healthChecks.active?.path ?? '',
    'healthChecks.active.intervalSeconds': route.healthChecks.active?.intervalSeconds,
    'healthChecks.active.expectStatus': route.healthChecks.active?.expectStatus,
    'healthChecks.passive.maxFails': route.healthChecks.passive?.maxFails,
    tls: route.tls,
    securityHeaders: route.securityHeaders,
    'access.allow': route.access.allow.join('\n'),
    'access.deny': route.access.deny.join('\n'),
    'basicAuth.username': route.basicAuth?.username ?? '',
    'basicAuth.passwordHash': route.basicAuth?.passwordHash ?? '',
    maxRequestBodyBytes: route.maxRequestBodyBytes,
  };
}

function fromForm(v: Values): object {
  const upstreams = list(v.upstreams).map((entry) => {
    const at = entry.lastIndexOf(':');
    return at < 0
      ? { host: entry, port: 80 }
      : { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
  });
  const active = v['healthChecks.active.path']
    ? {
        path: String(v['healthChecks.active.path']),
        ...(number(v['healthChecks.active.intervalSeconds'])
          ? { intervalSeconds: number(v['healthChecks.active.intervalSeconds']) }
          : {}),
        ...(number(v['healthChecks.active.expectStatus'])
          ? { expectStatus: number(v['healthChecks.active.expectStatus']) }
          : {}),
      }
    : undefined;
  const maxFails = number(v['healthChecks.passive.maxFails']);
  return {
    hostnames: list(v.hostnames),
    publicHostnames: list(v.publicHostnames),
    upstreams,
    loadBalancing: {
      policy: v['loadBalancing.policy'],
      ...(v['loadBalancing.cookieName'] ? { cookieName: v['loadBalancing.cookieName'] } : {}),
      ...(v['loadBalancing.headerField'] ? { headerField: v['loadBalancing.headerField'] } : {}),
      ...(number(v['loadBalancing.tryDurationSeconds']) !== undefined
        ? { tryDurationSeconds: number(v['loadBalancing.tryDurationSeconds']) }
        : {}),
    },
    healthChecks: { ...(active ? { active } : {}), ...(maxFails ? { passive: { maxFails } } : {}) },
    tls: v.tls,
    securityHeaders: Boolean(v.securityHeaders),
    access: { allow: list(v['access.allow']), deny: list(v['access.deny']) },
    ...(v['basicAuth.username']
      ? { basicAuth: { username: v['basicAuth.username'], passwordHash: v['basicAuth.passwordHash'] } }
      : {}),
    ...(number(v.maxRequestBodyBytes) ? { maxRequestBodyBytes: number(v.maxRequestBodyBytes) } : {}),
  };
}

Ext.define('Proximity.window.RouteEdit', {
  extend: 'Proximity.window.Edit',
  alias: 'widget.proximityRouteEdit',

  width: 640,
  resizable: true,
  formConfig: { layout: 'fit', bodyPadding: 0 },

  toBody: fromForm,

  initComponent(this: Self) {
    this.title = this.routeId
      ? Ext.String.format(gettext('Edit route {0}'), this.routeId)
      : gettext('Add route');
    this.method = this.routeId ? 'PUT' : 'POST';
    this.path = this.routeId ? `/routes/${encodeURIComponent(this.routeId)}` : '/routes';
    this.submitText = this.routeId ? gettext('OK') : gettext('Add');
    const text = (name: string, fieldLabel: string, extra: object = {}) => ({
      xtype: 'textfield',
      name,
      fieldLabel,
      ...extra,
    });
    const area = (name: string, fieldLabel: string, emptyText: string) => ({
      xtype: 'textarea',
      name,
      fieldLabel,
      emptyText,
      height: 60,
    });
    const num = (name: string, fieldLabel: string, extra: object = {}) => ({
      xtype: 'numberfield',
      name,
      fieldLabel,
      ...extra,
    });
    this.formItems = [
      {
        xtype: 'tabpanel',
        defaults: { bodyPadding: 10, layout: 'anchor', defaults: { anchor: '100%', labelWidth: 150 } },
        items: [
          {
            title: gettext('General'),
            items: [
              text('hostnames', gettext('Names'), {
                allowBlank: false,
                emptyText: 'wiki, docs (served as <name>.prox.local)',
              }),
              text('publicHostnames', gettext('Public names'), { emptyText: 'wiki.example.org' }),
              area('upstreams', gettext('Upstreams'), 'wiki:8080 (one host:port per line)'),
              {
                xtype: 'combobox',
                name: 'tls',
                fieldLabel: 'TLS',
                editable: false,
                value: 'off',
                store: [...TLS_MODES],
              },
              {
                xtype: 'checkbox',
                name: 'securityHeaders',
                fieldLabel: gettext('Security headers'),
                inputValue: true,
                uncheckedValue: false,
                checked: true,
              },
              num('maxRequestBodyBytes', gettext('Max request body (bytes)'), { minValue: 1024 }),
            ],
          },
          {
            title: gettext('Load balancing'),
            items: [
              {
                xtype: 'combobox',
                name: 'loadBalancing.policy',
                fieldLabel: gettext('Policy'),
                editable: false,
                value: 'round_robin',
                store: [...LB_POLICIES],
              },
              text('loadBalancing.cookieName', gettext('Cookie (policy cookie)')),
              text('loadBalancing.headerField', gettext('Header (policy header)')),
              num('loadBalancing.tryDurationSeconds', gettext('Retry for (seconds)'), {
                minValue: 0,
                maxValue: 60,
              }),
            ],
          },
          {
            title: gettext('Health checks'),
            items: [
              text('healthChecks.active.path', gettext('Active check path'), {
                emptyText: '/health (empty: no active check)',
              }),
              num('healthChecks.active.intervalSeconds', gettext('Interval (seconds)'), { minValue: 1 }),
              num('healthChecks.active.expectStatus', gettext('Expected status'), {
                minValue: 100,
                maxValue: 599,
              }),
              num('healthChecks.passive.maxFails', gettext('Passive: max fails'), {
                minValue: 1,
                maxValue: 100,
              }),
            ],
          },
          {
            title: gettext('Access'),
            items: [
              area('access.allow', gettext('Allow'), '10.20.0.0/24 (empty: everyone)'),
              area('access.deny', gettext('Deny'), '10.20.0.66'),
              text('basicAuth.username', gettext('Basic auth user')),
              text('basicAuth.passwordHash', gettext('Password (bcrypt hash)'), {
                emptyText: '$2b$12$... (caddy hash-password)',
              }),
            ],
          },
        ],
      },
    ];
    this.callParent();
    if (this.routeId) void this.load();
  },

  async load(this: Self) {
    try {
      const route = await Proximity.Api.get<Route>(`/routes/${encodeURIComponent(this.routeId!)}`);
      if (!this.isDestroyed) this.down('form').getForm().setValues(toForm(route));
    } catch (error) {
      Proximity.Utils.showError(error);
    }
  },
});

export {};
