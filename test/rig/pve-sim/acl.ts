/**
 * Proxmox VE's permission model (pve-access-control src/PVE/AccessControl.pm roles() and
 * create_roles(); RPCEnvironment.pm permissions(), check(), check_any(),
 * exec_api2_perm_check(), check_api2_permissions(), compute_api_permission(),
 * get_effective_permissions()).
 *
 * - An ACL entry gives a role to a user, group (`@name`) or API token on a path, propagating
 *   to sub-paths or not. Going down from `/` to the path, the most specific matching entry
 *   wins; on one path a token's entry beats a user's, a user's beats its groups'.
 * - NoAccess on the path removes everything.
 * - `root@pam` has every privilege everywhere.
 * - An API token without privilege separation has its user's privileges; with privilege
 *   separation, the intersection of its user's and its own ACL's.
 */
import { permissionError, PveError } from './errors.js';
import { TOKEN_FULL, verifyUsername } from './formats.js';

/**
 * Every privilege of Proxmox VE 9: the property list of GET /access/roles/{roleid} in the
 * PVE 9 API schema (PVE 9 dropped VM.Monitor for the VM.GuestAgent.* privileges).
 */
export const PRIVILEGES = [
  'Datastore.Allocate',
  'Datastore.AllocateSpace',
  'Datastore.AllocateTemplate',
  'Datastore.Audit',
  'Group.Allocate',
  'Mapping.Audit',
  'Mapping.Modify',
  'Mapping.Use',
  'Permissions.Modify',
  'Pool.Allocate',
  'Pool.Audit',
  'Realm.Allocate',
  'Realm.AllocateUser',
  'SDN.Allocate',
  'SDN.Audit',
  'SDN.Use',
  'Sys.AccessNetwork',
  'Sys.Audit',
  'Sys.Console',
  'Sys.Incoming',
  'Sys.Modify',
  'Sys.PowerMgmt',
  'Sys.Syslog',
  'User.Modify',
  'VM.Allocate',
  'VM.Audit',
  'VM.Backup',
  'VM.Clone',
  'VM.Config.CDROM',
  'VM.Config.CPU',
  'VM.Config.Cloudinit',
  'VM.Config.Disk',
  'VM.Config.HWType',
  'VM.Config.Memory',
  'VM.Config.Network',
  'VM.Config.Options',
  'VM.Console',
  'VM.GuestAgent.Audit',
  'VM.GuestAgent.FileRead',
  'VM.GuestAgent.FileSystemMgmt',
  'VM.GuestAgent.FileWrite',
  'VM.GuestAgent.Unrestricted',
  'VM.Migrate',
  'VM.PowerMgmt',
  'VM.Replicate',
  'VM.Snapshot',
  'VM.Snapshot.Rollback',
] as const;

const VALID_PRIVILEGES = new Set<string>(PRIVILEGES);

/**
 * AccessControl.pm $privgroups: per category, the privileges of root only, admins, users
 * and auditors. Built-in roles are derived from it exactly as create_roles() does. The
 * grouping of the PVE 8/9 additions (Sys.Incoming, Sys.AccessNetwork, Mapping.*, SDN.Use,
 * VM.GuestAgent.*, VM.Replicate) follows the PVE 9 admin guide's role descriptions.
 */
const PRIVILEGE_GROUPS: Record<string, { root: string[]; admin: string[]; user: string[]; audit: string[] }> =
  {
    VM: {
      root: [],
      admin: [
        'VM.Config.Disk',
        'VM.Config.CPU',
        'VM.Config.Memory',
        'VM.Config.Network',
        'VM.Config.HWType',
        'VM.Config.Options',
        'VM.Allocate',
        'VM.Clone',
        'VM.Migrate',
        'VM.Replicate',
        'VM.Snapshot',
        'VM.Snapshot.Rollback',
        'VM.GuestAgent.FileRead',
        'VM.GuestAgent.FileWrite',
        'VM.GuestAgent.FileSystemMgmt',
        'VM.GuestAgent.Unrestricted',
      ],
      user: [
        'VM.Config.CDROM',
        'VM.Config.Cloudinit',
        'VM.Console',
        'VM.Backup',
        'VM.PowerMgmt',
        'VM.GuestAgent.Audit',
      ],
      audit: ['VM.Audit'],
    },
    Sys: {
      root: ['Sys.PowerMgmt', 'Sys.Modify', 'Sys.Incoming', 'Sys.AccessNetwork', 'Permissions.Modify'],
      admin: ['Sys.Console', 'Sys.Syslog'],
      user: [],
      audit: ['Sys.Audit'],
    },
    Datastore: {
      root: [],
      admin: ['Datastore.Allocate', 'Datastore.AllocateTemplate'],
      user: ['Datastore.AllocateSpace'],
      audit: ['Datastore.Audit'],
    },
    SDN: { root: [], admin: ['SDN.Allocate', 'SDN.Audit'], user: ['SDN.Use'], audit: ['SDN.Audit'] },
    User: {
      root: ['Realm.Allocate'],
      admin: ['User.Modify', 'Group.Allocate', 'Realm.AllocateUser'],
      user: [],
      audit: [],
    },
    Pool: { root: [], admin: ['Pool.Allocate'], user: ['Pool.Audit'], audit: ['Pool.Audit'] },
    Mapping: { root: [], admin: ['Mapping.Modify'], user: ['Mapping.Use'], audit: ['Mapping.Audit'] },
  };

