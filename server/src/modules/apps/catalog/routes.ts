import { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../../../core/http/validate.js';
import type { AuditRepository } from '../../audit/repository.js';
import { callerOf, requirePrivilege } from '../../auth/middleware.js';
import type { AuthService } from '../../auth/service.js';
import { catalogQuerySchema } from '../../../contract/catalog.js';
import { appIdSchema } from './manifest.js';
import type { CatalogService } from './service.js';

const listQuery = catalogQuerySchema;
const idParam = z.strictObject({ id: appIdSchema });

/**
 * The catalog under /api/v1/catalog.
 *
 * Reading the catalog needs VM.Audit on /vms: it is the list of what can be deployed as
 * guests, so whoever may see guests may see it, including users whose role covers only
 * /vms (PVEVMAdmin, PVEVMUser) and who would be locked out by a node-level Sys.Audit on /.
 * Its problems name files and directories on the node and come from the node's
 * configuration: Sys.Audit on /, as the network's and proxy's status. Reloading changes what
 * the node offers: Sys.Modify on /.
 */
export function catalogRoutes(deps: {
  catalog: CatalogService;
  audit: AuditRepository;
  auth: AuthService;
}): Router {
  const { catalog, audit, auth } = deps;
  const router = Router();
  const canRead = requirePrivilege(auth, 'VM.Audit', '/vms');
  const canAudit = requirePrivilege(auth, 'Sys.Audit', '/');
  const canModify = requirePrivilege(auth, 'Sys.Modify', '/');

  router.get('/catalog', canRead, (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    res.json({ data: catalog.list(query) });
  });
  // Before /catalog/:id, which would otherwise take "problems" for an id.
  router.get('/catalog/problems', canAudit, (_req, res) => {
    res.json({ data: catalog.problems() });
  });
  router.post('/catalog/reload', canModify, async (req, res) => {
    const report = await catalog.reload();
    audit.append({
      actor: callerOf(req).id,
      action: 'catalog.reload',
      target: null,
      result: 'ok',
      details: { ...report.counts },
    });
    res.json({ data: report });
  });
  router.get('/catalog/:id', canRead, (req, res) => {
    const { id } = parseInput(idParam, req.params, 'path');
    res.json({ data: catalog.require(id) });
  });
  return router;
}
