import { setTimeout as sleep } from 'node:timers/promises';
import { errors } from '../../../core/errors.js';
import { inSubnet } from '../../network/addresses.js';
import type { TaskRecord } from '../../tasks/repository.js';
import type { StepContext, TaskKind } from '../../tasks/engine.js';
import { appUrl, type AppRecord } from '../app.js';
import { AppContainers } from '../containers.js';
import { probe } from '../health.js';
import { auditFinished, type AppsDeps } from '../deps.js';
import { ensureRoute, releaseLease, removeRoute } from '../routing.js';

export const DEPLOY_KIND = 'app.deploy';

/** The task's input: which app (its row holds the spec). Nothing secret goes here: tasks are listed. */
export interface DeployTaskInput {
  hostname: string;
  node: string;
}

/** What the steps keep for later steps, for the undo and for a resume after a crash. */
export interface DeployTaskData extends Record<string, unknown> {
  vmid?: number;
  volid?: string;
  bridge?: string;
  fallback?: boolean;
  createUpid?: string;
  mac?: string;
  ip?: string;
  installed?: number;
  url?: string;
}

type Context = StepContext<DeployTaskInput, DeployTaskData>;

const LEASE_TIMEOUT_MS = 120_000;
const OUTPUT_LINES_LOGGED = 20;

/**
 * The deploy: allocate → template → create → start → lease → install → route → health.
 * Each step checks what is already there before it acts (a resumed task runs its interrupted
 * step again), records its intent in the task's data before a side effect, and has an undo
 * that tolerates a step that never ran or ran halfway. The app's row, which reserved the
 * name, is made with the task (one transaction) and released by the first step's undo.
 */
