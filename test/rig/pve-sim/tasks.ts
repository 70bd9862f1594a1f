/**
 * Worker tasks the way Proxmox VE runs them (pve-common RESTEnvironment.pm fork_worker,
 * UPID.pm): a long operation answers at once with its UPID
 *   UPID:<node>:<pid 8 hex>:<pstart 8 hex>:<starttime 8 hex>:<type>:<id>:<user>:
 * and runs on; its log ends with "TASK OK", "TASK WARNINGS: n" or "TASK ERROR: <message>",
 * and its exit status is "OK", "WARNINGS: n" or that message (UPID.pm read_status).
 *
 * Tasks run in this process; pid and pstart are made unique per task instead of being a
 * forked worker's pid and start time.
 */
import { uptime } from 'node:os';

export interface TaskInfo {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

export interface TaskRecord extends TaskInfo {
  status: 'running' | 'stopped';
  /** 'OK', 'WARNINGS: n' or the error message; set once stopped. */
  exitstatus?: string | undefined;
  endtime?: number | undefined;
  lines: string[];
  done: Promise<void>;
}

export interface TaskLog {
  log(line: string): void;
  /** A warning line ("WARN: ..."); a task with warnings ends with "TASK WARNINGS: n". */
  warn(line: string): void;
}

export type TaskWorker = (log: TaskLog, upid: string) => Promise<void>;

/** UPID.pm decode: the fields of a UPID, or undefined if it is not one. */
export function decodeUpid(upid: string): TaskInfo | undefined {
  const match =
    /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/.exec(
      upid,
    );
  if (!match) return undefined;
  return {
    upid,
    node: match[1]!,
    pid: parseInt(match[3]!, 16),
    pstart: parseInt(match[4]!, 16),
    starttime: parseInt(match[5]!, 16),
    type: match[6]!,
    id: match[7]!,
    user: match[8]!,
  };
}

const hex8 = (value: number) => value.toString(16).toUpperCase().padStart(8, '0');

export class TaskManager {
  private readonly tasks = new Map<string, TaskRecord>();
  private nextPid = 0x10000 + (process.pid % 0x10000) * 16;
  private readonly maxKept = 1000;

  constructor(
    private readonly node: string,
    private readonly clock: () => number,
  ) {}

  /** Starts `worker` asynchronously and returns its UPID at once, like fork_worker. */
  start(type: string, id: string, user: string, worker: TaskWorker): string {
    const pid = this.nextPid++;
    const pstart = Math.floor(uptime() * 100); // clock ticks since boot, like /proc/<pid>/stat
    const starttime = Math.floor(this.clock() / 1000);
    const upid = `UPID:${this.node}:${hex8(pid)}:${hex8(pstart)}:${hex8(starttime)}:${type}:${id}:${user}:`;
    const lines: string[] = [];
    let warnings = 0;
    const log: TaskLog = {
      log: (line) => lines.push(...line.replace(/\n$/, '').split('\n')),
      warn: (line) => {
        warnings++;
        lines.push(`WARN: ${line}`);
      },
    };
    const record: TaskRecord = {
      upid,
      node: this.node,
      pid,
      pstart,
      starttime,
      type,
      id,
      user,
      status: 'running',
      lines,
      done: Promise.resolve(),
    };
    const finish = (exitstatus: string, lastLine: string) => {
      lines.push(lastLine);
      record.exitstatus = exitstatus;
      record.endtime = Math.floor(this.clock() / 1000);
      record.status = 'stopped';
    };
    // setImmediate: the UPID reaches the caller before the worker does anything, as with a fork
    record.done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => worker(log, upid))
      .then(
        () =>
          warnings > 0
            ? finish(`WARNINGS: ${warnings}`, `TASK WARNINGS: ${warnings}`)
            : finish('OK', 'TASK OK'),
        (error: unknown) => {
          // RESTEnvironment.pm: chomp, newlines to spaces, "TASK ERROR: $err"
          const message = (error instanceof Error ? error.message : String(error))
            .replace(/\n+$/, '')
            .replace(/\n/g, ' ');
          finish(message, `TASK ERROR: ${message}`);
        },
      );
    this.tasks.set(upid, record);
    this.prune();
    return upid;
  }

  get(upid: string): TaskRecord | undefined {
    return this.tasks.get(upid);
  }

  /** Most recent first. */
  list(): TaskRecord[] {
    return [...this.tasks.values()].sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
  }

  /** Resolves when every task started so far has finished (for shutdown and tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.tasks.values()].map((task) => task.done));
  }

  private prune(): void {
    if (this.tasks.size <= this.maxKept) return;
    for (const task of [...this.tasks.values()]) {
      // oldest first (insertion order)
      if (this.tasks.size <= this.maxKept) break;
      if (task.status === 'stopped') this.tasks.delete(task.upid);
    }
  }
}

/** The API's view of a task (UPID.pm decode fields plus status). */
export function taskSummary(task: TaskRecord): Record<string, unknown> {
  const summary: Record<string, unknown> = {
    upid: task.upid,
    node: task.node,
    pid: task.pid,
    pstart: task.pstart,
    starttime: task.starttime,
    type: task.type,
    id: task.id,
    user: task.user,
  };
  const token = /^(.+@[^!]+)!(.+)$/.exec(task.user);
  if (token) {
    // pve-manager API2/Tasks.pm: token tasks list the user and the token name separately
    summary.user = token[1];
    summary.tokenid = token[2];
  }
  if (task.status === 'stopped') {
    summary.endtime = task.endtime;
    summary.status = task.exitstatus;
  }
  return summary;
}

/**
 * An entry of /cluster/tasks: the cluster's task list is RESTEnvironment.pm active_workers'
 * list, which drops `pstart` and, once a task has ended, its `pid`. PVE's task panel shows a
 * task with a `pid` as running (spinners for end time and status), whatever its `endtime`.
 */
export function clusterTaskSummary(task: TaskRecord): Record<string, unknown> {
  const summary = taskSummary(task);
  delete summary.pstart;
  if (task.status === 'stopped') delete summary.pid;
  return summary;
}
