/**
 * Tasks through the API, authenticated by PVE: a task kind registered by a module, followed
 * live with server-sent events as the UI follows a deploy, and cancelled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/src/core/logger.js';
import type { ModuleFactory } from '../../server/src/core/module.js';
import type { TaskEngine } from '../../server/src/modules/tasks/engine.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import { apiClient, followTaskEvents } from './lan.js';
import { backendConfig, login } from './support.js';

let release: () => void = () => {};
/** A demo kind: two quick steps and one that waits until the test releases it. */
let engine: TaskEngine | undefined;
const demoTasks: ModuleFactory = ({ services }) => {
  engine = services.get('tasks');
  engine.register<unknown, Record<string, unknown>>({
    kind: 'demo',
    steps: [
      { name: 'prepare', run: async (ctx) => ctx.log('prepared') },
      {
        name: 'wait',
        run: (ctx) =>
          new Promise<void>((resolve, reject) => {
            release = resolve;
            ctx.signal.addEventListener('abort', () => reject(new Error('cancelled')));
          }),
      },
      { name: 'finish', run: async () => 'finished' },
    ],
  });
  return { name: 'demo-tasks' };
};

const config = backendConfig();
let service: RunningService;
let api: ReturnType<typeof apiClient>;

before(async () => {
  service = await startService(config, {
    logger: createLogger('silent'),
    modules: [...defaultModules, demoTasks],
  });
  api = apiClient(service.url);
});
after(() => service.stop());

const followEvents = (id: string, onEvent: (name: string, data: { state?: string }) => void) =>
  followTaskEvents<{ state?: string; line?: string }>(service.url, id, onEvent);

describe('tasks through the API', () => {
  it('streams a task live to its end, with its logs', async () => {
    const started = await startDemo();
    const events = await followEvents(started, (name, data) => {
      if (name === 'task' && data.state === 'running') release();
    });
    const states = events.filter(([name]) => name === 'task').map(([, data]) => data.state);
    assert.equal(states.at(-1), 'succeeded');
    assert.ok(events.some(([name, data]) => name === 'log' && data.line === 'prepared'));
    const task = await api<{ state: string; percent: number; steps: { state: string }[] }>(
      'GET',
      `/tasks/${started}`,
    );
    assert.equal(task.data.percent, 100);
  });

  it('cancels a running task: the stream ends with "cancelled"', async () => {
    const id = await startDemo();
    const cancelled = await api<{ state: string }>('POST', `/tasks/${id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.error));
    const events = await followEvents(id, () => {});
    assert.equal(events.filter(([name]) => name === 'task').at(-1)![1].state, 'cancelled');
    assert.equal((await api('POST', `/tasks/${id}/cancel`)).status, 409);
  });

  it('needs a login to read tasks and Sys.Modify to cancel one', async () => {
    assert.equal((await fetch(`${service.url}/api/v1/tasks`)).status, 401);
    const alice = await login('alice@pve', 'alicepassword');
    const id = await startDemo();
    const headers = {
      cookie: `PVEAuthCookie=${encodeURIComponent(alice.ticket)}`,
      CSRFPreventionToken: alice.csrfToken,
    };
    assert.equal((await fetch(`${service.url}/api/v1/tasks/${id}`, { headers })).status, 200);
    assert.equal(
      (await fetch(`${service.url}/api/v1/tasks/${id}/cancel`, { method: 'POST', headers })).status,
      403,
    );
    assert.equal((await api('GET', '/tasks/not-a-uuid')).status, 400);
    release();
  });
});

/** Starts a demo task the way a module would (the API has no generic "start"). */
async function startDemo(): Promise<string> {
  return engine!.start('demo', { input: {}, actor: 'root@pam' }).id;
}
