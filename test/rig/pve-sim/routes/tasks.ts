/**
 * /nodes/{node}/tasks (pve-manager src/PVE/API2/Tasks.pm): task list, status and log. A user
 * sees their own tasks; other users' tasks need Sys.Audit on /nodes/<node>.
 */
import { paramError } from '../errors.js';
import { decodeUpid, taskSummary, type TaskRecord } from '../tasks.js';
import {
  boolParam,
  intParam,
  stringParam,
  userOf,
  type Route,
  type RouteContext,
} from '../simulator-state.js';
import { splitList } from '../validate.js';

/** The task of the `upid` parameter, checked like Tasks.pm (400 for a bad or unknown UPID). */
function taskOf(context: RouteContext): TaskRecord {
  const { sim, params } = context;
  const upid = stringParam(params, 'upid')!;
  const decoded = decodeUpid(upid);
  if (!decoded) throw paramError({ upid: 'unable to parse worker upid' });
  const task = sim.tasks.get(upid);
  if (!task) throw paramError({ upid: 'no such task' });
  const user = userOf(context);
  if (user !== task.user) sim.acl.check(user, `/nodes/${stringParam(params, 'node')}`, ['Sys.Audit']);
  return task;
}

const list: Route = {
  method: 'GET',
  path: '/nodes/{node}/tasks',
  handler: (context) => {
    const { sim, params } = context;
    const user = userOf(context);
    const auditor = sim.acl.check(user, `/nodes/${stringParam(params, 'node')}`, ['Sys.Audit'], true);
    const start = intParam(params, 'start') ?? 0;
    const limit = intParam(params, 'limit') || 50;
    const source = stringParam(params, 'source') ?? 'archive';
    const userfilter = stringParam(params, 'userfilter');
    const typefilter = stringParam(params, 'typefilter');
    const vmid = stringParam(params, 'vmid');
    const since = intParam(params, 'since');
    const until = intParam(params, 'until');
    const statusfilter = splitList(stringParam(params, 'statusfilter') ?? '').map((s) => s.toLowerCase());
    const statusType = (task: TaskRecord) =>
      task.exitstatus === 'OK' ? 'ok' : /^WARNINGS: \d+$/.test(task.exitstatus ?? '') ? 'warning' : 'error';
    const matching = sim.tasks.list().filter((task) => {
      if (source === 'archive' && task.status === 'running') return false;
      if (source === 'active' && task.status !== 'running') return false;
      if (!(auditor || task.user === user)) return false;
      if (userfilter && !task.user.toLowerCase().includes(userfilter.toLowerCase())) return false;
      if (typefilter && task.type !== typefilter) return false;
      if (vmid && task.id !== vmid) return false;
      if (boolParam(params, 'errors') && task.exitstatus === 'OK') return false;
      if (since !== undefined && task.starttime < since) return false;
      if (until !== undefined && task.starttime > until) return false;
      if (statusfilter.length > 0 && task.status === 'stopped' && !statusfilter.includes(statusType(task)))
        return false;
      return true;
    });
    context.result.total = matching.length;
    return matching.slice(start, start + limit).map(taskSummary);
  },
};

const status: Route = {
  method: 'GET',
  path: '/nodes/{node}/tasks/{upid}/status',
  handler: (context) => {
    const task = taskOf(context);
    const result = { ...taskSummary(task), status: task.status };
    delete (result as Record<string, unknown>).endtime;
    if (task.status === 'stopped') (result as Record<string, unknown>).exitstatus = task.exitstatus;
    return result;
  },
};

const log: Route = {
  method: 'GET',
  path: '/nodes/{node}/tasks/{upid}/log',
  handler: (context) => {
    const task = taskOf(context);
    // PVE::Tools::dump_logfile: 1-based line numbers, 50 lines unless limit (0 = all)
    const start = intParam(context.params, 'start') ?? 0;
    const limit = intParam(context.params, 'limit') ?? 50;
    const lines = task.lines.map((t, index) => ({ n: index + 1, t }));
    context.result.total = lines.length || 1;
    if (lines.length === 0) return [{ n: 1, t: 'no content' }];
    return limit === 0 ? lines.slice(start) : lines.slice(start, start + limit);
  },
};

export const taskRoutes: Route[] = [list, status, log];
