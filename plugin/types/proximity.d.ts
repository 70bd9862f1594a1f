// Globals the plugin relies on that no typings package describes: the build-time constant
// webpack defines, the Proxmox VE page's globals, ExtJS 6 members missing from
// @types/extjs (4.2), and the shape of our own singletons (defined with Ext.define).

/** The package version, injected by webpack's DefinePlugin. */
declare const PROXIMITY_VERSION: string;

/** pve-manager's index page defines it (translation lookup; identity without a language file). */
declare function gettext(text: string): string;

/**
 * `this` inside an Ext.define'd method. @types/extjs marks callParent optional (it exists
 * only on defined classes); inside our methods it always exists.
 */
type ExtThis<T> = Required<Omit<T, 'callParent'>> & {
  callParent(args?: unknown): unknown;
  isDestroyed: boolean;
};

/** A store as our views use it (@types/extjs marks every member optional). */
type ExtStore = Required<Ext.data.IStore> & { loadData(rows: object[]): void };

/** What Ext.create gives back for a config object (ExtJS 6 accepts `Ext.create({xtype, ...})`). */
interface CreatedComponent {
  show(): unknown;
  on(event: string, fn: (...args: unknown[]) => unknown, scope?: unknown): unknown;
  destroy(): void;
}

declare namespace Ext {
  function create(config: Record<string, unknown>): CreatedComponent;
}

/** What PVE keeps in Ext.state.Manager 'GuiCap' (from the login ticket's `cap`). */
interface PveCaps {
  vms?: Record<string, number>;
  nodes?: Record<string, number>;
  dc?: Record<string, number>;
  storage?: Record<string, number>;
  access?: Record<string, number>;
}

/** A PVE.panel.Config (Datacenter or Node): what our override touches. */
interface PveConfigPanel {
  hstateid?: string;
  pveSelNode?: { data: { node?: string; id?: string; text?: string } };
  sp: { get(key: string): { value?: string } | undefined };
  savedItems: Record<string, unknown>;
  selectById?(cardId: string): string;
  insertNodes(items: Record<string, unknown>[]): void;
  down(selector: string): unknown;
  store: { getRoot(): { findChild(key: string, value: string, deep?: boolean): unknown } };
}

declare const Proxmox: { CSRFPreventionToken?: string; UserName?: string };

/** An error answered by our API: `{error: {code, message, fields}}`, or unreachable (status 0). */
interface ProximityError extends Error {
  status: number;
  code: string;
  fields: Record<string, string>;
}

/**
 * The task views are the contract's (server/src/contract/tasks.ts). `import()` types, since a
 * top-level import would turn this file of globals into a module.
 */
/* eslint-disable @typescript-eslint/consistent-type-imports */
type ProximityTaskStep = import('../../server/src/contract/tasks').TaskStep;
type ProximityTask = import('../../server/src/contract/tasks').TaskView;
type ProximityTaskLogLine = import('../../server/src/contract/tasks').TaskLogLine;
/* eslint-enable @typescript-eslint/consistent-type-imports */

interface TaskHandlers {
  task(task: ProximityTask): void;
  log?(line: ProximityTaskLogLine): void;
  /** The stream broke (backend gone); the caller decides whether to poll. */
  lost?(): void;
}

interface ProximityApiSingleton {
  available: boolean | null;
  baseUrl(): string;
  serviceUrl(): string;
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ data: T } & Record<string, unknown>>;
  get<T = unknown>(path: string): Promise<T>;
  probe(): Promise<boolean>;
  follow(taskId: string, handlers: TaskHandlers): () => void;
  on(event: 'availability', fn: (available: boolean) => void, scope?: unknown, options?: unknown): unknown;
  un(event: 'availability', fn: (available: boolean) => void, scope?: unknown): unknown;
}

interface ProximityUtilsSingleton {
  store(config: { fields: unknown[]; idProperty: string; sorters?: object[] }): ExtStore;
  caps(): PveCaps;
  hasCap(section: keyof PveCaps, privilege: string): boolean;
  statusRenderer(status: string): string;
  healthRenderer(health: string | null | undefined): string;
  linkRenderer(url: string | null | undefined): string;
  addressRenderer(app: { kind?: string; url: string; address?: string }): string;
  bytes(value: number | null | undefined): string;
  percent(value: number | null | undefined): string;
  time(value: string | null | undefined): string;
  duration(seconds: number | null | undefined): string;
  encode(value: unknown): string;
  showError(error: unknown, form?: unknown): void;
  mergeInto(store: unknown, rows: object[]): void;
  poll(owner: unknown, intervalMs: number, fn: () => Promise<unknown> | void): void;
}

interface ProximityAppIconSingleton {
  color(id: string): string;
  letter(name: string): string;
  html(app: { id: string; name: string; icon?: string | null | undefined }, size?: number): string;
}

declare namespace Proximity {
  const AppIcon: ProximityAppIconSingleton;
  const Api: ProximityApiSingleton;
  const Utils: ProximityUtilsSingleton;
  const Menu: { visible(): boolean; insertInto(panel: PveConfigPanel, node?: string): void };
}