/** The built-in ("special") roles: AccessControl.pm create_roles(). */
export function builtinRoles(): Record<string, string[]> {
  const roles: Record<string, Set<string>> = {
    NoAccess: new Set(),
    Administrator: new Set(PRIVILEGES),
  };
  const add = (role: string, privileges: string[]) => {
    roles[role] ??= new Set();
    privileges.forEach((privilege) => roles[role]!.add(privilege));
  };
  for (const [category, group] of Object.entries(PRIVILEGE_GROUPS)) {
    const nonRoot = [...group.admin, ...group.user, ...group.audit];
    add(`PVE${category}Admin`, nonRoot);
    add('PVEAdmin', nonRoot);
    if (group.user.length > 0) add(`PVE${category}User`, [...group.user, ...group.audit]);
    add('PVEAuditor', group.audit);
  }
  add('PVETemplateUser', ['VM.Clone', 'VM.Audit']);
  return Object.fromEntries(Object.entries(roles).map(([name, set]) => [name, [...set].sort()]));
}

export interface AclEntry {
  path: string;
  /** `user@realm`, `@group` or `user@realm!token`. */
  ugid: string;
  role: string;
  propagate: boolean;
}

export interface AccessModel {
  roles: Record<string, string[]>;
  acl: AclEntry[];
  /** group name -> member user ids */
  groups: Record<string, string[]>;
  /** token id -> privilege separation */
  tokenPrivsep: (tokenid: string) => boolean | undefined;
  userExists: (userid: string) => boolean;
}

/** Privilege name -> propagation flag (1/0), as PVE returns it. */
export type PrivilegeSet = Record<string, 0 | 1>;

/** AccessControl.pm normalize_path */
export function normalizePath(path: string | undefined): string | undefined {
  if (!path) return undefined;
  let result = path.replace(/\/+/g, '/').replace(/\/$/, '');
  if (!result) result = '/';
  if (!result.startsWith('/')) result = `/${result}`;
  if (!/^[A-Za-z0-9.\-_/]+$/.test(result)) return undefined;
  return result;
}

export function isTokenId(id: string): boolean {
  return TOKEN_FULL.test(id);
}

export function splitTokenId(id: string): { userid: string; token: string } | undefined {
  const match = TOKEN_FULL.exec(id);
  return match ? { userid: match[1]!, token: match[4]! } : undefined;
}

export class AccessControl {
  constructor(private readonly model: AccessModel) {}

  get roles(): Record<string, string[]> {
    return this.model.roles;
  }

  /** Remove every ACL entry on /vms/<vmid> (AccessControl.pm remove_vm_access on destroy). */
  removeVmAccess(vmid: number): void {
    const path = `/vms/${vmid}`;
    this.model.acl = this.model.acl.filter((entry) => entry.path !== path);
  }

  /** AccessControl.pm roles(): role name -> propagate flag on `path`. */
  private rolesOn(ugid: string, path: string): Record<string, 0 | 1> {
    const paths = [...new Set(this.model.acl.map((entry) => entry.path))].sort();
    let roles: Record<string, 0 | 1> = {};
    for (const aclPath of paths) {
      const final = aclPath === path;
      if (!(aclPath === '/' || final || path.startsWith(`${aclPath}/`))) continue;
      const entries = this.model.acl.filter((entry) => entry.path === aclPath);
      const collect = (candidates: AclEntry[]) => {
        let next: Record<string, 0 | 1> | undefined;
        for (const entry of candidates) {
          if (final || entry.propagate) {
            next ??= {};
            next[entry.role] = entry.propagate ? 1 : 0;
          }
        }
        return next;
      };
      const own = collect(entries.filter((entry) => entry.ugid === ugid));
      if (own) {
        roles = own; // token / user entries override group entries on the same path
        continue;
      }
      if (!isTokenId(ugid)) {
        const groups = Object.entries(this.model.groups)
          .filter(([, members]) => members.includes(ugid))
          .map(([group]) => `@${group}`);
        const fromGroups = collect(entries.filter((entry) => groups.includes(entry.ugid)));
        if (fromGroups) roles = fromGroups;
      }
    }
    if (roles.NoAccess !== undefined) return { NoAccess: roles.NoAccess };
    return roles;
  }

