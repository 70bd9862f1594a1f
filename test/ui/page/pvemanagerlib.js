/*
 * The rig's stand-in for pve-manager's pvemanagerlib.js (Proxmox VE 9): the workspace the
 * Proximity plugin lives in, small, with the real class names, config contracts and
 * behaviour for what it implements (www/manager6/Workspace.js, window/LoginWindow.js,
 * panel/ConfigPanel.js, dc/Config.js, node/Config.js, tree/ResourceTree.js, StateProvider.js).
 * Native views the rig has no use for are plain panels that say so.
 */
if (typeof PVE === 'undefined') {
  PVE = {};
}
PVE.Utils = PVE.Utils || {};

// Stands for pve-manager's PVE.StateProvider (www/manager6/StateProvider.js): saved UI state.
// The navigation keys of `hslist` live in the URL hash, in PVE's own format, so a reload or a
// shared link opens the same view: 'v1', then one ':'-separated field per key in hslist order,
// '' for the key's default, ':N' a word of compDict, ':=' an encodeURIComponent'ed string. The
// node view's Proximity entry: '#v1:0:=node%2Fpve1:4:=proximity::::::' (view 'server', rid
// 'node/pve1', ltab 'tasks', nodetab 'proximity'). A history change (back, an edited or pasted
// link) sets the keys and fires 'statechange' for each, in hslist order: the resource tree
// follows 'rid', the config panels their hstateid. Every other key (GuiCap) stays in
// localStorage ('ext-' keys). Same API: get(key) / set(key, {value}) / clear(key).
Ext.define('PVE.StateProvider', {
  extend: 'Ext.state.LocalStorageProvider',

  hprefix: 'v1',

  // [key, default]; the order is the format's (and that of the notifications)
  hslist: [
    ['view', 'server'],
    ['rid', 'root'],
    ['ltab', 'tasks'],
    ['nodetab', ''],
    ['storagetab', ''],
    ['sdntab', ''],
    ['pooltab', ''],
    ['kvmtab', ''],
    ['lxctab', ''],
    ['dctab', ''],
  ],

  // PVE's dictionary, its words for the values the rig's views can hold (the numbers are PVE's)
  compDict: {
    server: 0,
    storage: 2,
    tasks: 4,
    summary: 5,
    permissions: 6,
    options: 9,
    services: 10,
    network: 11,
    dns: 12,
    time: 13,
    users: 14,
    groups: 15,
    roles: 16,
    root: 18,
    backup: 21,
    syslog: 25,
    support: 27,
    ha: 28,
    firewall: 32,
    'firewall-options': 36,
    replication: 51,
  },

  // the state a hash token stands for (every key; the defaults for no token or another format)
  decodeHToken: function (token) {
    let me = this;
    let [prefix, ...fields] = (token || '').split(':');
    let state = {};
    me.hslist.forEach(([key, fallback]) => {
      if (prefix !== me.hprefix) {
        state[key] = fallback;
        return;
      }
      let value = fields.shift();
      if (value && value[0] === '=') {
        value = decodeURIComponent(value.slice(1));
      } else if (value) {
        value = Ext.Object.getKey(me.compDict, Number(value)) || value;
      }
      state[key] = value;
    });
    return state;
  },

  encodeHToken: function (state) {
    let me = this;
    let token = me.hprefix;
    me.hslist.forEach(([key, fallback]) => {
      let value = encodeURIComponent(Ext.isDefined(state[key]) ? state[key] : fallback);
      if (!value) {
        token += ':';
      } else if (Ext.isDefined(me.compDict[value])) {
        token += ':' + me.compDict[value];
      } else {
        token += ':=' + value;
      }
    });
    return token;
  },

  // private: sets a hash key, true if it changed
  setHV: function (name, value, fireEvents) {
    let me = this;
    if (Ext.encode(value) === Ext.encode(me.UIState[name])) {
      return false;
    }
    me.UIState[name] = value;
    if (fireEvents) {
      me.fireEvent('statechange', me, name, { value: value });
    }
    return true;
  },

  constructor: function (config) {
    let me = this;
    me.callParent([config]);
    me.UIState = me.decodeHToken(); // the defaults

    let onHistoryChange = (token) => {
      if (!token) {
        Ext.History.back(); // the page without a hash: where it came from
        return;
      }
      let state = me.decodeHToken(token);
      me.hslist.forEach(([key]) => {
        if (state[key] !== undefined) {
          me.setHV(key, state[key], true);
        }
      });
    };
    let startToken = Ext.History.getToken();
    if (startToken) {
      onHistoryChange(startToken); // a reload or a link: its state (no one listens yet)
    } else {
      Ext.History.add(me.encodeHToken(me.UIState));
    }
    Ext.History.on('change', onHistoryChange);
  },

  get: function (name, defaultValue) {
    let me = this;
    if (me.UIState[name] !== undefined) {
      return { value: me.UIState[name] };
    }
    let data = me.callParent([name, defaultValue]);
    if (!data && name === 'GuiCap') {
      data = { vms: {}, storage: {}, access: {}, nodes: {}, dc: {}, sdn: {} };
    }
    return data;
  },

  clear: function (name) {
    let me = this;
    if (me.UIState[name] !== undefined) {
      me.UIState[name] = null;
    }
    me.callParent([name]);
  },

  set: function (name, value, fireEvents) {
    let me = this;
    if (me.UIState[name] === undefined) {
      me.callParent([name, value, fireEvents]);
    } else if (me.setHV(name, value ? value.value : null, fireEvents)) {
      Ext.History.add(me.encodeHToken(me.UIState));
    }
  },
});

