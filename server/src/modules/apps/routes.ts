import { Router, type Request } from 'express';
import { z } from 'zod';
import { parseInput } from '../../core/http/validate.js';
import { callerOf } from '../auth/middleware.js';
import type { AuthService } from '../auth/service.js';
import { adoptInputSchema, deployInputSchema, hostnameParam, resourcesInputSchema } from './app.js';
import type { AppsService } from './service.js';

const commandParam = hostnameParam.extend({ name: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/) });
const logsQuery = z.strictObject({ lines: z.coerce.number().int().min(1).max(2000).default(200) });
const statsQuery = z.strictObject({ timeframe: z.enum(['hour', 'day', 'week']).default('hour') });

/**
 * /api/v1/apps. Privileges are PVE's, on the app's container (`/vms/<vmid>`), as PVE checks
 * them for the same actions in its own UI: VM.Audit to see, VM.PowerMgmt to start/stop,
 * VM.Config.CPU/Memory to resize, VM.Console to run a safe command, VM.Allocate (and
 * Datastore.AllocateSpace on the root disk's storage) to deploy, adopt or delete.
 */
export function appRoutes(deps: { apps: AppsService; auth: AuthService; rootfsStorage: string }): Router {
  const { apps, auth } = deps;
  const router = Router();
  /** The app named in the path, after checking `privilege` on its container. */
  const appFor = (req: Request, privilege: string | string[]) => {
    const { hostname } = parseInput(hostnameParam, { hostname: req.params.hostname }, 'path');
    const app = apps.require(hostname);
    const path = app.vmid === null ? '/vms' : `/vms/${app.vmid}`;
    for (const each of [privilege].flat()) auth.require(callerOf(req), each, path);
    return app;
  };

  router.get('/apps', async (req, res) => {
    const { apps: list, pve } = await apps.list(callerOf(req));
    res.json({ data: list, total: list.length, pve });
  });
  router.post('/apps', async (req, res) => {
    const caller = callerOf(req);
    auth.require(caller, 'VM.Allocate', '/vms');
    auth.require(caller, 'Datastore.AllocateSpace', `/storage/${deps.rootfsStorage}`);
    const input = parseInput(deployInputSchema, req.body, 'deploy');
    const { app, taskId } = await apps.deploy(caller, input);
    res.status(202).location(`/api/v1/tasks/${taskId}`).json({ data: { taskId, app } });
  });
  router.post('/apps/adopt', async (req, res) => {
    const input = parseInput(adoptInputSchema, req.body, 'adopt');
    auth.require(callerOf(req), 'VM.Allocate', `/vms/${input.vmid}`);
    res.status(201).json({ data: await apps.adopt(callerOf(req), input) });
  });
  router.get('/apps/:hostname', async (req, res) => {
    const app = appFor(req, 'VM.Audit');
    res.json({ data: await apps.get(app.hostname) });
  });
  router.delete('/apps/:hostname', (req, res) => {
    const app = appFor(req, 'VM.Allocate');
    const taskId = apps.remove(callerOf(req), app.hostname);
    res.status(202).location(`/api/v1/tasks/${taskId}`).json({ data: { taskId } });
  });
  for (const action of ['start', 'stop', 'restart'] as const) {
    router.post(`/apps/:hostname/${action}`, async (req, res) => {
      const app = appFor(req, 'VM.PowerMgmt');
      res.json({ data: await apps.power(callerOf(req), app.hostname, action) });
    });
  }
  router.put('/apps/:hostname/resources', async (req, res) => {
    const app = appFor(req, ['VM.Config.CPU', 'VM.Config.Memory']);
    const change = parseInput(resourcesInputSchema, req.body, 'resources');
    res.json({ data: await apps.setResources(callerOf(req), app.hostname, change) });
  });
  router.get('/apps/:hostname/logs', async (req, res) => {
    const app = appFor(req, 'VM.Audit');
    const { lines } = parseInput(logsQuery, req.query, 'query');
    res.json({ data: await apps.logs(app.hostname, lines) });
  });
  router.get('/apps/:hostname/stats', async (req, res) => {
    const app = appFor(req, 'VM.Audit');
    const { timeframe } = parseInput(statsQuery, req.query, 'query');
    res.json({ data: await apps.stats(app.hostname, timeframe) });
  });
  router.get('/apps/:hostname/commands', (req, res) => {
    const app = appFor(req, 'VM.Audit');
    res.json({ data: apps.commands(app.hostname) });
  });
  router.post('/apps/:hostname/commands/:name', async (req, res) => {
    const app = appFor(req, 'VM.Console');
    const { name } = parseInput(commandParam, req.params, 'path');
    res.json({ data: await apps.runCommand(callerOf(req), app.hostname, name) });
  });
  router.post('/apps/:hostname/secrets', (req, res) => {
    const app = appFor(req, 'VM.Allocate');
    res.json({ data: apps.takeSecrets(callerOf(req), app.hostname) });
  });
  return router;
}