  private privilegesOf(ugid: string, path: string): PrivilegeSet {
    const privileges: PrivilegeSet = {};
    for (const [role, propagate] of Object.entries(this.rolesOn(ugid, path))) {
      for (const privilege of this.model.roles[role] ?? []) {
        privileges[privilege] = (privileges[privilege] || propagate) as 0 | 1;
      }
    }
    return privileges;
  }

  /** RPCEnvironment.pm permissions(): the privileges `id` (user or token) holds on `path`. */
  permissions(id: string, path: string): PrivilegeSet {
    if (id === 'root@pam') return Object.fromEntries(PRIVILEGES.map((p) => [p, 1])) as PrivilegeSet;
    const token = splitTokenId(id);
    if (token) {
      const privsep = this.model.tokenPrivsep(id);
      if (privsep === undefined) return {};
      const userPrivileges = this.permissions(token.userid, path);
      if (!privsep) return userPrivileges;
      const own = this.privilegesOf(id, path);
      const result: PrivilegeSet = {};
      for (const privilege of Object.keys(own)) {
        if (userPrivileges[privilege] !== undefined) {
          result[privilege] = (userPrivileges[privilege] && own[privilege] ? 1 : 0) as 0 | 1;
        }
      }
      return result;
    }
    if (verifyUsername(id) !== undefined) return {};
    return this.privilegesOf(id, path);
  }

  /** RPCEnvironment.pm check(): all of `privileges`; throws 403 "Permission check failed (path, priv)". */
  check(id: string, path: string, privileges: string[], noError = false): boolean {
    const held = this.permissions(id, path);
    for (const privilege of privileges) {
      assertPrivilegeName(privilege);
      if (held[privilege] === undefined) {
        if (noError) return false;
        throw permissionError(`${path}, ${privilege}`);
      }
    }
    return true;
  }

  /** RPCEnvironment.pm check_any(): one of `privileges`; 403 lists them joined with '|'. */
  checkAny(id: string, path: string, privileges: string[], noError = false): boolean {
    const held = this.permissions(id, path);
    privileges.forEach(assertPrivilegeName);
    if (privileges.some((privilege) => held[privilege] !== undefined)) return true;
    if (noError) return false;
    throw permissionError(`${path}, ${privileges.join('|')}`);
  }

  /** RPCEnvironment.pm check_api2_permissions(): a method's `permissions` for `id`. */
  checkApi2Permissions(
    spec: { user?: string; check?: unknown[] } | undefined,
    id: string | undefined,
    params: Record<string, unknown>,
  ): void {
    if (!id && spec?.user === 'world') return;
    if (!id) throw permissionError('user != null');
    if (id === 'root@pam') return;
    if (!spec) throw permissionError('user != root@pam');
    if (spec.user === 'all') return;
    if (spec.check) {
      this.execCheck(spec.check, id, params, false);
      return;
    }
    throw permissionError();
  }

