import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasPrivilege, type PermissionMap } from './permissions.js';

describe('hasPrivilege', () => {
  const bob: PermissionMap = {
    '/': { 'Sys.Audit': 1 },
    '/vms': { 'VM.Audit': 1, 'VM.Allocate': 1, 'Sys.Audit': 1 },
    '/vms/100': { 'VM.Audit': 0 },
    '/storage': { 'Datastore.AllocateSpace': 0 },
  };

  it('grants what a propagating ancestor holds', () => {
    assert.equal(hasPrivilege(bob, '/vms/123', 'VM.Allocate'), true);
    assert.equal(hasPrivilege(bob, '/nodes/pve1', 'Sys.Audit'), true);
  });

  it('lets the most specific path decide', () => {
    assert.equal(hasPrivilege(bob, '/vms/100', 'VM.Audit'), true);
    assert.equal(hasPrivilege(bob, '/vms/100', 'VM.Allocate'), false, 'an exact entry overrides /vms');
  });

  it('does not propagate a non-propagating privilege', () => {
    assert.equal(hasPrivilege(bob, '/storage', 'Datastore.AllocateSpace'), true);
    assert.equal(hasPrivilege(bob, '/storage/local', 'Datastore.AllocateSpace'), false);
  });

  it('refuses what nobody granted and matches whole path segments only', () => {
    assert.equal(hasPrivilege(bob, '/', 'Sys.Modify'), false);
    assert.equal(hasPrivilege({ '/vms': { 'VM.Audit': 1 } }, '/vmsx/1', 'VM.Audit'), false);
    assert.equal(hasPrivilege({}, '/vms', 'VM.Audit'), false);
  });
});