// Base class of every multi-entry config panel (Datacenter, Node, CT, ...): `items` become a
// tree menu on the left (an item's `groups` lists the itemIds of its parents, which must come
// first), one card at a time on the right. The selected entry is saved under `hstateid`
// ({value: itemId}, '' for the first) and restored in initComponent. insertNodes(items) adds
// entries later (what a plugin's override does); an itemId used twice throws.
Ext.define('PVE.panel.Config', {
  extend: 'Ext.panel.Panel',
  alias: 'widget.pvePanelConfig',

  showSearch: true, // a resource grid as the first entry
  viewFilter: undefined,
  tbarSpacing: true,

  firstItem: '',
  layout: 'card',
  border: 0,

  // used by automated tests: select an entry by its itemId
  selectById: function (cardid) {
    let me = this;
    let selection = me.store.getRoot().findChild('id', cardid, true);
    if (!selection) {
      return '';
    }
    selection.expand();
    me.down('#menu').setSelection(selection);
    return cardid;
  },

  activateCard: function (cardid) {
    let me = this;
    if (!me.savedItems[cardid]) {
      return;
    }
    let current = me.getLayout().getActiveItem();
    let card = me.add(me.savedItems[cardid]);
    me.helpButton.setOnlineHelp(card.onlineHelp || me.onlineHelp);
    if (current) {
      me.setActiveItem(cardid);
      me.remove(current, true);
      if (me.hstateid) {
        // '' stands for the first entry
        me.sp.set(me.hstateid, { value: cardid === me.firstItem ? '' : cardid });
      }
    }
  },

  initComponent: function () {
    let me = this;
    let stateid = me.hstateid;
    me.sp = Ext.state.Manager.getProvider();

    let activeTab; // undefined: the first entry
    if (stateid) {
      let state = me.sp.get(stateid);
      if (state && state.value) {
        activeTab = state.value; // an itemId that may not exist (then: the first)
      }
    }

    let title = me.title || me.pveSelNode.data.text;
    me.title = undefined;

    let tbar = me.tbar || [];
    me.tbar = undefined;
    if (me.tbarSpacing) {
      tbar.unshift('->');
    }
    tbar.unshift({ xtype: 'tbtext', text: title, baseCls: 'x-panel-header-text' });
    me.helpButton = Ext.create('Proxmox.button.Help', {
      hidden: false,
      listenToGlobalEvent: false,
      onlineHelp: me.onlineHelp || undefined,
    });
    tbar.push(me.helpButton);

    me.dockedItems = [
      {
        xtype: 'toolbar',
        overflowHandler: 'scroller',
        dock: 'left',
        style: { padding: 0, margin: 0 },
        cls: 'pve-toolbar-bg',
        items: {
          xtype: 'treelist',
          itemId: 'menu',
          ui: 'pve-nav',
          expanderOnly: true,
          expanderFirst: false,
          animation: false,
          singleExpand: false,
          listeners: {
            selectionchange: function (treeList, selection) {
              if (!selection) {
                return;
              }
              let view = this.up('panel');
              view.suspendLayout = true;
              view.activateCard(selection.data.id);
              view.suspendLayout = false;
              view.updateLayout();
            },
          },
        },
      },
      {
        xtype: 'toolbar',
        itemId: 'toolbar',
        dock: 'top',
        height: 36,
        overflowHandler: 'scroller',
        items: tbar,
      },
    ];

    me.items = me.items || [];
    if (me.showSearch) {
      me.items.unshift({
        xtype: 'pveResourceGrid',
        itemId: 'search',
        title: gettext('Search'),
        iconCls: 'fa fa-search',
        pveSelNode: me.pveSelNode,
      });
    }

    me.savedItems = {};
    if (me.items[0]) {
      me.firstItem = me.items[0].itemId;
    }
    me.store = Ext.create('Ext.data.TreeStore', { root: { expanded: true } });
    let root = me.store.getRoot();
    me.insertNodes(me.items);

    delete me.items;
    me.defaults = me.defaults || {};
    Ext.apply(me.defaults, {
      pveSelNode: me.pveSelNode,
      viewFilter: me.viewFilter,
      workspace: me.workspace,
      border: 0,
    });

    me.callParent();

    let menu = me.down('#menu');
    let selection = root.findChild('id', activeTab, true) || root.firstChild;
    for (let node = selection; node && node !== root; node = node.parentNode) {
      node.expand();
    }
    menu.setStore(me.store);
    menu.setSelection(selection);

    if (stateid) {
      // another panel (or the history) changed the saved entry: follow it
      me.mon(me.sp, 'statechange', (sp, key, state) => {
        if (key !== stateid || !state) {
          return;
        }
        let active = me.getLayout().getActiveItem().itemId;
        let wanted = state.value || me.firstItem;
        if (wanted && active !== wanted) {
          menu.setSelection(root.findChild('id', wanted, true) || root.firstChild);
        }
      });
    }
  },

  // Adds entries to the menu, at the end of their group (or of the top level). Throws
  // 'itemId already exists, please use another' for an itemId the panel already has.
  insertNodes: function (items) {
    let me = this;
    let root = me.store.getRoot();
    items.forEach((item) => {
      let treeitem = Ext.create('Ext.data.TreeModel', {
        id: item.itemId,
        text: item.title,
        iconCls: item.iconCls,
        leaf: true,
        expanded: item.expandedOnInit,
      });
      item.header = false;
      if (me.savedItems[item.itemId] !== undefined) {
        throw 'itemId already exists, please use another';
      }
      me.savedItems[item.itemId] = item;

      // walk down the groups that exist; an unknown group ends the walk there
      let curnode = root;
      while (Ext.isArray(item.groups) && item.groups.length > 0) {
        let child = curnode.findChild('id', item.groups.shift());
        if (child === null) {
          break;
        }
        curnode = child;
      }
      if (curnode.findChild('id', item.itemId) !== null) {
        throw 'id already exists';
      }
      curnode.appendChild(treeitem);
    });
  },
});

