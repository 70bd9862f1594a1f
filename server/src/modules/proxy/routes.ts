import { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../../core/http/validate.js';
import type { AuditRepository } from '../audit/repository.js';
import { callerOf, requirePrivilege } from '../auth/middleware.js';
import type { AuthService } from '../auth/service.js';
import { hostnameSchema } from '../network/addresses.js';
import { metricsInputSchema, routeInputSchema } from '../../contract/proxy.js';
import type { ProxyService } from './service.js';

const idParam = z.strictObject({ id: hostnameSchema });

/**
 * Routes CRUD under /api/v1/routes and the proxy's status, CA root and metrics under
 * /api/v1/system/proxy. Reading needs Sys.Audit on /, changing Sys.Modify on /.
 */
export function proxyRoutes(deps: {
  proxy: ProxyService;
  audit: AuditRepository;
  auth: AuthService;
}): Router {
  const { proxy, audit, auth } = deps;
  const router = Router();
  const canRead = requirePrivilege(auth, 'Sys.Audit', '/');
  const canModify = requirePrivilege(auth, 'Sys.Modify', '/');

  router.get('/routes', canRead, (_req, res) => {
    res.json({ data: proxy.routes() });
  });
  router.get('/routes/:id', canRead, (req, res) => {
    const { id } = parseInput(idParam, req.params, 'path');
    res.json({ data: proxy.route(id) });
  });
  router.post('/routes', canModify, async (req, res) => {
    const input = parseInput(routeInputSchema, req.body, 'route');
    const route = await proxy.create(input);
    audit.append({ actor: callerOf(req).id, action: 'route.create', target: route.id, result: 'ok' });
    res.status(201).json({ data: route });
  });
  router.put('/routes/:id', canModify, async (req, res) => {
    const { id } = parseInput(idParam, req.params, 'path');
    const input = parseInput(routeInputSchema, req.body, 'route');
    const route = await proxy.replace(id, input);
    audit.append({ actor: callerOf(req).id, action: 'route.update', target: id, result: 'ok' });
    res.json({ data: route });
  });
  router.delete('/routes/:id', canModify, async (req, res) => {
    const { id } = parseInput(idParam, req.params, 'path');
    const applied = await proxy.delete(id);
    audit.append({ actor: callerOf(req).id, action: 'route.delete', target: id, result: 'ok' });
    res.json({ data: applied });
  });

  router.post('/system/proxy/discover', canModify, async (_req, res) => {
    res.json({ data: await proxy.discover() });
  });
  router.get('/system/proxy/status', canRead, async (_req, res) => {
    res.json({ data: await proxy.status() });
  });
  router.put('/system/proxy/metrics', canModify, async (req, res) => {
    const { enabled } = parseInput(metricsInputSchema, req.body, 'body');
    res.json({ data: await proxy.setMetrics(enabled) });
  });
  router.get('/system/proxy/metrics', canRead, async (_req, res) => {
    const caddy = await proxy.caddy();
    res.type('text/plain; version=0.0.4').send(await caddy.metrics());
  });
  router.get('/system/proxy/ca.crt', canRead, async (_req, res) => {
    const caddy = await proxy.caddy();
    const pem = caddy.rootCertificate();
    if (!pem) {
      res.status(404).json({
        error: { code: 'not_found', message: 'no internal CA yet: it is made with the first TLS route' },
      });
      return;
    }
    res.type('application/x-x509-ca-cert').attachment('proximity-root-ca.crt').send(pem);
  });
  return router;
}
