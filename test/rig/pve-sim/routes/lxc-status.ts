/**
 * /nodes/{node}/lxc/{vmid}/status/*: current status and power operations
 * (pve-container src/PVE/API2/LXC/Status.pm). As in PVE, "already running" / "not running"
 * are answered at once with HTTP 500 (they `die` before forking); the operation itself runs
 * as a task (vzstart, vzstop, vzshutdown, vzreboot) whose failure is the task's exit status.
 */
import { die, paramError } from '../errors.js';
import { boolParam, intParam, userOf, type Route, type SimulatorState } from '../simulator-state.js';
import { checkLock, containerSpec, containerStatus, loadConfig } from './lxc-common.js';
import type { TaskLog } from '../tasks.js';

async function isRunning(sim: SimulatorState, vmid: number): Promise<boolean> {
  return (await sim.runtime.state(vmid)) === 'running';
}

/** PVE::LXC::vm_start inside its task; errors end as "startup for container '<vmid>' failed". */
async function startContainer(
  sim: SimulatorState,
  vmid: number,
  log: TaskLog,
  skipLock: boolean,
): Promise<void> {
  const config = loadConfig(sim, vmid);
  if (config.template === '1') throw new Error("you can't start a CT if it's a template");
  if (!skipLock) checkLock(config);
  const spec = containerSpec(sim, vmid, config);
  try {
    // pve-container's lxc-pve-prestart-hook / network hooks refuse a missing bridge
    const bridges = new Set((await sim.network.listBridges()).map((bridge) => bridge.name));
    for (const net of spec.nets) {
      if (!bridges.has(net.bridge)) throw new Error(`bridge '${net.bridge}' does not exist`);
    }
    await sim.runtime.start(spec);
  } catch (error) {
    log.log(error instanceof Error ? error.message : String(error));
    throw new Error(`startup for container '${vmid}' failed`, { cause: error });
  }
}

/** Starts the vzstart task (also used by create with start=1); returns its UPID. */
export function startContainerTask(
  sim: SimulatorState,
  vmid: number,
  user: string,
  skipLock = false,
): string {
  return sim.tasks.start('vzstart', String(vmid), user, (log) =>
    sim.containers.withLock(vmid, () => startContainer(sim, vmid, log, skipLock)),
  );
}

function skiplock(params: Record<string, unknown>, user: string): boolean {
  const value = boolParam(params, 'skiplock');
  if (value && user !== 'root@pam') throw paramError({ skiplock: 'Only root may use this option.' });
  return value;
}

const current: Route = {
  method: 'GET',
  path: '/nodes/{node}/lxc/{vmid}/status/current',
  handler: async ({ sim, params }) => ({
    ...(await containerStatus(sim, intParam(params, 'vmid')!)),
    ha: { managed: 0 },
  }),
};

const start: Route = {
  method: 'POST',
  path: '/nodes/{node}/lxc/{vmid}/status/start',
  handler: async (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const vmid = intParam(params, 'vmid')!;
    const skipLock = skiplock(params, user);
    if (await isRunning(sim, vmid)) throw die(`CT ${vmid} already running`);
    return startContainerTask(sim, vmid, user, skipLock);
  },
};

const stop: Route = {
  method: 'POST',
  path: '/nodes/{node}/lxc/{vmid}/status/stop',
  handler: async (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const vmid = intParam(params, 'vmid')!;
    const skipLock = skiplock(params, user);
    if (!(await isRunning(sim, vmid))) throw die(`CT ${vmid} not running`);
    return sim.tasks.start('vzstop', String(vmid), user, () =>
      sim.containers.withLock(vmid, async () => {
        if (!skipLock) checkLock(loadConfig(sim, vmid));
        await sim.runtime.stop(vmid, { force: true });
      }),
    );
  },
};

const shutdown: Route = {
  method: 'POST',
  path: '/nodes/{node}/lxc/{vmid}/status/shutdown',
  handler: async (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const vmid = intParam(params, 'vmid')!;
    const timeout = intParam(params, 'timeout') ?? 60;
    const forceStop = boolParam(params, 'forceStop');
    if (!(await isRunning(sim, vmid))) throw die(`CT ${vmid} not running`);
    return sim.tasks.start('vzshutdown', String(vmid), user, () =>
      sim.containers.withLock(vmid, async () => {
        checkLock(loadConfig(sim, vmid));
        await sim.runtime.stop(vmid, { timeoutSeconds: timeout, force: forceStop });
      }),
    );
  },
};

const reboot: Route = {
  method: 'POST',
  path: '/nodes/{node}/lxc/{vmid}/status/reboot',
  handler: async (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const vmid = intParam(params, 'vmid')!;
    const timeout = intParam(params, 'timeout');
    if (!(await isRunning(sim, vmid))) throw die(`CT ${vmid} not running`);
    return sim.tasks.start('vzreboot', String(vmid), user, (log) =>
      sim.containers.withLock(vmid, async () => {
        checkLock(loadConfig(sim, vmid));
        await sim.runtime.stop(vmid, { timeoutSeconds: timeout ?? 60, force: timeout !== undefined });
        await startContainer(sim, vmid, log, false);
      }),
    );
  },
};

export const lxcStatusRoutes: Route[] = [current, start, stop, shutdown, reboot];
