/**
 * PVE's permission model: built-in roles, propagation, the most specific path winning,
 * NoAccess, tokens with and without privilege separation, and the `check` forms of the API
 * schema (pve-access-control AccessControl.pm / RPCEnvironment.pm).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AccessControl, builtinRoles, PRIVILEGES, type AclEntry } from './acl.js';
import { PveError } from './errors.js';

function model(acl: AclEntry[], tokens: Record<string, boolean> = {}, groups: Record<string, string[]> = {}) {
  return new AccessControl({
    roles: builtinRoles(),
    acl,
    groups,
    tokenPrivsep: (tokenid) => tokens[tokenid],
    userExists: () => true,
  });
}

const entry = (path: string, ugid: string, role: string, propagate = true): AclEntry => ({
  path,
  ugid,
  role,
  propagate,
});

function forbidden(action: () => unknown, message: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof PveError);
    assert.equal(error.status, 403);
    assert.equal(error.pveMessage, `${message}\n`);
    return true;
  });
}

describe('built-in roles', () => {
  const roles = builtinRoles();

  test('Administrator has every PVE 9 privilege, NoAccess none', () => {
    assert.deepEqual(roles.Administrator, [...PRIVILEGES].sort());
    assert.equal(PRIVILEGES.length, 47);
    assert.deepEqual(roles.NoAccess, []);
  });

  test('PVEAuditor may read, not change', () => {
    assert.deepEqual(roles.PVEAuditor, [
      'Datastore.Audit',
      'Mapping.Audit',
      'Pool.Audit',
      'SDN.Audit',
      'Sys.Audit',
      'VM.Audit',
    ]);
  });

  test('PVEVMAdmin administers guests but not the node', () => {
    const admin = roles.PVEVMAdmin!;
    for (const privilege of ['VM.Allocate', 'VM.Audit', 'VM.PowerMgmt', 'VM.Config.Network', 'VM.Console']) {
      assert.ok(admin.includes(privilege), privilege);
    }
    assert.ok(!admin.some((privilege) => privilege.startsWith('Sys.')));
    assert.ok(!admin.includes('Datastore.AllocateSpace'));
  });

  test('PVEAdmin lacks the root-only privileges', () => {
    for (const privilege of ['Sys.Modify', 'Sys.PowerMgmt', 'Realm.Allocate', 'Permissions.Modify']) {
      assert.ok(!roles.PVEAdmin!.includes(privilege), privilege);
    }
  });
});

describe('effective privileges', () => {
  test('root@pam holds everything without any ACL', () => {
    const acl = model([]);
    assert.equal(Object.keys(acl.permissions('root@pam', '/vms/100')).length, PRIVILEGES.length);
  });

  test('a propagating entry reaches sub-paths, a non-propagating one only its path', () => {
    const acl = model([
      entry('/vms', 'a@pve', 'PVEVMUser', true),
      entry('/storage', 'a@pve', 'PVEAuditor', false),
    ]);
    assert.equal(acl.permissions('a@pve', '/vms/100')['VM.PowerMgmt'], 1);
    assert.equal(acl.permissions('a@pve', '/storage')['Datastore.Audit'], 0, 'set, flagged not propagating');
    assert.equal(acl.permissions('a@pve', '/storage/local')['Datastore.Audit'], undefined);
    assert.deepEqual(acl.permissions('a@pve', '/'), {});
  });

  test('the most specific path wins, even when it grants less', () => {
    const acl = model([entry('/', 'a@pve', 'Administrator'), entry('/vms/100', 'a@pve', 'PVEAuditor')]);
    assert.equal(acl.permissions('a@pve', '/vms/101')['VM.Allocate'], 1);
    assert.equal(acl.permissions('a@pve', '/vms/100')['VM.Allocate'], undefined);
    assert.equal(acl.permissions('a@pve', '/vms/100')['VM.Audit'], 1);
  });

  test('NoAccess removes everything below', () => {
    const acl = model([entry('/', 'a@pve', 'Administrator'), entry('/vms', 'a@pve', 'NoAccess')]);
    assert.deepEqual(acl.permissions('a@pve', '/vms/100'), {});
    assert.equal(acl.permissions('a@pve', '/storage')['Datastore.Allocate'], 1);
  });

  test('user entries beat group entries on the same path', () => {
    const acl = model(
      [entry('/vms', '@ops', 'PVEVMAdmin'), entry('/vms', 'a@pve', 'PVEAuditor')],
      {},
      { ops: ['a@pve', 'b@pve'] },
    );
    assert.equal(acl.permissions('a@pve', '/vms/1')['VM.Allocate'], undefined);
    assert.equal(acl.permissions('b@pve', '/vms/1')['VM.Allocate'], 1);
  });

  test('a token without privilege separation has its user privileges', () => {
    const acl = model([entry('/', 'a@pve', 'PVEAuditor')], { 'a@pve!tk': false });
    assert.equal(acl.permissions('a@pve!tk', '/vms')['VM.Audit'], 1);
    assert.deepEqual(acl.permissions('a@pve!tk', '/vms'), acl.permissions('a@pve', '/vms'));
  });

  test('a separated token gets its user privileges intersected with its own ACL', () => {
    const acl = model([entry('/', 'a@pve', 'PVEVMUser'), entry('/vms', 'a@pve!tk', 'PVEVMAdmin')], {
      'a@pve!tk': true,
    });
    const privileges = acl.permissions('a@pve!tk', '/vms/100');
    assert.equal(privileges['VM.PowerMgmt'], 1, 'in both');
    assert.equal(privileges['VM.Allocate'], undefined, 'token only');
    assert.deepEqual(acl.permissions('a@pve!tk', '/storage'), {}, 'user only');
    assert.deepEqual(acl.permissions('a@pve!unknown', '/vms'), {}, 'unknown token');
  });
});

describe('permission checks of the API schema', () => {
  const acl = model([entry('/', 'alice@pve', 'PVEAuditor'), entry('/vms', 'bob@pve', 'PVEVMAdmin')]);

  test('perm: all privileges, message names the path and the missing privilege', () => {
    const check = { check: ['perm', '/vms/{vmid}', ['VM.PowerMgmt']] };
    acl.checkApi2Permissions(check, 'bob@pve', { vmid: '100' });
    forbidden(
      () => acl.checkApi2Permissions(check, 'alice@pve', { vmid: '100' }),
      'Permission check failed (/vms/100, VM.PowerMgmt)',
    );
  });

  test("perm with 'any': one is enough, message lists them with '|'", () => {
    const check = {
      check: ['perm', '/storage/{storage}', ['Datastore.Audit', 'Datastore.AllocateSpace'], 'any', 1],
    };
    acl.checkApi2Permissions(check, 'alice@pve', { storage: 'local' });
    forbidden(
      () => acl.checkApi2Permissions(check, 'bob@pve', { storage: 'local' }),
      'Permission check failed (/storage/local, Datastore.Audit|Datastore.AllocateSpace)',
    );
  });

  test('and / or', () => {
    const both = { check: ['and', ['perm', '/', ['Sys.Audit']], ['perm', '/vms', ['VM.Allocate']]] };
    forbidden(
      () => acl.checkApi2Permissions(both, 'alice@pve', {}),
      'Permission check failed (/vms, VM.Allocate)',
    );
    const either = { check: ['or', ['perm', '/', ['Sys.Modify']], ['perm', '/vms', ['VM.Audit']]] };
    acl.checkApi2Permissions(either, 'alice@pve', {});
    const neither = { check: ['or', ['perm', '/', ['Sys.Modify']], ['perm', '/', ['Sys.PowerMgmt']]] };
    forbidden(() => acl.checkApi2Permissions(neither, 'alice@pve', {}), 'Permission check failed');
  });

  test("userid-param 'self'", () => {
    const self = { check: ['userid-param', 'self'] };
    acl.checkApi2Permissions(self, 'alice@pve', { userid: 'alice@pve' });
    forbidden(
      () => acl.checkApi2Permissions(self, 'alice@pve', { userid: 'bob@pve' }),
      'Permission check failed',
    );
  });

  test("user 'all' needs a user, 'world' does not, no permissions means root only", () => {
    acl.checkApi2Permissions({ user: 'all' }, 'bob@pve', {});
    acl.checkApi2Permissions({ user: 'world' }, undefined, {});
    forbidden(
      () => acl.checkApi2Permissions({ user: 'all' }, undefined, {}),
      'Permission check failed (user != null)',
    );
    forbidden(
      () => acl.checkApi2Permissions(undefined, 'bob@pve', {}),
      'Permission check failed (user != root@pam)',
    );
    acl.checkApi2Permissions(undefined, 'root@pam', {});
  });
});

describe('what a login and /access/permissions report', () => {
  const acl = model([entry('/', 'alice@pve', 'PVEAuditor')]);

  test('effective permissions list the standard paths where the user holds something', () => {
    const result = acl.effectivePermissions('alice@pve');
    assert.deepEqual(Object.keys(result), [
      '/',
      '/access',
      '/access/groups',
      '/nodes',
      '/pool',
      '/sdn',
      '/storage',
      '/vms',
    ]);
    assert.equal(result['/vms']!['VM.Audit'], 1);
    assert.equal(result['/vms']!['VM.Allocate'], undefined);
    assert.deepEqual(acl.effectivePermissions('nobody@pve'), {});
  });

  test('cap groups the privileges by area for the web UI', () => {
    const cap = acl.capabilities('alice@pve');
    assert.deepEqual(Object.keys(cap).sort(), ['access', 'dc', 'mapping', 'nodes', 'sdn', 'storage', 'vms']);
    assert.deepEqual(cap.vms, { 'VM.Audit': 1 });
    assert.deepEqual(cap.nodes, { 'Sys.Audit': 1 });
    assert.equal(model([]).capabilities('root@pam').nodes!['Sys.Modify'], 1);
  });
});
