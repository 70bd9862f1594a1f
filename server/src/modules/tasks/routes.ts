import { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../../core/http/validate.js';
import { requirePrivilege } from '../auth/middleware.js';
import type { AuthService } from '../auth/service.js';
import type { TaskEngine, TaskEvent } from './engine.js';

const idParam = z.strictObject({ id: z.uuid() });
const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const logsQuery = z.strictObject({ after: z.coerce.number().int().min(0).default(0) });
const HEARTBEAT_MS = 15_000;

/**
 * /api/v1/tasks: list, one task with its steps, its logs, live events (server-sent events,
 * as PVE's own task viewer follows a task), and cancel. Reading needs Sys.Audit on /, as
 * PVE's cluster task list; cancelling needs Sys.Modify.
 */
export function taskRoutes(engine: TaskEngine, auth: AuthService): Router {
  const router = Router();
  const canRead = requirePrivilege(auth, 'Sys.Audit', '/');
  router.get('/tasks', canRead, (req, res) => {
    const { limit, offset } = parseInput(listQuery, req.query, 'query');
    const { total, tasks } = engine.list(limit, offset);
    res.json({ data: tasks, total, limit, offset });
  });
  router.get('/tasks/:id', canRead, (req, res) => {
    res.json({ data: engine.get(parseInput(idParam, req.params, 'path').id) });
  });
  router.get('/tasks/:id/logs', canRead, (req, res) => {
    const { id } = parseInput(idParam, req.params, 'path');
    const { after } = parseInput(logsQuery, req.query, 'query');
    res.json({ data: engine.logs(id, after) });
  });
  router.post('/tasks/:id/cancel', requirePrivilege(auth, 'Sys.Modify', '/'), (req, res) => {
    res.json({ data: engine.cancel(parseInput(idParam, req.params, 'path').id) });
  });
  router.get('/tasks/:id/events', canRead, (req, res) => {
    const { id } = parseInput(idParam, req.params, 'path');
    const task = engine.get(id);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    const send = (event: TaskEvent) => {
      res.write(
        `event: ${event.type}\ndata: ${JSON.stringify(event.type === 'task' ? event.task : event.log)}\n\n`,
      );
      if (event.type === 'task' && !['running', 'cancelling'].includes(event.task.state)) close();
    };
    // What happened before the client came: the task and its logs, then live events.
    for (const log of engine.logs(id)) send({ type: 'log', log });
    const unsubscribe = engine.subscribe(id, send);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const close = () => {
      clearInterval(heartbeat);
      unsubscribe();
      res.end();
    };
    req.on('close', close);
    send({ type: 'task', task });
  });
  return router;
}
