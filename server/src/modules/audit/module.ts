import type { ModuleFactory } from '../../core/module.js';
import { AuditRepository } from './repository.js';
import { auditRoutes } from './routes.js';

export const auditModule: ModuleFactory = ({ store, auth }) => {
  const repository = new AuditRepository(store.db);
  return { name: 'audit', router: auditRoutes(repository, auth) };
};
