/*
 * The rig's stand-in for proxmox-widget-toolkit's proxmoxlib.js: the part of it the Proximity
 * plugin and the page's workspace use, with the real class names, signatures and behaviour
 * (src/Utils.js, src/button/Help.js). The template defines `Proxmox` first (Setup, UserName,
 * CSRFPreventionToken), as pve-manager's index.html.tpl does.
 */
if (typeof Proxmox === 'undefined') {
  Proxmox = { Setup: { auth_cookie_name: 'PVEAuthCookie' }, UserName: '', CSRFPreventionToken: '' };
}

Ext.define('Proxmox.Utils', {
  singleton: true,

  utilities: {
    yesText: gettext('Yes'),
    noText: gettext('No'),
    enabledText: gettext('Enabled'),
    disabledText: gettext('Disabled'),
    noneText: gettext('none'),
    errorText: gettext('Error'),
    unknownText: gettext('Unknown'),
    defaultText: gettext('Default'),
    runningText: gettext('running'),
    stoppedText: gettext('stopped'),
    directoryText: gettext('Directory'),

    format_boolean: function (value) {
      return value ? Proxmox.Utils.yesText : Proxmox.Utils.noText;
    },

    // bytes -> "1.50 GiB" (binary units) or "1.61 GB" with useSI
    format_size: function (size, useSI) {
      let unit = useSI ? 1000 : 1024;
      let units = useSI ? ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] : ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
      let num = 0;
      while (size >= unit && num < units.length - 1) {
        size /= unit;
        num++;
      }
      let fixed = num === 0 ? 0 : 2;
      return `${size.toFixed(fixed)} ${units[num]}`;
    },

    render_size: function (value) {
      if (!Ext.isNumeric(value)) {
        return '';
      }
      return Proxmox.Utils.format_size(value);
    },

    // seconds -> "3 days 04:05:06"
    format_duration_long: function (ut) {
      let days = Math.floor(ut / 86400);
      ut -= days * 86400;
      let hours = Math.floor(ut / 3600);
      ut -= hours * 3600;
      let mins = Math.floor(ut / 60);
      ut -= mins * 60;
      let hours_str = `00${hours.toString()}`.slice(-2);
      let mins_str = `00${mins.toString()}`.slice(-2);
      let ut_str = `00${Math.floor(ut).toString()}`.slice(-2);
      if (days) {
        let ds = days > 1 ? Proxmox.Utils.daysText : Proxmox.Utils.dayText;
        return `${days} ${ds} ${hours_str}:${mins_str}:${ut_str}`;
      }
      return `${hours_str}:${mins_str}:${ut_str}`;
    },
    dayText: gettext('Day'),
    daysText: gettext('Days'),

    render_uptime: function (value) {
      if (value === undefined || value === null) {
        return '-';
      }
      if (value <= 0) {
        return '-';
      }
      return Proxmox.Utils.format_duration_long(value);
    },

    // a grid renderer: cpu fraction (0..maxcpu) -> "12.3% of 4 CPUs"
    render_cpu: function (value, metaData, record) {
      if (!(record.data.uptime && Ext.isNumeric(value))) {
        return '';
      }
      let maxcpu = record.data.maxcpu || 1;
      if (!Ext.isNumeric(maxcpu) || maxcpu < 1) {
        return '';
      }
      let cpuText = maxcpu > 1 ? 'CPUs' : 'CPU';
      let per = value * 100;
      return `${per.toFixed(1)}% of ${maxcpu.toString()} ${cpuText}`;
    },

    extractRequestError: function (result, verbose) {
      let msg = gettext('Successful');
      if (!result.success) {
        msg = gettext('Unknown error');
        if (result.message) {
          msg = Ext.htmlEncode(result.message);
          if (result.status) {
            msg += ` (${result.status})`;
          }
        }
        if (verbose && Ext.isObject(result.errors)) {
          msg += '<br>';
          Ext.Object.each(result.errors, (prop, desc) => {
            msg += `<br><b>${Ext.htmlEncode(prop)}</b>: ${Ext.htmlEncode(desc)}`;
          });
        }
      }
      return msg;
    },

    // Calls the PVE API as the real toolkit does: a relative url goes to /api2/extjs (errors
    // come back as HTTP 200 with success: 0), `success`, `failure` and `callback` get the
    // response with `result` (the decoded body) and `htmlStatus` (the error, HTML-safe).
    API2Request: function (reqOpts) {
      let newopts = Ext.apply({ waitMsg: gettext('Please wait...') }, reqOpts);
      if (!newopts.url.match(/^\/api2/)) {
        newopts.url = '/api2/extjs' + newopts.url;
      }
      delete newopts.callback;
      let unmask = (target) => {
        if (target && !target.isDestroyed) {
          target.setLoading(false);
        }
      };
      let successFn = reqOpts.success;
      let failureFn = reqOpts.failure;
      let callbackFn = reqOpts.callback;
      Ext.apply(newopts, {
        success: function (response, options) {
          unmask(options.waitMsgTarget);
          let result = Ext.decode(response.responseText);
          response.result = result;
          if (!result.success) {
            response.htmlStatus = Proxmox.Utils.extractRequestError(result, true);
            Ext.callback(callbackFn, options.scope, [options, false, response]);
            Ext.callback(failureFn, options.scope, [response, options]);
            return;
          }
          Ext.callback(callbackFn, options.scope, [options, true, response]);
          Ext.callback(successFn, options.scope, [response, options]);
        },
        failure: function (response, options) {
          unmask(options.waitMsgTarget);
          response.result = {};
          try {
            response.result = Ext.decode(response.responseText);
          } catch {
            // not JSON: a bare pveproxy error
          }
          let msg = gettext('Connection error') + ' - server offline?';
          if (response.aborted) {
            msg = gettext('Connection error') + ' - aborted.';
          } else if (response.timedout) {
            msg = gettext('Connection error') + ' - Timeout.';
          } else if (response.status && response.statusText) {
            msg = gettext('Connection error') + ' ' + response.status + ': ' + response.statusText;
          }
          response.htmlStatus = Ext.htmlEncode(msg);
          Ext.callback(callbackFn, options.scope, [options, false, response]);
          Ext.callback(failureFn, options.scope, [response, options]);
        },
      });
      let target = newopts.waitMsgTarget;
      if (target) {
        target.setLoading(newopts.waitMsg);
      }
      Ext.Ajax.request(newopts);
    },

    // after a login: the ticket becomes the PVEAuthCookie (cookies ignore ports: the
    // Proximity API on :8443 receives it too), the CSRF token and user name globals
    setAuthData: function (data) {
      Proxmox.UserName = data.username;
      Proxmox.LoggedOut = data.LoggedOut;
      if (data.ticket) {
        Proxmox.CSRFPreventionToken = data.CSRFPreventionToken;
        Ext.util.Cookies.set(Proxmox.Setup.auth_cookie_name, data.ticket, null, '/', null, true);
      }
    },

    authOK: function () {
      if (Proxmox.LoggedOut) {
        return undefined;
      }
      let cookie = Ext.util.Cookies.get(Proxmox.Setup.auth_cookie_name);
      return Proxmox.UserName !== '' && cookie && !cookie.startsWith('PVE:tfa!') ? cookie : false;
    },

    authClear: function () {
      if (Proxmox.LoggedOut) {
        return;
      }
      Ext.util.Cookies.set(Proxmox.Setup.auth_cookie_name, '', new Date(0), '/', null, true);
      Ext.util.Cookies.clear(Proxmox.Setup.auth_cookie_name, '/');
    },
  },

  constructor: function () {
    let me = this;
    Ext.apply(me, me.utilities);
    // every request carries the CSRF token, as the toolkit's beforerequest hook does
    Ext.Ajax.on('beforerequest', (conn, options) => {
      if (Proxmox.CSRFPreventionToken) {
        if (!options.headers) {
          options.headers = {};
        }
        options.headers.CSRFPreventionToken = Proxmox.CSRFPreventionToken;
      }
    });
  },
});

