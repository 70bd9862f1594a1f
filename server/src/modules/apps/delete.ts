import type { TaskKind } from '../tasks/engine.js';
import type { TaskRecord } from '../tasks/repository.js';
import { AppContainers } from './containers.js';
import { auditFinished, type AppsDeps } from './deps.js';
import { releaseLease, removeRoute } from './routing.js';

export const DELETE_KIND = 'app.delete';

export interface DeleteTaskInput {
  hostname: string;
  node: string;
  vmid: number | null;
}

/**
 * Deleting an app: its route (and DNS name) first, so nobody is sent to a dying container,
 * then the container if Proximity made it (an adopted one is the user's: it is kept), its
 * DHCP lease (the container's own name is in DNS while it lasts), then the record. Each step is a no-op when its part is already gone, so a delete interrupted by
 * a crash simply runs again at the next start.
 */
export function deleteKind(deps: AppsDeps): TaskKind<DeleteTaskInput, Record<string, unknown>> {
  const { repository, containers } = deps;
  return {
    kind: DELETE_KIND,
    onInterrupted: 'resume',
    steps: [
      {
        name: 'route',
        async run(ctx) {
          await removeRoute(deps, ctx.input.hostname);
          return `${ctx.input.hostname} no longer routed`;
        },
      },
      {
        name: 'container',
        async run(ctx) {
          const { node, vmid, hostname } = ctx.input;
          if (vmid === null) return 'no container was made';
          const config = await containers.waitUnlocked(node, vmid, ctx.signal);
          if (!config) return `CT ${vmid} is already gone`;
          if (!AppContainers.isOurs(config, hostname)) {
            ctx.log(`CT ${vmid} was not made by Proximity (adopted): kept`);
            return `CT ${vmid} kept`;
          }
          await containers.destroy(node, vmid);
          return `CT ${vmid} destroyed`;
        },
      },
      {
        name: 'lease',
        async run(ctx) {
          const { node, vmid, hostname } = ctx.input;
          const mac = repository.get(hostname)?.mac;
          if (!mac) return 'no address was leased';
          // An adopted container was kept: it keeps its address and its name.
          if (vmid !== null && (await containers.waitUnlocked(node, vmid, ctx.signal)))
            return `CT ${vmid} kept, with its lease`;
          return releaseLease(deps, mac, (line) => ctx.log(line));
        },
      },
      {
        name: 'record',
        async run(ctx) {
          repository.delete(ctx.input.hostname);
          return `${ctx.input.hostname} removed`;
        },
      },
    ],
    finished(task: TaskRecord) {
      const { hostname } = task.input as DeleteTaskInput;
      auditFinished(deps, 'app.delete', hostname, task);
      if (task.state === 'succeeded') return;
      if (repository.get(hostname)?.taskId === task.id) repository.setState(hostname, 'failed', task.id);
    },
  };
}