// A native view the rig does not reproduce: its title and a line saying so.
Ext.define('PVE.panel.RigStandIn', {
  extend: 'Ext.panel.Panel',
  alias: 'widget.pveRigStandIn',
  bodyPadding: 10,
  initComponent: function () {
    let me = this;
    me.html = Ext.String.format(
      '<h3>{0}</h3><p>{1}</p>',
      Ext.htmlEncode(me.title || ''),
      gettext('A Proxmox VE view the rig does not reproduce.'),
    );
    me.title = undefined;
    me.callParent();
  },
});

// The "Search" entry: every resource of the cluster (/cluster/resources).
Ext.define('PVE.grid.ResourceGrid', {
  extend: 'Ext.grid.Panel',
  alias: 'widget.pveResourceGrid',
  initComponent: function () {
    let me = this;
    me.store = Ext.create('Ext.data.Store', {
      fields: ['id', 'type', 'node', 'name', 'vmid', 'status', 'cpu', 'maxcpu', 'mem', 'maxmem', 'uptime'],
      proxy: { type: 'proxmox', url: '/api2/json/cluster/resources' },
      autoLoad: true,
    });
    me.columns = [
      { header: gettext('Type'), dataIndex: 'type', width: 80 },
      {
        header: gettext('Description'),
        dataIndex: 'id',
        flex: 1,
        renderer: (v, m, rec) => Ext.htmlEncode(rec.data.name ? `${rec.data.vmid} (${rec.data.name})` : v),
      },
      { header: gettext('Memory usage'), dataIndex: 'mem', width: 120, renderer: Proxmox.Utils.render_size },
      { header: gettext('CPU usage'), dataIndex: 'cpu', width: 140, renderer: Proxmox.Utils.render_cpu },
      { header: gettext('Uptime'), dataIndex: 'uptime', width: 120, renderer: Proxmox.Utils.render_uptime },
    ];
    me.callParent();
  },
});

