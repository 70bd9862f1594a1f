/**
 * The subordinate ids a Proxmox VE node has for root (`root:100000:65536` in /etc/subuid and
 * /etc/subgid): LXC refuses an id map for unprivileged containers that root does not own.
 * Added once if missing and left in place, like a node's own system files.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { ID_COUNT, ID_SHIFT } from './idmap.js';

const ENTRY = `root:${ID_SHIFT}:${ID_COUNT}`;

export function ensureRootSubIds(files: readonly string[] = ['/etc/subuid', '/etc/subgid']): void {
  for (const file of files) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // absent: made below
    }
    if (text.split('\n').some((line) => line.trim() === ENTRY)) continue;
    appendFileSync(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}${ENTRY}\n`);
  }
}
