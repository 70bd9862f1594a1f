import { randomInt } from 'node:crypto';
import type { DeployInput } from '../../../contract/apps.js';
import { errors, type FieldErrors } from '../../../core/errors.js';
import type { Caller } from '../../auth/service.js';
import type { TaskEngine } from '../../tasks/engine.js';
import type { AppSpec } from '../app.js';
import type { CatalogService } from '../catalog/service.js';
import type { AppsDeps } from '../deps.js';
import { checkNameFree } from '../names.js';
import { DEPLOY_KIND, type DeployTaskInput } from './steps.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Clicking Deploy, up to the task: the deploy's checks (the body passed the contract's
 * deployInputSchema already) against the catalog entry, the node and its capacity, the
 * network and the names in use; then the app's spec frozen from the manifest, its secrets
 * generated, and the task started with the app's row in one transaction. The task's steps
 * and their undo are steps.ts.
 */
export async function startDeploy(
  deps: AppsDeps & { catalog: CatalogService; tasks: TaskEngine },
  caller: Caller,
  input: DeployInput,
): Promise<string> {
  const { catalog, network, pve, repository, tasks } = deps;
  const entry = catalog.get(input.catalogId);
  if (!entry)
    throw errors.validation(`no catalog entry ${input.catalogId}`, {
      catalogId: `${input.catalogId} is not in the catalog (GET /api/v1/catalog)`,
    });
  const node = input.node ?? pve.node;
  if (node !== pve.node)
    throw errors.validation(`apps are deployed on ${pve.node}, where proximity-lan is`, {
      node: `must be ${pve.node}: proximity-lan and its services live on this node`,
    });
  const fields: FieldErrors = {};
  const declared = new Set(entry.env.map((variable) => variable.key));
  for (const key of Object.keys(input.env ?? {}))
    if (!declared.has(key)) fields[`env.${key}`] = `is not a setting of ${entry.name}`;
  const resources = {
    cores: input.resources?.cores ?? entry.resources.cores,
    memoryMb: input.resources?.memoryMb ?? entry.resources.memoryMb,
    diskGb: input.resources?.diskGb ?? entry.resources.diskGb,
    unprivileged: entry.resources.unprivileged,
    nesting: entry.resources.features.nesting ?? false,
  };
  const capacity = await deps.containers.nodeCapacity(node);
  if (resources.cores > capacity.cpus)
    fields['resources.cores'] = `must be at most ${capacity.cpus}: the CPUs of ${node}`;
  if (capacity.memoryMb > 0 && resources.memoryMb > capacity.memoryMb)
    fields['resources.memoryMb'] = `must be at most ${capacity.memoryMb}: the memory of ${node} in MiB`;
  if (Object.keys(fields).length > 0) throw errors.validation('some settings cannot be used', fields);
  if (!network.initialized)
    throw errors.conflict('the network is not initialised: POST /api/v1/system/network/initialize first');
  checkNameFree(deps, input.hostname);

  const spec: AppSpec = {
    catalog: { id: entry.id, name: entry.name, source: entry.source.kind },
    template: entry.template,
    resources,
    port: entry.ports[0]!,
    healthCheck: entry.healthCheck,
    install: entry.install,
    env: Object.fromEntries(entry.env.map((v) => [v.key, input.env?.[v.key] ?? v.default])),
    secretKeys: entry.secrets.map((s) => ({ key: s.key, length: s.length })),
    safeCommands: entry.safeCommands,
    logFile: entry.logFile,
  };
  const secrets = Object.fromEntries(entry.secrets.map((s) => [s.key, randomText(s.length)]));
  const task = tasks.start(DEPLOY_KIND, {
    input: { hostname: input.hostname, node } satisfies DeployTaskInput,
    target: input.hostname,
    actor: caller.id,
    keepOnFailure: input.keepOnFailure,
    within: (taskId) =>
      repository.insert({
        hostname: input.hostname,
        catalogId: entry.id,
        node,
        state: 'deploying',
        taskId,
        spec,
        owner: caller.id,
        secrets,
      }),
  });
  deps.audit.append({
    actor: caller.id,
    action: 'app.deploy',
    target: input.hostname,
    result: 'started',
    details: { catalogId: entry.id, task: task.id, resources },
  });
  return task.id;
}

function randomText(length: number): string {
  let text = '';
  for (let index = 0; index < length; index++) text += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return text;
}