// A node's summary: its status (/nodes/{node}/status).
Ext.define('PVE.node.Summary', {
  extend: 'Ext.panel.Panel',
  alias: 'widget.pveNodeSummary',
  bodyPadding: 10,
  initComponent: function () {
    let me = this;
    let nodename = me.pveSelNode.data.node;
    me.callParent();
    Proxmox.Utils.API2Request({
      url: `/nodes/${nodename}/status`,
      method: 'GET',
      waitMsgTarget: me,
      success: (response) => {
        let s = response.result.data;
        let rows = [
          [gettext('CPU usage'), `${((s.cpu || 0) * 100).toFixed(1)}%`],
          [
            gettext('RAM usage'),
            `${Proxmox.Utils.format_size(s.memory.used)} / ${Proxmox.Utils.format_size(s.memory.total)}`,
          ],
          [gettext('Uptime'), Proxmox.Utils.render_uptime(s.uptime)],
          [gettext('Manager Version'), s.pveversion || ''],
        ];
        me.update(
          `<table class="pve-rig-summary">${rows.map((r) => `<tr><th>${r[0]}</th><td>${Ext.htmlEncode(r[1])}</td></tr>`).join('')}</table>`,
        );
      },
      failure: (response) => me.update(response.htmlStatus),
    });
  },
});

