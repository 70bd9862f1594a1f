import type { AdoptInput } from '../../contract/apps.js';
import { appHostnameProblem } from '../../contract/rules.js';
import { errors } from '../../core/errors.js';
import type { Caller } from '../auth/service.js';
import { AppContainers } from './containers.js';
import type { AppsDeps } from './deps.js';
import { checkNameFree } from './names.js';
import { ensureRoute } from './routing.js';

/**
 * Makes a container already on proximity-lan an app: its name (given, or its own, held to
 * the contract's app-name rule), its route and its row; answers the app's hostname.
 */
export async function adoptContainer(deps: AppsDeps, caller: Caller, input: AdoptInput): Promise<string> {
  const { containers, network, pve, repository } = deps;
  const node = pve.node;
  const config = await containers.config(node, input.vmid);
  if (!config)
    throw errors.validation(`CT ${input.vmid} does not exist on ${node}`, { vmid: 'no such container' });
  const bridge = AppContainers.bridgeOf(config);
  if (bridge !== network.settings.bridge)
    throw errors.validation(`CT ${input.vmid} is not on ${network.settings.bridge}`, {
      vmid: `its net0 is on ${bridge ?? 'no bridge'}, not ${network.settings.bridge}`,
    });
  // A name given in the body passed the contract's schema; the container's own name is
  // held to the same rule here, reserved names included.
  const hostname = input.hostname ?? String(config.hostname ?? '');
  const problem = appHostnameProblem(hostname);
  if (problem)
    throw errors.validation(
      `the container's hostname ${JSON.stringify(hostname)} cannot be an app's: give one`,
      {
        hostname: `must be given: the container's own hostname ${problem}`,
      },
    );
  if (repository.byVmid(node, input.vmid))
    throw errors.conflict(`CT ${input.vmid} is already an app`, { vmid: 'is already an app' });
  checkNameFree(deps, hostname);
  const mac = AppContainers.macOf(config) ?? null;
  const ip = (mac && network.leases().find((lease) => lease.mac === mac)?.ip) || null;
  if (!ip)
    throw errors.conflict(
      `CT ${input.vmid} has no DHCP lease on ${network.settings.bridge}: start it first`,
      {
        vmid: 'has no address on proximity-lan yet',
      },
    );
  repository.insert({
    hostname,
    catalogId: null,
    node,
    vmid: input.vmid,
    state: 'ready',
    taskId: null,
    ip,
    mac,
    owner: caller.id,
    spec: {
      catalog: null,
      template: null,
      resources: {
        cores: Number(config.cores ?? 1),
        memoryMb: Number(config.memory ?? 512),
        diskGb: 0,
        unprivileged: Boolean(config.unprivileged),
        nesting: /nesting=1/.test(String(config.features ?? '')),
      },
      port: { port: input.port, protocol: input.protocol },
      healthCheck: { path: input.healthPath, timeoutSeconds: 30 },
      install: [],
      env: {},
      secretKeys: [],
      safeCommands: [],
    },
  });
  try {
    await ensureRoute(deps, hostname, ip, input.port);
  } catch (error) {
    repository.delete(hostname);
    throw error;
  }
  deps.audit.append({
    actor: caller.id,
    action: 'app.adopt',
    target: hostname,
    result: 'ok',
    details: { vmid: input.vmid, port: input.port },
  });
  return hostname;
}
