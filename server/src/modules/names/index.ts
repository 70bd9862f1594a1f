/**
 * The name registry's public surface: every name unique across kinds in one table. A
 * repository claims its rows' names with `NameRegistry` in the same transaction as the row.
 */
export { NameRegistry, nameTaken, type NameHolder, type NameKind } from './registry.js';
export { namesModule } from './module.js';