Ext.define('PVE.dc.Config', {
  extend: 'PVE.panel.Config',
  alias: 'widget.PVE.dc.Config',

  onlineHelp: 'pve_admin_guide',

  initComponent: function () {
    let me = this;
    let caps = Ext.state.Manager.get('GuiCap');
    me.items = [];
    Ext.apply(me, { title: gettext('Datacenter'), hstateid: 'dctab' });

    let entry = (title, itemId, iconCls, extra) =>
      Ext.apply({ xtype: 'pveRigStandIn', title: title, itemId: itemId, iconCls: iconCls }, extra);
    if (caps.dc['Sys.Audit']) {
      me.items.push(
        entry(gettext('Summary'), 'summary', 'fa fa-book'),
        entry(gettext('Notes'), 'notes', 'fa fa-sticky-note-o'),
        entry(gettext('Cluster'), 'cluster', 'fa fa-server'),
        entry(gettext('Options'), 'options', 'fa fa-gear'),
      );
    }
    if (caps.storage['Datastore.Allocate'] || caps.dc['Sys.Audit']) {
      me.items.push(entry(gettext('Storage'), 'storage', 'fa fa-database'));
    }
    if (caps.dc['Sys.Audit']) {
      me.items.push(entry(gettext('Backup'), 'backup', 'fa fa-floppy-o'));
    }
    me.items.push(
      entry(gettext('Permissions'), 'permissions', 'fa fa-unlock'),
      entry(gettext('Users'), 'users', 'fa fa-user', { groups: ['permissions'] }),
      entry(gettext('Groups'), 'groups', 'fa fa-users', { groups: ['permissions'] }),
      entry(gettext('Roles'), 'roles', 'fa fa-male', { groups: ['permissions'] }),
    );
    if (caps.dc['Sys.Audit']) {
      me.items.push(
        entry('HA', 'ha', 'fa fa-heartbeat'),
        entry(gettext('Firewall'), 'firewall', 'fa fa-shield'),
        entry(gettext('Options'), 'firewall-options', 'fa fa-gear', { groups: ['firewall'] }),
        entry(gettext('Metric Server'), 'metricservers', 'fa fa-bar-chart'),
      );
    }
    me.items.push(entry(gettext('Support'), 'support', 'fa fa-comments-o'));
    me.callParent();
  },
});

Ext.define('PVE.node.Config', {
  extend: 'PVE.panel.Config',
  alias: 'widget.PVE.node.Config',

  onlineHelp: 'chapter_system_administration',

  initComponent: function () {
    let me = this;
    let nodename = me.pveSelNode.data.node;
    if (!nodename) {
      throw 'no node name specified';
    }
    let caps = Ext.state.Manager.get('GuiCap');
    me.items = [];
    Ext.apply(me, { title: gettext('Node') + " '" + nodename + "'", hstateid: 'nodetab' });

    let entry = (title, itemId, iconCls, extra) =>
      Ext.apply(
        { xtype: 'pveRigStandIn', title: title, itemId: itemId, iconCls: iconCls, nodename: nodename },
        extra,
      );
    if (caps.nodes['Sys.Audit']) {
      me.items.push(
        { title: gettext('Summary'), iconCls: 'fa fa-book', itemId: 'summary', xtype: 'pveNodeSummary' },
        entry(gettext('Notes'), 'notes', 'fa fa-sticky-note-o'),
      );
    }
    if (caps.nodes['Sys.Console']) {
      me.items.push(entry(gettext('Shell'), 'jsconsole', 'fa fa-terminal'));
    }
    if (caps.nodes['Sys.Audit']) {
      let inSystem = { groups: ['services'] };
      me.items.push(
        entry(gettext('System'), 'services', 'fa fa-cogs', { expandedOnInit: true }),
        entry(gettext('Network'), 'network', 'fa fa-exchange', inSystem),
        entry(gettext('Certificates'), 'certificates', 'fa fa-certificate', { groups: ['services'] }),
        entry(gettext('DNS'), 'dns', 'fa fa-globe', { groups: ['services'] }),
        entry(gettext('Time'), 'time', 'fa fa-clock-o', { groups: ['services'] }),
      );
    }
    if (caps.nodes['Sys.Syslog']) {
      me.items.push(entry('Syslog', 'syslog', 'fa fa-list', { groups: ['services'] }));
    }
    if (caps.nodes['Sys.Audit']) {
      me.items.push(
        entry(gettext('Firewall'), 'firewall', 'fa fa-shield'),
        entry(gettext('Disks'), 'storage', 'fa fa-hdd-o', { expandedOnInit: true }),
        entry('LVM', 'lvm', 'fa fa-square', { groups: ['storage'] }),
        entry(gettext('Replication'), 'replication', 'fa fa-retweet'),
      );
    }
    me.items.push(
      entry(gettext('Task History'), 'tasks', 'fa fa-list'),
      entry(gettext('Subscription'), 'support', 'fa fa-support'),
    );
    me.callParent();
  },
});