  /** RPCEnvironment.pm exec_api2_perm_check(): the prefix-notation `check` arrays. */
  execCheck(check: unknown[], id: string, params: Record<string, unknown>, noError: boolean): boolean {
    const [test, ...rest] = check;
    if (test === 'and') {
      for (const sub of rest) this.execCheck(sub as unknown[], id, params, false);
      return true;
    }
    if (test === 'or') {
      for (const sub of rest) if (this.execCheck(sub as unknown[], id, params, true)) return true;
      if (noError) return false;
      throw permissionError();
    }
    if (test === 'perm') {
      const [template, privileges, ...optionList] = rest as [string, string[], ...unknown[]];
      const options: Record<string, unknown> = {};
      for (let i = 0; i + 1 < optionList.length; i += 2) options[String(optionList[i])] = optionList[i + 1];
      const requireParam = options.require_param as string | undefined;
      if (requireParam && (params[requireParam] === undefined || params[requireParam] === null)) {
        if (noError) return false;
        throw permissionError();
      }
      const path = normalizePath(templateReplace(template, params)) ?? '';
      return options.any
        ? this.checkAny(id, path, privileges, noError)
        : this.check(id, path, privileges, noError);
    }
    if (test === 'userid-param') {
      const userid = String(params.userid ?? '');
      const problem = verifyUsername(userid);
      if (problem !== undefined) throw new PveError(500, `${problem}\n`);
      const [subtest] = rest;
      if (subtest === 'self') {
        if (!this.model.userExists(userid)) {
          if (noError) return false;
          throw new PveError(500, `no such user ('${userid}')\n`);
        }
        if (id === userid) return true;
        if (noError) return false;
        throw permissionError();
      }
      if (subtest === 'Realm.AllocateUser') {
        const realm = userid.slice(userid.lastIndexOf('@') + 1);
        return this.check(id, `/access/realm/${realm}`, ['Realm.AllocateUser'], noError);
      }
      throw new PveError(500, 'unknown userid-param test\n');
    }
    if (test === 'userid-group') {
      const [privileges] = rest as [string[]];
      if (this.checkAny(id, '/access/groups', privileges, true)) return true;
      const userid = String(params.userid ?? '');
      const allowed = Object.entries(this.model.groups).some(
        ([group, members]) =>
          members.includes(userid) && this.checkAny(id, `/access/groups/${group}`, privileges, true),
      );
      if (allowed) return true;
      if (noError) return false;
      throw permissionError();
    }
    if (test === 'perm-modify') {
      const path = normalizePath(templateReplace(String(rest[0]), params));
      if (!path) return false;
      const privileges = ['Permissions.Modify'];
      if (/^\/storage\/.+$/.test(path)) privileges.push('Datastore.Allocate');
      else if (/^\/vms\/.+$/.test(path)) privileges.push('VM.Allocate');
      else if (/^\/pool\/.+$/.test(path)) privileges.push('Pool.Allocate');
      return this.checkAny(id, path, privileges, noError);
    }
    throw new PveError(500, 'unknown permission test\n');
  }

  /** RPCEnvironment.pm get_effective_permissions(): path -> privileges, paths with none left out. */
  effectivePermissions(id: string): Record<string, PrivilegeSet> {
    const paths = new Set(['/', '/access', '/access/groups', '/nodes', '/pool', '/sdn', '/storage', '/vms']);
    for (const entry of this.model.acl) {
      // iterate_acl_tree visits every node of the ACL tree, the inner ones included
      const parts = entry.path.split('/').filter(Boolean);
      for (let i = 1; i <= parts.length; i++) paths.add(`/${parts.slice(0, i).join('/')}`);
    }
    const result: Record<string, PrivilegeSet> = {};
    for (const path of [...paths].sort()) {
      const privileges = this.permissions(id, path);
      if (Object.keys(privileges).length > 0) result[path] = privileges;
    }
    return result;
  }

  /** RPCEnvironment.pm compute_api_permission(): the `cap` object of a login for the web UI. */
  capabilities(id: string): Record<string, Record<string, 1>> {
    const categories: Record<string, RegExp> = {
      vms: /^(VM\.|Permissions\.Modify)/,
      access: /^((User|Group)\.|Permissions\.Modify)/,
      storage: /^(Datastore\.|Permissions\.Modify)/,
      nodes: /^(Sys\.|Permissions\.Modify)/,
      sdn: /^(SDN\.|Permissions\.Modify)/,
      dc: /^(Sys\.Audit|Sys\.Modify|SDN\.)/,
      mapping: /^(Mapping\.|Permissions.Modify)/,
    };
    const result: Record<string, Record<string, 1>> = Object.fromEntries(
      Object.keys(categories).map((k) => [k, {}]),
    );
    const paths = new Set(['/', '/nodes', '/access/groups', '/vms', '/storage', '/sdn', '/mapping']);
    for (const entry of this.model.acl) paths.add(entry.path);
    for (const path of paths) {
      const privileges = Object.keys(this.permissions(id, path));
      const top = /^\/(\w+)/.exec(path)?.[1] ?? 'dc';
      if (top === 'pool') {
        for (const privilege of privileges) {
          if (privilege.startsWith('VM.')) result.vms![privilege] = 1;
          else if (privilege.startsWith('Datastore.')) result.storage![privilege] = 1;
          else if (privilege === 'Permissions.Modify') {
            result.storage![privilege] = 1;
            result.vms![privilege] = 1;
          }
        }
        continue;
      }
      const pattern = categories[top];
      if (!pattern) continue;
      for (const privilege of privileges) if (pattern.test(privilege)) result[top]![privilege] = 1;
    }
    return result;
  }
}

/** AccessControl.pm verify_privname, called by check()/check_any() for every name. */
function assertPrivilegeName(privilege: string): void {
  if (!VALID_PRIVILEGES.has(privilege)) throw new PveError(500, `invalid privilege '${privilege}'\n`);
}

/** PVE::Tools::template_replace: `{name}` -> the parameter, or '-' when missing/false. */
export function templateReplace(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const value = params[name];
    return value ? String(value) : '-';
  });
}
