import { Router, type Request } from 'express';
import {
  ACTION_PRIVILEGES,
  adoptInputSchema,
  commandParam,
  deployInputSchema,
  hostnameParam,
  logsQuery,
  resourcesInputSchema,
  statsQuery,
  type AppAction,
} from '../../contract/apps.js';
import { LEGACY_FIELDS, renameLegacyFields } from '../../contract/rules.js';
import { AppError } from '../../core/errors.js';
import { parseInput } from '../../core/http/validate.js';
import { callerOf } from '../auth/middleware.js';
import { hasPrivilege, type PermissionMap } from '../auth/permissions.js';
import type { AuthService } from '../auth/service.js';
import type { AppsService } from './service.js';

/**
 * Runs `handle` on `body` with its legacy snake_case field names spelt the current way
 * (`docs/api.md`); a field error names the field as the client spelt it.
 */
async function withLegacyNames<T>(
  body: unknown,
  legacy: Readonly<Record<string, string>>,
  handle: (body: unknown) => Promise<T>,
): Promise<T> {
  const { body: current, renamed } = renameLegacyFields(body, legacy);
  try {
    return await handle(current);
  } catch (error) {
    if (!(error instanceof AppError) || !error.fields || renamed.size === 0) throw error;
    const fields = Object.fromEntries(
      Object.entries(error.fields).map(([field, message]) => {
        const [head = '', ...rest] = field.split('.');
        return [[renamed.get(head) ?? head, ...rest].join('.'), message];
      }),
    );
    throw new AppError(error.status, error.code, error.message, fields, { cause: error });
  }
}

/**
 * /api/v1/apps. Privileges are PVE's, on the app's container (`/vms/<vmid>`), as PVE checks
 * them for the same actions in its own UI: VM.Audit to see, VM.PowerMgmt to start/stop,
 * VM.Config.CPU/Memory to resize, VM.Console to run a safe command, VM.Allocate (and
 * Datastore.AllocateSpace on the root disk's storage) to deploy, adopt or delete.
 */
/** What each permission map allows on each container path (maps are never changed once made). */
const allowedCache = new WeakMap<PermissionMap, Map<string, Readonly<Record<AppAction, boolean>>>>();

/** GET /apps's body per list (a list is made per caller's permission map, see AppsService.list). */
const listBodies = new WeakMap<readonly unknown[], string>();

export function appRoutes(deps: { apps: AppsService; auth: AuthService; rootfsStorage: string }): Router {
  const { apps, auth } = deps;
  const router = Router();
  const containerPath = (app: { vmid: number | null }) => (app.vmid === null ? '/vms' : `/vms/${app.vmid}`);
  /** The app named in the path, after checking the action's privileges on its container. */
  const appFor = (req: Request, action: AppAction) => {
    const { hostname } = parseInput(hostnameParam, { hostname: req.params.hostname }, 'path');
    const app = apps.require(hostname);
    for (const each of ACTION_PRIVILEGES[action]) auth.require(callerOf(req), each, containerPath(app));
    return app;
  };
  /**
   * What the caller may do to an app, so a UI can disable what would be refused instead of
   * failing after the click. The routes still check every request.
   */
  const withAllowed = <T extends { vmid: number | null }>(req: Request, app: T) => {
    const { permissions } = callerOf(req);
    // Per caller's permission map (kept while auth caches it) and container: a list polled
    // every few seconds asks the same questions each time.
    let known = allowedCache.get(permissions);
    if (!known) allowedCache.set(permissions, (known = new Map()));
    const path = containerPath(app);
    let allowed = known.get(path);
    if (!allowed) {
      allowed = Object.fromEntries(
        Object.entries(ACTION_PRIVILEGES).map(([action, privileges]) => [
          action,
          privileges.every((privilege) => hasPrivilege(permissions, path, privilege)),
        ]),
      ) as Record<AppAction, boolean>;
      known.set(path, allowed);
    }
    return { ...app, allowed };
  };

  router.get('/apps', async (req, res) => {
    const { apps: list, pve } = await apps.list(callerOf(req));
    // The list is the same object while nothing changed (AppsService.list): so is its body.
    let body = listBodies.get(list);
    if (body === undefined) {
      body = JSON.stringify({ data: list.map((app) => withAllowed(req, app)), total: list.length, pve });
      listBodies.set(list, body);
    }
    res.type('json').send(body);
  });
  router.post('/apps', async (req, res) => {
    const caller = callerOf(req);
    auth.require(caller, 'VM.Allocate', '/vms');
    auth.require(caller, 'Datastore.AllocateSpace', `/storage/${deps.rootfsStorage}`);
    const { app, taskId } = await withLegacyNames(req.body, LEGACY_FIELDS.deploy, (body) =>
      apps.deploy(caller, parseInput(deployInputSchema, body, 'deploy')),
    );
    res.status(202).location(`/api/v1/tasks/${taskId}`).json({ data: { taskId, app } });
  });
  router.post('/apps/adopt', async (req, res) => {
    const app = await withLegacyNames(req.body, LEGACY_FIELDS.adopt, (body) => {
      const input = parseInput(adoptInputSchema, body, 'adopt');
      auth.require(callerOf(req), 'VM.Allocate', `/vms/${input.vmid}`);
      return apps.adopt(callerOf(req), input);
    });
    res.status(201).json({ data: app });
  });
  router.get('/apps/:hostname', async (req, res) => {
    const app = appFor(req, 'read');
    res.json({ data: withAllowed(req, await apps.get(app.hostname)) });
  });
  router.delete('/apps/:hostname', (req, res) => {
    const app = appFor(req, 'delete');
    const taskId = apps.remove(callerOf(req), app.hostname);
    res.status(202).location(`/api/v1/tasks/${taskId}`).json({ data: { taskId } });
  });
  for (const action of ['start', 'stop', 'restart'] as const) {
    router.post(`/apps/:hostname/${action}`, async (req, res) => {
      const app = appFor(req, 'power');
      res.json({ data: await apps.power(callerOf(req), app.hostname, action) });
    });
  }
  router.put('/apps/:hostname/resources', async (req, res) => {
    const app = appFor(req, 'resize');
    const change = parseInput(resourcesInputSchema, req.body, 'resources');
    res.json({ data: await apps.setResources(callerOf(req), app.hostname, change) });
  });
  router.get('/apps/:hostname/logs', async (req, res) => {
    const app = appFor(req, 'read');
    const { lines } = parseInput(logsQuery, req.query, 'query');
    res.json({ data: await apps.logs(app.hostname, lines) });
  });
  router.get('/apps/:hostname/stats', async (req, res) => {
    const app = appFor(req, 'read');
    const { timeframe } = parseInput(statsQuery, req.query, 'query');
    res.json({ data: await apps.stats(app.hostname, timeframe) });
  });
  router.get('/apps/:hostname/commands', (req, res) => {
    const app = appFor(req, 'read');
    res.json({ data: apps.commands(app.hostname) });
  });
  router.post('/apps/:hostname/commands/:name', async (req, res) => {
    const app = appFor(req, 'command');
    const { name } = parseInput(commandParam, req.params, 'path');
    res.json({ data: await apps.runCommand(callerOf(req), app.hostname, name) });
  });
  router.post('/apps/:hostname/secrets', (req, res) => {
    const app = appFor(req, 'delete');
    res.json({ data: apps.takeSecrets(callerOf(req), app.hostname) });
  });
  return router;
}