// A guest's view; the rig shows who it is and nothing more.
Ext.define('PVE.lxc.Config', {
  extend: 'PVE.panel.Config',
  alias: 'widget.PVE.lxc.Config',
  initComponent: function () {
    let me = this;
    let data = me.pveSelNode.data;
    Ext.apply(me, {
      title: Ext.String.format(
        gettext('Container {0} on node {1}'),
        `${data.vmid} (${data.name})`,
        data.node,
      ),
      hstateid: 'lxctab',
      items: [
        { xtype: 'pveRigStandIn', title: gettext('Summary'), itemId: 'summary', iconCls: 'fa fa-book' },
      ],
    });
    me.callParent();
  },
});

// The server view: Datacenter, its node(s), their guests (/cluster/resources, refreshed).
// The selection is the state 'rid' (the node's id: 'root', 'node/pve1', 'lxc/100'), kept in
// the URL hash: saved on select, applied on the first load and when the history changes it.
Ext.define('PVE.tree.ResourceTree', {
  extend: 'Ext.tree.TreePanel',
  alias: 'widget.pveResourceTree',

  rootVisible: true,
  useArrows: true,

  initComponent: function () {
    let me = this;
    me.store = Ext.create('Ext.data.TreeStore', {
      root: {
        id: 'root',
        text: gettext('Datacenter'),
        type: 'root',
        iconCls: 'fa fa-server',
        expanded: true,
      },
    });
    me.callParent();
    let sp = Ext.state.Manager.getProvider();
    me.mon(sp, 'statechange', (_sp, key, state) => {
      if (key === 'rid') {
        me.applyState(state);
      }
    });
    me.getSelectionModel().on('select', (_sm, node) => sp.set('rid', { value: node.getId() }));
  },

  // selects (and shows) the node of this id, if there is one
  selectById: function (nodeid) {
    let me = this;
    let root = me.getStore().getRoot();
    let node = nodeid === 'root' ? root : root.findChild('id', nodeid, true);
    let sm = me.getSelectionModel();
    if (node && !sm.isSelected(node)) {
      sm.select(node);
      for (let parent = node.parentNode; parent; parent = parent.parentNode) {
        parent.expand();
      }
    }
    return node;
  },

  // a saved 'rid' state: select its node, none for no value
  applyState: function (state) {
    let me = this;
    if (state && state.value) {
      me.selectById(state.value);
    } else {
      me.getSelectionModel().deselectAll();
    }
  },

  setDatacenterText: function (clustername) {
    let text = gettext('Datacenter');
    this.getStore()
      .getRoot()
      .set('text', clustername ? `${text} (${clustername})` : text);
  },

  // merges /cluster/resources into the tree: adds new, updates, removes gone entries
  updateTree: function (resources) {
    let me = this;
    let root = me.getStore().getRoot();
    let seen = {};
    let upsert = (parent, data) => {
      seen[data.id] = true;
      let node = me.getStore().getNodeById(data.id);
      if (node) {
        node.set(data);
        return node;
      }
      return parent.appendChild(data);
    };
    resources
      .filter((r) => r.type === 'node')
      .forEach((r) => {
        upsert(root, {
          id: r.id,
          text: r.node,
          type: 'node',
          node: r.node,
          iconCls: 'fa fa-building',
          leaf: false,
          expanded: true,
        });
      });
    resources
      .filter((r) => r.type === 'lxc')
      .sort((a, b) => a.vmid - b.vmid)
      .forEach((r) => {
        let parent = me.getStore().getNodeById(`node/${r.node}`) || root;
        upsert(parent, {
          id: r.id,
          text: `${r.vmid} (${r.name})`,
          type: 'lxc',
          node: r.node,
          vmid: r.vmid,
          name: r.name,
          status: r.status,
          iconCls: `fa fa-cube ${r.status === 'running' ? 'running' : 'stopped'}`,
          leaf: true,
        });
      });
    let gone = [];
    root.cascadeBy((node) => {
      if (node !== root && !seen[node.getId()]) {
        gone.push(node);
      }
    });
    gone.forEach((node) => node.remove());
  },
});