export function deployKind(deps: AppsDeps): TaskKind<DeployTaskInput, DeployTaskData> {
  const { repository, containers } = deps;
  const app = (ctx: Context): AppRecord => {
    const record = repository.get(ctx.input.hostname);
    if (!record || record.taskId !== ctx.taskId)
      throw errors.conflict(`app ${ctx.input.hostname} is no longer this deploy's`);
    return record;
  };
  const vmidOf = (ctx: Context): number => {
    if (ctx.data.vmid === undefined) throw new Error('no VMID allocated (the allocate step did not run)');
    return ctx.data.vmid;
  };

  /**
   * The container's address as PVE reports it, if it is on the LAN: known as soon as DHCP
   * answered, where the lease file is read only once a second.
   */
  const lanAddress = async (node: string, vmid: number) => {
    const ip = await containers.address(node, vmid).catch(() => undefined);
    return ip && inSubnet(ip, deps.network.settings.subnet) ? ip : undefined;
  };

  return {
    kind: DEPLOY_KIND,
    onInterrupted: 'resume',
    steps: [
      {
        name: 'allocate',
        async run(ctx) {
          const record = app(ctx);
          if (record.vmid !== null) {
            ctx.data.vmid = record.vmid;
            return `CT ${record.vmid}`;
          }
          for (;;) {
            const vmid = await containers.nextVmid(repository.vmids());
            // Another deploy may have taken it while we asked PVE: the unique index decides.
            if (repository.setVmid(record.hostname, vmid)) {
              ctx.data.vmid = vmid;
              return `CT ${vmid} for ${record.hostname}`;
            }
          }
        },
        async undo(ctx) {
          repository.delete(ctx.input.hostname, ctx.taskId);
          ctx.log(`name ${ctx.input.hostname} and its VMID released`);
        },
      },
      {
        name: 'template',
        async run(ctx) {
          const { spec } = app(ctx);
          if (!spec.template) throw new Error('the app has no template');
          ctx.data.volid = await containers.ensureTemplate(ctx.input.node, spec.template, {
            signal: ctx.signal,
            log: (line) => ctx.log(line),
          });
          return ctx.data.volid;
        },
      },
      {
        name: 'create',
        async run(ctx) {
          const record = app(ctx);
          const vmid = vmidOf(ctx);
          if (ctx.data.createUpid)
            await deps.pve.service.waitForTask(ctx.data.createUpid, { signal: ctx.signal }).catch(() => {});
          let config = await containers.waitUnlocked(ctx.input.node, vmid, ctx.signal);
          if (config && !AppContainers.isOurs(config, record.hostname, ctx.taskId))
            throw errors.conflict(`CT ${vmid} exists and was not made by this deploy`);
          if (!config) {
            const network = deps.network.containerNetwork();
            ctx.data.bridge = network.bridge;
            ctx.data.fallback = network.fallback;
            if (network.fallback)
              ctx.log(`the appliance is not ready: the container goes on ${network.bridge} (fallback)`);
            ctx.data.createUpid = await containers.create({
              node: ctx.input.node,
              vmid,
              hostname: record.hostname,
              taskId: ctx.taskId,
              volid: ctx.data.volid!,
              resources: record.spec.resources,
              bridge: network.bridge,
            });
            ctx.save();
            await deps.pve.service.waitForTask(ctx.data.createUpid, {
              signal: ctx.signal,
              onLog: (line) => ctx.log(line),
            });
            config = await containers.config(ctx.input.node, vmid);
          }
          ctx.data.bridge = AppContainers.bridgeOf(config ?? {}) ?? ctx.data.bridge;
          ctx.data.fallback = ctx.data.bridge !== deps.network.settings.bridge;
          const mac = AppContainers.macOf(config ?? {});
          if (!mac) throw new Error(`CT ${vmid} has no MAC address on net0`);
          ctx.data.mac = mac;
          repository.setAddress(record.hostname, null, mac);
          return `CT ${vmid} on ${ctx.data.bridge} (${mac})`;
        },
        async undo(ctx) {
          const vmid = ctx.data.vmid;
          if (vmid === undefined) return;
          if (ctx.data.createUpid)
            await deps.pve.service.waitForTask(ctx.data.createUpid, { timeoutMs: 300_000 }).catch(() => {});
          const config = await containers.waitUnlocked(ctx.input.node, vmid, new AbortController().signal);
          if (!AppContainers.isOurs(config, ctx.input.hostname, ctx.taskId)) return;
          await containers.destroy(ctx.input.node, vmid);
          ctx.log(`CT ${vmid} destroyed`);
          if (ctx.data.mac) ctx.log(await releaseLease(deps, ctx.data.mac, (line) => ctx.log(line)));
        },
      },
      {
        name: 'start',
        async run(ctx) {
          const started = await containers.start(ctx.input.node, vmidOf(ctx), ctx.signal);
          return started ? 'started' : 'already running';
        },
      },
      {
        name: 'lease',
        async run(ctx) {
          const record = app(ctx);
          const vmid = vmidOf(ctx);
          const deadline = Date.now() + LEASE_TIMEOUT_MS;
          for (;;) {
            const ip = ctx.data.fallback
              ? await containers.address(ctx.input.node, vmid)
              : (deps.network.leases().find((lease) => lease.mac === ctx.data.mac)?.ip ??
                (await lanAddress(ctx.input.node, vmid)));
            if (ip) {
              ctx.data.ip = ip;
              repository.setAddress(record.hostname, ip, ctx.data.mac ?? null);
              return `${ip} (${ctx.data.mac})`;
            }
            if (Date.now() > deadline)
              throw new Error(
                `CT ${vmid} got no DHCP lease in ${LEASE_TIMEOUT_MS / 1000} s: is its network up, and dnsmasq running (GET /system/network/status)?`,
              );
            await sleep(250, undefined, { signal: ctx.signal });
          }
        },
      },
      {
        name: 'install',
        async run(ctx) {
          const record = app(ctx);
          const steps = record.spec.install;
          const env = {
            ...record.spec.env,
            ...repository.secrets(record.hostname),
            PROXIMITY_HOSTNAME: record.hostname,
            PROXIMITY_URL: appUrl(record.hostname, deps.network.settings.domain),
          };
          const envArgs = Object.entries(env).map(([key, value]) => `${key}=${value}`);
          for (let index = ctx.data.installed ?? 0; index < steps.length; index++) {
            const step = steps[index]!;
            ctx.progress(`${index + 1}/${steps.length}: ${step.name}`);
            ctx.log(`${index + 1}/${steps.length}: ${step.name}`);
            const result = await deps.pve
              .pct(ctx.input.node)
              .exec(vmidOf(ctx), ['env', ...envArgs, ...step.argv], {
                timeoutMs: step.timeoutSeconds * 1000,
                maxOutputBytes: 256 * 1024,
                signal: ctx.signal,
              });
            for (const line of tail(`${result.stdout}\n${result.stderr}`)) ctx.log(`  ${line}`);
            if (result.code !== 0)
              throw new Error(`install step ${index + 1} "${step.name}" exited with status ${result.code}`);
            ctx.data.installed = index + 1;
            ctx.save();
          }
          return steps.length === 0 ? 'nothing to install' : `${steps.length} step(s) done`;
        },
      },
      {
        name: 'route',
        async run(ctx) {
          const record = app(ctx);
          if (ctx.data.fallback) {
            ctx.log('fallback network: no proxy route; the app answers at its own address');
            return `fallback: http://${ctx.data.ip}:${record.spec.port.port}`;
          }
          await ensureRoute(deps, record.hostname, ctx.data.ip!, record.spec.port.port);
          return `${record.hostname}.${deps.network.settings.domain} → ${ctx.data.ip}:${record.spec.port.port}`;
        },
        async undo(ctx) {
          await removeRoute(deps, ctx.input.hostname);
        },
      },
      {
        name: 'health',
        async run(ctx) {
          const record = app(ctx);
          const { spec } = record;
          const settings = deps.network.settings;
          const direct = `${spec.port.protocol}://${ctx.data.ip}:${spec.port.port}${spec.healthCheck.path}`;
          const viaProxy = `http://${settings.gateway}${spec.healthCheck.path}`;
          const deadline = Date.now() + spec.healthCheck.timeoutSeconds * 1000;
          let last: string;
          for (let attempt = 1; ; attempt++) {
            // A fallback container is on the node's uplink: the node itself reaches it.
            const site = ctx.data.fallback
              ? deps.pve.executor(ctx.input.node)
              : await deps.network.currentSite().catch(() => undefined);
            if (site) {
              const answer = await probe(site, { url: direct, check: spec.healthCheck });
              // Through Caddy too, by name, as a browser on the LAN asks.
              const proxied =
                answer.healthy && !ctx.data.fallback
                  ? await probe(site, {
                      url: viaProxy,
                      hostHeader: `${record.hostname}.${settings.domain}`,
                      check: spec.healthCheck,
                    })
                  : answer;
              if (answer.healthy && proxied.healthy) break;
              last = answer.healthy ? `through the proxy: ${proxied.reason}` : (answer.reason ?? 'unhealthy');
            } else {
              last = 'the network services site is not running';
            }
            ctx.progress(`attempt ${attempt}: ${last}`);
            if (Date.now() > deadline)
              throw new Error(
                `no healthy answer from ${direct} in ${spec.healthCheck.timeoutSeconds} s (last: ${last})`,
              );
            await sleep(Math.min(250 * attempt, 2000), undefined, { signal: ctx.signal });
          }
          const url = ctx.data.fallback
            ? `http://${ctx.data.ip}:${spec.port.port}`
            : appUrl(record.hostname, settings.domain);
          ctx.data.url = url;
          repository.setState(record.hostname, 'ready', ctx.taskId);
          return `ready at ${url}`;
        },
      },
    ],
    finished(task: TaskRecord) {
      const { hostname } = task.input as DeployTaskInput;
      auditFinished(deps, 'app.deploy', hostname, task);
      const record = repository.get(hostname);
      if (!record || record.taskId !== task.id) return;
      if (task.state === 'succeeded') repository.setState(hostname, 'ready', task.id);
      // Kept for debugging: the app stays, failed, until the user deletes it.
      else repository.setState(hostname, 'failed', task.id);
    },
  };
}

function tail(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter(Boolean)
    .slice(-OUTPUT_LINES_LOGGED);
}
