// Globals the plugin relies on that no typings package describes: the build-time
// constants webpack defines, and the parts of ExtJS's class system our classes use.

/** The package version, injected by webpack's DefinePlugin. */
declare const PROXIMITY_VERSION: string;

/**
 * `this` inside an Ext.define'd method. @types/extjs marks callParent optional (it exists
 * only on defined classes); inside our methods it always exists.
 */
type ExtThis<T> = Omit<T, 'callParent'> & { callParent(args?: unknown): unknown };
