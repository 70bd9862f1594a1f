import { RESERVED_HOSTNAMES } from '../../contract/rules.js';
import type { ModuleFactory } from '../../core/module.js';
import { reservedNames, syncNames, type NameDuplicate } from './sync.js';

/**
 * The name registry's module: at start it claims Proximity's own names (the contract's
 * reserved names and the appliance's hostname) and checks that the registry and the rows
 * that own names agree; names two rows hold (a database from before the registry) are
 * reported in the log and the status, never a failed start. Listed first: every other
 * module's rows claim their names through the registry (registry.ts).
 */
export const namesModule: ModuleFactory = ({ config, store, logger }) => {
  const log = logger.child({ module: 'names' });
  const reserved = reservedNames(RESERVED_HOSTNAMES, config.network.appliance.hostname);
  let duplicates: NameDuplicate[] = [];
  const sync = () => (duplicates = syncNames(store.db, reserved));
  return {
    name: 'names',
    start: () => {
      sync();
      for (const duplicate of duplicates) log.warn({ duplicate }, `duplicate name: ${duplicate.message}`);
    },
    status: () => {
      // Cheap (one read of the owning rows) and heals itself: once one of a duplicate's rows
      // is gone, the other's name is registered.
      if (duplicates.length > 0) sync();
      return {
        health: duplicates.length > 0 ? 'degraded' : 'healthy',
        ...(duplicates.length > 0 ? { reasons: duplicates.map((d) => d.message) } : {}),
        duplicates: duplicates.map(({ name, kind, owner, heldBy }) => ({ name, kind, owner, heldBy })),
      };
    },
  };
};
