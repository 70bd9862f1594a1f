import type { ModuleFactory } from '../../core/module.js';
import { TaskEngine } from './engine.js';
import { TaskRepository } from './repository.js';
import { taskRoutes } from './routes.js';

/**
 * Persisted long-running jobs. Other modules register their task kinds (apps: deploy) on
 * the engine when they are built; start() then resumes what a previous process left.
 */
export const tasksModule: ModuleFactory = ({ store, logger, auth, services }) => {
  const engine = new TaskEngine(
    new TaskRepository(store.db),
    logger.child({ module: 'tasks' }),
    process.env.PROXIMITY_FAILPOINT,
  );
  services.provide('tasks', engine);
  return {
    name: 'tasks',
    router: taskRoutes(engine, auth),
    start: () => {
      const resumed = engine.resumeUnfinished();
      if (resumed.length > 0)
        logger.info({ tasks: resumed }, 'tasks left unfinished by the last run: resumed');
    },
    stop: () => engine.stop(),
  };
};

declare module '../../core/module.js' {
  interface ProvidedServices {
    tasks: TaskEngine;
  }
}