// The login window: user name, password, realm -> POST /access/ticket.
Ext.define('PVE.window.LoginWindow', {
  extend: 'Ext.window.Window',

  title: gettext('Proxmox VE Login'),
  modal: true,
  closable: false,
  resizable: false,
  draggable: false,
  width: 400,
  layout: 'fit',
  defaultFocus: 'usernameField',

  // called with the ticket answer's data after a successful login
  handler: Ext.emptyFn,

  onLogin: function () {
    let me = this;
    let form = me.down('form').getForm();
    if (!form.isValid()) {
      return;
    }
    me.el.mask(gettext('Please wait...'), 'x-mask-loading');
    Proxmox.Utils.API2Request({
      url: '/api2/extjs/access/ticket',
      method: 'POST',
      params: form.getValues(),
      success: (response) => {
        me.el.unmask();
        me.handler.call(me, response.result.data);
        me.close();
      },
      failure: () => {
        me.el.unmask();
        Ext.MessageBox.alert(gettext('Error'), gettext('Login failed. Please try again'), () => {
          me.down('#usernameField').focus(true, true);
        });
      },
    });
  },

  initComponent: function () {
    let me = this;
    let submitOnEnter = {
      specialkey: (field, e) => {
        if (e.getKey() === e.ENTER) {
          me.onLogin();
        }
      },
    };
    me.items = {
      xtype: 'form',
      bodyPadding: 15,
      defaults: { anchor: '100%', labelWidth: 120, listeners: submitOnEnter },
      items: [
        {
          xtype: 'textfield',
          fieldLabel: gettext('User name'),
          name: 'username',
          itemId: 'usernameField',
          allowBlank: false,
          blankText: gettext('Enter your user name'),
        },
        {
          xtype: 'textfield',
          inputType: 'password',
          fieldLabel: gettext('Password'),
          name: 'password',
          itemId: 'passwordField',
          allowBlank: false,
        },
        {
          xtype: 'combobox',
          fieldLabel: gettext('Realm'),
          name: 'realm',
          itemId: 'realmField',
          editable: false,
          queryMode: 'local',
          valueField: 'realm',
          displayField: 'comment',
          value: 'pam',
          store: {
            fields: ['realm', 'comment'],
            autoLoad: true,
            proxy: { type: 'proxmox', url: '/api2/json/access/domains' },
          },
        },
      ],
    };
    me.buttons = [{ text: gettext('Login'), itemId: 'loginButton', handler: () => me.onLogin() }];
    me.callParent();
  },
});

// The viewport: the login, the auth data, the renewal of the ticket.
Ext.define('PVE.Workspace', {
  extend: 'Ext.container.Viewport',

  title: 'Proxmox Virtual Environment',
  loginData: null,

  updateLoginData: function (loginData) {
    let me = this;
    me.loginData = loginData;
    Proxmox.Utils.setAuthData(loginData);
    if (loginData.cap) {
      Ext.state.Manager.set('GuiCap', loginData.cap);
    }
    me.onLogin(loginData);
  },

  showLogin: function () {
    let me = this;
    Proxmox.Utils.authClear();
    Ext.state.Manager.clear('GuiCap');
    Proxmox.UserName = null;
    me.loginData = null;
    if (!me.login) {
      me.login = Ext.create('PVE.window.LoginWindow', {
        handler: (data) => {
          me.login = null;
          me.updateLoginData(data);
        },
      });
    }
    me.onLogin(null);
    me.login.show();
  },

  // a ticket is good for 2 hours: renew it with itself as the password (also at start)
  renewTicket: function () {
    let me = this;
    let ticket = Proxmox.Utils.authOK();
    if (!ticket || !Proxmox.UserName) {
      return;
    }
    Ext.Ajax.request({
      url: '/api2/json/access/ticket',
      method: 'POST',
      params: { username: Proxmox.UserName, password: ticket },
      success: (response) => me.updateLoginData(Ext.decode(response.responseText).data),
      failure: () => me.showLogin(),
    });
  },

  initComponent: function () {
    let me = this;
    Ext.History.init(); // the state provider reads and writes the URL hash
    Ext.state.Manager.setProvider(Ext.create('PVE.StateProvider'));
    document.title = me.title;
    me.callParent();
    Ext.Ajax.on('requestexception', (conn, response) => {
      if (response.status === 401 && !me.login) {
        me.showLogin();
      }
    });
    if (!Proxmox.Utils.authOK()) {
      me.showLogin();
      me.updateLayout();
    }
    Ext.TaskManager.start({ run: () => me.renewTicket(), interval: 15 * 60 * 1000, fireOnStart: true });
  },
});

