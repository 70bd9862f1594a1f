import { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../../core/http/validate.js';
import { requirePrivilege } from '../auth/middleware.js';
import type { AuthService } from '../auth/service.js';
import type { AuditRepository } from './repository.js';

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** GET /api/v1/audit: who changed what, when, and how it ended. */
export function auditRoutes(repository: AuditRepository, auth: AuthService): Router {
  const router = Router();
  // Who did what is for those who may audit the node, as PVE's own task log.
  router.get('/audit', requirePrivilege(auth, 'Sys.Audit', '/'), (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    const { total, entries } = repository.list(query.limit, query.offset);
    res.json({ data: entries, total, limit: query.limit, offset: query.offset });
  });
  return router;
}
