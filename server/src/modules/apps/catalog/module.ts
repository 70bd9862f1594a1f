import type { ModuleFactory } from '../../../core/module.js';
import { catalogRoutes } from './routes.js';
import { CatalogService } from './service.js';

/** The app catalog: manifests from `apps.catalogDirs` and `apps.communityScriptsDirs`. */
export const catalogModule: ModuleFactory = ({ config, logger, auth, services }) => {
  const catalog = new CatalogService({
    catalogDirs: config.apps.catalogDirs,
    communityScriptsDirs: config.apps.communityScriptsDirs,
    logger: logger.child({ module: 'catalog' }),
  });
  services.provide('catalog', catalog);
  return {
    name: 'catalog',
    // Loading never throws: a bad file is a problem of the catalog, not of the start-up.
    start: async () => void (await catalog.reload()),
    router: catalogRoutes({ catalog, audit: services.get('audit'), auth }),
    status: () => {
      const { counts } = catalog.report();
      const reasons = [
        ...(counts.errors > 0
          ? [`${counts.errors} problem(s) in catalog files (GET /api/v1/catalog/problems)`]
          : []),
        ...(counts.entries === 0 ? ['the catalog is empty'] : []),
      ];
      return {
        health: reasons.length > 0 ? 'degraded' : 'healthy',
        ...(reasons.length > 0 ? { reasons } : {}),
        entries: counts.entries,
        bySource: counts.bySource,
      };
    },
  };
};

declare module '../../../core/module.js' {
  interface ProvidedServices {
    catalog: CatalogService;
  }
}