Ext.define('PVE.StdWorkspace', {
  extend: 'PVE.Workspace',

  // the content area shows the config panel of what is selected in the tree
  setContent: function (comp) {
    let content = this.down('#content');
    content.removeAll();
    if (comp) {
      content.add(comp);
    }
  },

  selectResource: function (node) {
    let me = this;
    let xtypes = { root: 'PVE.dc.Config', node: 'PVE.node.Config', lxc: 'PVE.lxc.Config' };
    let xtype = node && xtypes[node.data.type];
    if (!xtype) {
      me.setContent(null);
      return;
    }
    me.setContent({
      xtype: xtype,
      showSearch: node.getId() === 'root', // as PVE's: the Search entry on the Datacenter only
      pveSelNode: node,
      workspace: me,
      border: false,
    });
  },

  onLogin: function (loginData) {
    let me = this;
    me.down('#userinfo').setText(loginData ? Ext.htmlEncode(Proxmox.UserName) : '');
    me.down('#userinfo').setHidden(!loginData);
    let tree = me.down('pveResourceTree');
    if (!loginData) {
      // PVE clears the tree: nothing to select until the next login's first load
      tree.getSelectionModel().deselectAll();
      tree.getStore().getRoot().removeAll();
      me.setContent(null);
      if (me.resourceTask) {
        Ext.TaskManager.stop(me.resourceTask);
        me.resourceTask = null;
      }
      return;
    }
    let first = !me.resourceTask;
    let load = () =>
      Proxmox.Utils.API2Request({
        url: '/cluster/resources',
        method: 'GET',
        success: (response) => {
          tree.updateTree(response.result.data);
          if (first) {
            // the first load after a login selects what the state (the URL hash) says
            first = false;
            tree.applyState(Ext.state.Manager.getProvider().get('rid'));
          }
        },
      });
    if (!me.resourceTask) {
      me.resourceTask = { run: load, interval: 10 * 1000, fireOnStart: true };
      Ext.TaskManager.start(me.resourceTask);
    }
  },

  initComponent: function () {
    let me = this;
    Ext.apply(me, {
      layout: 'border',
      border: false,
      items: [
        {
          region: 'north',
          xtype: 'toolbar',
          itemId: 'header',
          cls: 'pve-rig-header',
          height: 40,
          items: [
            { xtype: 'tbtext', html: '<b>Proxmox</b> Virtual Environment', cls: 'pve-rig-logo' },
            { xtype: 'tbtext', html: '9.0.10 (rig)', cls: 'pve-rig-version' },
            '->',
            {
              xtype: 'button',
              itemId: 'userinfo',
              iconCls: 'fa fa-user',
              hidden: true,
              menu: [
                {
                  text: gettext('Logout'),
                  itemId: 'logoutButton',
                  iconCls: 'fa fa-fw fa-sign-out',
                  handler: () => me.showLogin(),
                },
              ],
            },
          ],
        },
        {
          region: 'west',
          xtype: 'pveResourceTree',
          itemId: 'resourcetree',
          width: 220,
          split: true,
          listeners: { selectionchange: (sm, selected) => me.selectResource(selected[0]) },
        },
        { region: 'center', xtype: 'container', itemId: 'content', layout: 'fit' },
      ],
    });
    me.callParent();
  },
});
