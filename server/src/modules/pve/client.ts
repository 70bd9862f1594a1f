import { setTimeout as sleep } from 'node:timers/promises';
import { proxmoxApi, type Proxmox } from 'proxmox-api';
import { PveError } from './errors.js';
import type { PveCredentials, PveTransport } from './transport.js';
import { parseUpid } from './upid.js';

export interface TaskResult {
  upid: string;
  exitstatus: string;
  log: string[];
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Called with each new log line while the task runs. */
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

type TaskApi = ReturnType<ReturnType<Proxmox.Api['nodes']['$']>['tasks']['$']>;

/** Lines of a failed task's log kept in the error: enough to see why, bounded. */
const LOG_TAIL = 30;

/**
 * The PVE API as one principal sees it: `api` is proxmox-api's typed path proxy
 * (`client.api.nodes.$(node).lxc.$get()`), plus task waiting.
 */
export class PveClient {
  readonly api: Proxmox.Api;

  constructor(
    private readonly transport: PveTransport,
    readonly credentials: PveCredentials,
  ) {
    this.api = proxmoxApi(transport.engine(credentials));
  }

  /**
   * Waits for a UPID task to stop, streaming its log; resolves for `OK` and `WARNINGS: n`
   * (PVE counts both as success) and throws a task_failed PveError otherwise.
   */
  async waitForTask(upid: string, options: WaitOptions = {}): Promise<TaskResult> {
    const parsed = parseUpid(upid);
    if (!parsed) throw new PveError('server', `Proxmox VE returned a malformed task id: ${upid}`);
    const task = this.api.nodes.$(parsed.node).tasks.$(upid);
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    const log: string[] = [];
    let delay = 100;
    for (;;) {
      options.signal?.throwIfAborted();
      const status = await task.status.$get();
      await this.readLog(task, log, options.onLog);
      if (status.status === 'stopped') {
        const exitstatus = String(status.exitstatus ?? 'unknown');
        if (exitstatus === 'OK' || exitstatus.startsWith('WARNINGS')) return { upid, exitstatus, log };
        throw new PveError(
          'task_failed',
          `Proxmox VE task ${parsed.type} ${parsed.id} failed: ${exitstatus}`,
          {
            upid,
            pveMessage: exitstatus,
            log: log.slice(-LOG_TAIL),
          },
        );
      }
      if (Date.now() >= deadline) {
        throw new PveError('timeout', `Proxmox VE task ${parsed.type} ${parsed.id} did not finish in time`, {
          upid,
          log: log.slice(-LOG_TAIL),
        });
      }
      await sleep(delay, undefined, { signal: options.signal });
      delay = Math.min(delay * 2, 1000);
    }
  }

  private async readLog(task: TaskApi, log: string[], onLog?: (line: string) => void): Promise<void> {
    const lines = await task.log.$get({ start: log.length, limit: 500 });
    for (const { t } of lines as { n: number; t: string }[]) {
      if (t === 'no content') continue;
      log.push(t);
      onLog?.(t);
    }
  }
}