// The proxy of every Proxmox store: the PVE API refuses parameters it does not know, so no
// paging, sorting or grouping parameters; the data is under `data` (src/data/ProxmoxProxy.js).
Ext.define('Proxmox.RestProxy', {
  extend: 'Ext.data.RestProxy',
  alias: 'proxy.proxmox',

  pageParam: null,
  startParam: null,
  limitParam: null,
  groupParam: null,
  sortParam: null,
  filterParam: null,
  noCache: false,

  afterRequest: function (request, success) {
    this.fireEvent('afterload', this, request, success);
  },

  constructor: function (config) {
    Ext.applyIf(config, {
      reader: { responseType: undefined, type: 'json', rootProperty: config.root || 'data' },
    });
    this.callParent([config]);
  },
});

// The toolbar's help button; the stand-in knows no manual, it only keeps the contract.
Ext.define('Proxmox.button.Help', {
  extend: 'Ext.button.Button',
  xtype: 'proxmoxHelpButton',

  text: gettext('Help'),
  iconCls: ' x-btn-icon-el-default-toolbar-small fa fa-question-circle',
  cls: 'x-btn-default-toolbar-small proxmox-inline-button',
  hidden: true,
  listenToGlobalEvent: true,

  setOnlineHelp: function (onlineHelp) {
    this.onlineHelp = onlineHelp;
    this.setHidden(!onlineHelp);
  },

  handler: function () {
    // the real one opens /pve-docs/<chapter>.html; the rig has no documentation
  },
});
