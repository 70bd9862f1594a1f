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
 * A map's paths normalised, most specific first: made once per map, as a list of apps checks
 * thousands of privileges against one caller's map (maps are never changed once made).
 */
const compiled = new WeakMap<PermissionMap, [string, Record<string, number>][]>();

function entriesOf(permissions: PermissionMap): [string, Record<string, number>][] {
  let entries = compiled.get(permissions);
  if (!entries) {
    entries = Object.entries(permissions)
      .map(([key, privileges]): [string, Record<string, number>] => [normalise(key), privileges])
      .sort(([a], [b]) => b.length - a.length);
    compiled.set(permissions, entries);
  }
  return entries;
}

/**
 * Does the map grant `privilege` on `path`? Each listed path holds the effective privileges
 * there, so the most specific listed path decides: an exact entry counts as is, an
 * ancestor's only where the privilege propagates.
 */
export function hasPrivilege(permissions: PermissionMap, path: string, privilege: string): boolean {
  const target = normalise(path);
  const entries = entriesOf(permissions);
  const exact = entries.find(([candidate]) => candidate === target);
  if (exact) return privilege in exact[1];
  const nearest = entries.find(([candidate]) => isBelow(target, candidate));
  return nearest !== undefined && nearest[1][privilege] === 1;
}
