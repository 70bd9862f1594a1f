/**
 * A caller's privileges as PVE's GET /access/permissions returns them:
 * `{ "/vms": { "VM.Audit": 1, "VM.Allocate": 0 }, ... }` where 1 means the privilege
 * propagates to paths below and 0 that it holds on that exact path only.
 */
export type PermissionMap = Record<string, Record<string, number>>;

function normalise(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function isBelow(path: string, ancestor: string): boolean {
  return ancestor === '/' ? path !== '/' : path.startsWith(`${ancestor}/`);
}

/**
 * Does the map grant `privilege` on `path`? Each listed path holds the effective privileges
 * there, so the most specific listed path decides: an exact entry counts as is, an
 * ancestor's only where the privilege propagates.
 */
export function hasPrivilege(permissions: PermissionMap, path: string, privilege: string): boolean {
  const target = normalise(path);
  const entries = new Map(
    Object.entries(permissions).map(([key, privileges]) => [normalise(key), privileges]),
  );
  const exact = entries.get(target);
  if (exact) return privilege in exact;
  const nearest = [...entries.keys()]
    .filter((candidate) => isBelow(target, candidate))
    .sort((a, b) => b.length - a.length)[0];
  return nearest !== undefined && entries.get(nearest)?.[privilege] === 1;
}
