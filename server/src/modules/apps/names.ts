import { nameTaken } from '../names/index.js';
import type { AppsDeps } from './deps.js';

/**
 * A name is free for a new app: no app, route, DNS name, reservation or Proximity itself has
 * it (the name registry, names/registry.ts). A check before a deploy starts its work; the
 * claim with the app's row (AppRepository.insert) is what enforces it.
 */
export function checkNameFree(deps: AppsDeps, hostname: string): void {
  const holder = deps.repository.names.holder(hostname);
  if (holder) throw nameTaken(hostname, holder, 'hostname');
}
