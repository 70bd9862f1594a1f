// Entry point of proximity.js: each import registers one class with Ext.define. Singletons
// first (the views use them while they are built), then views, then the overrides of PVE's
// config panels that insert the entries (pvemanagerlib.js has defined those by now).
import './Utils';
import './AppIcon';
import './Api';
import './Menu';
import './panel/Unavailable';
import './panel/View';
import './grid/Live';
import './panel/Overview';
import './panel/Apps';
import './panel/Catalog';
import './panel/Network';
import './panel/NetworkSettings';
import './panel/Proxy';
import './panel/Tasks';
import './panel/Audit';
import './grid/Leases';
import './grid/Reservations';
import './window/Edit';
import './window/TaskProgress';
import './window/Deploy';
import './window/Logs';
import './window/Command';
import './window/Resources';
import './window/AppDetail';
import './window/Reservation';
import './window/RouteEdit';
import './override/DcConfig';
import './override/NodeConfig';
