import type { ModuleFactory } from '../../core/module.js';
import { AuditRepository } from './repository.js';
import { auditRoutes } from './routes.js';

/**
 * The audit log: one repository that every module records its changes through
 * (`services.get('audit')`), and the route that lists it. Listed before the modules that use it.
 */
export const auditModule: ModuleFactory = ({ store, auth, services }) => {
  const repository = new AuditRepository(store.db);
  services.provide('audit', repository);
  return { name: 'audit', router: auditRoutes(repository, auth) };
};

declare module '../../core/module.js' {
  interface ProvidedServices {
    audit: AuditRepository;
  }
}
