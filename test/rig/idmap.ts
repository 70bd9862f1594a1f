/**
 * Unprivileged containers as Proxmox VE makes them: container root is uid/gid 100000 on the
 * node (LXC.pm: "lxc.idmap = u 0 100000 65536", same for g), and the rootfs is owned
 * accordingly, as `pct create` extracts it.
 */
import { chmodSync, lchownSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const ID_SHIFT = 100000;
export const ID_COUNT = 65536;

/** The LXC config lines of PVE's default id map. */
export function idmapConfigLines(): string[] {
  return [`lxc.idmap = u 0 ${ID_SHIFT} ${ID_COUNT}`, `lxc.idmap = g 0 ${ID_SHIFT} ${ID_COUNT}`];
}

/**
 * Shifts every file of a tree made on the node (LXC's busybox template) into the id map.
 * chown clears set-id bits, so each mode is put back; symlinks are re-owned, never followed;
 * a file with several hard links is shifted once.
 */
export function shiftTree(root: string): void {
  const stats = lstatSync(root);
  if (stats.uid >= ID_SHIFT) return; // already shifted: a tree is shifted once
  const seen = new Set<string>(); // hard links (busybox's applets) are one file: shift it once
  const visit = (file: string) => {
    const st = lstatSync(file);
    if (st.nlink > 1 && !st.isDirectory()) {
      const inode = `${st.dev}:${st.ino}`;
      if (seen.has(inode)) return;
      seen.add(inode);
    }
    lchownSync(file, st.uid + ID_SHIFT, st.gid + ID_SHIFT);
    if (st.isSymbolicLink()) return;
    chmodSync(file, st.mode & 0o7777);
    if (st.isDirectory()) for (const entry of readdirSync(file)) visit(path.join(file, entry));
  };
  visit(root);
}
