import type { Logger } from '../../core/logger.js';
import type { AuditRepository } from '../audit/repository.js';
import type { NetworkService } from '../network/service.js';
import type { ProxyService } from '../proxy/service.js';
import type { PveService } from '../pve/service.js';
import type { TaskRecord } from '../tasks/repository.js';
import type { AppContainers } from './containers.js';
import type { AppRepository } from './repository.js';

/** What the apps' use cases (deploy, delete, lifecycle, adopt) work with. */
export interface AppsDeps {
  repository: AppRepository;
  audit: AuditRepository;
  containers: AppContainers;
  network: NetworkService;
  proxy: ProxyService;
  pve: PveService;
  logger: Logger;
}

/** The end of a deploy or delete in the audit log, next to its start: who, what, how it ended. */
export function auditFinished(deps: AppsDeps, action: string, hostname: string, task: TaskRecord): void {
  deps.audit.append({
    actor: task.actor,
    action,
    target: hostname,
    result: task.state === 'succeeded' ? 'ok' : 'failed',
    details: { task: task.id, state: task.state, ...(task.error ? { error: task.error } : {}) },
  });
}
