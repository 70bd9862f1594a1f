/**
 * PVE's authentication primitives: ticket and CSRF token formats, signatures, lifetimes,
 * API token parsing (pve-common Ticket.pm; pve-access-control AccessControl.pm).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Authenticator, extractAuthValue, loadOrCreateAuthKeys } from './auth.js';
import { PveError } from './errors.js';
import { tempDir } from '../../support/temp.js';

let now = Date.UTC(2026, 4, 1, 12, 0, 0);
const keys = loadOrCreateAuthKeys(tempDir('pve-sim-auth-'));
const auth = new Authenticator({
  keys,
  users: () => [
    { userid: 'root@pam', password: 'rigpassword' },
    { userid: 'alice@pve', password: 'alicepassword' },
    { userid: 'old@pve', password: 'x', enable: false },
  ],
  tokens: () => [
    { tokenid: 'root@pam!proximity', secret: '5f0c7d8e-3a41-4b6f-9c2d-7e1a2b3c4d5e', privsep: false },
  ],
  ticketLifetimeSeconds: 7200,
  clock: () => now,
});

function unauthorized(action: () => unknown, message: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof PveError, String(error));
    assert.equal(error.status, 401);
    assert.equal(error.pveMessage, `${message}\n`);
    return true;
  });
}

describe('tickets', () => {
  test("have PVE's format: PVE:<user>:<8 hex creation time>::<base64 signature>", () => {
    const ticket = auth.assembleTicket('alice@pve');
    const hex = Math.floor(now / 1000)
      .toString(16)
      .toUpperCase();
    assert.match(ticket, new RegExp(`^PVE:alice@pve:${hex}::[A-Za-z0-9+/]+={0,2}$`));
    assert.deepEqual(auth.verifyTicket(ticket), { userid: 'alice@pve', age: 0 });
  });

  test('a changed user name or signature does not verify', () => {
    const ticket = auth.assembleTicket('alice@pve');
    unauthorized(
      () => auth.verifyTicket(ticket.replace('alice@pve', 'root@pam')),
      'permission denied - invalid PVE ticket',
    );
    const [plain, signature] = ticket.split('::') as [string, string];
    const flipped = `${plain}::${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    unauthorized(() => auth.verifyTicket(flipped), 'permission denied - invalid PVE ticket');
    unauthorized(() => auth.verifyTicket('garbage'), 'permission denied - invalid PVE ticket');
    const other = new Authenticator({
      keys: loadOrCreateAuthKeys(tempDir('pve-sim-auth-')),
      users: () => [],
      tokens: () => [],
      ticketLifetimeSeconds: 7200,
      clock: () => now,
    });
    unauthorized(
      () => auth.verifyTicket(other.assembleTicket('alice@pve')),
      'permission denied - invalid PVE ticket',
    );
  });

  test('expire after their lifetime and are not valid from the far future', () => {
    const ticket = auth.assembleTicket('alice@pve');
    const issued = now;
    now = issued + 7199 * 1000;
    assert.equal(auth.verifyTicket(ticket).age, 7199);
    now = issued + 7200 * 1000;
    unauthorized(() => auth.verifyTicket(ticket), 'permission denied - invalid PVE ticket');
    now = issued - 301 * 1000; // issued more than 5 minutes "in the future"
    unauthorized(() => auth.verifyTicket(ticket), 'permission denied - invalid PVE ticket');
    now = issued;
  });
});

describe('CSRF prevention tokens', () => {
  test('are <8 hex>:<unpadded base64 HMAC-SHA256> and bound to the user', () => {
    const token = auth.assembleCsrfToken('alice@pve');
    assert.match(token, /^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$/);
    auth.verifyCsrfToken('alice@pve', token);
    unauthorized(() => auth.verifyCsrfToken('root@pam', token), 'Permission denied - invalid csrf token');
    unauthorized(
      () => auth.verifyCsrfToken('alice@pve', undefined),
      'Permission denied - invalid csrf token',
    );
  });

  test('expire with the ticket lifetime', () => {
    const token = auth.assembleCsrfToken('alice@pve');
    now += 7200 * 1000;
    unauthorized(() => auth.verifyCsrfToken('alice@pve', token), 'Permission denied - invalid csrf token');
    now -= 7200 * 1000;
  });
});

describe('request authentication', () => {
  test('a cookie ticket needs a CSRF token for anything but GET', () => {
    const ticket = auth.assembleTicket('alice@pve');
    const cookie = `PVEAuthCookie=${encodeURIComponent(ticket)}`;
    assert.equal(auth.authenticateRequest('GET', '/nodes', { cookie }).userid, 'alice@pve');
    unauthorized(
      () => auth.authenticateRequest('POST', '/nodes/pve1/lxc', { cookie }),
      'Permission denied - invalid csrf token',
    );
    const csrf = auth.assembleCsrfToken('alice@pve');
    assert.equal(
      auth.authenticateRequest('DELETE', '/nodes/pve1/lxc/100', { cookie, csrf }).userid,
      'alice@pve',
    );
  });

  test('API tokens: PVEAPIToken=<tokenid>=<secret>, no CSRF token', () => {
    const authorization = 'PVEAPIToken=root@pam!proximity=5f0c7d8e-3a41-4b6f-9c2d-7e1a2b3c4d5e';
    assert.deepEqual(auth.authenticateRequest('POST', '/nodes/pve1/lxc', { authorization }), {
      userid: 'root@pam!proximity',
      apiToken: true,
    });
    unauthorized(
      () =>
        auth.authenticateRequest('GET', '/nodes', { authorization: authorization.replace('5f0c', '6f0c') }),
      'invalid token value!',
    );
    unauthorized(
      () => auth.authenticateRequest('GET', '/nodes', { authorization: 'PVEAPIToken=root@pam!other=x' }),
      "no such token 'other' for user 'root@pam'",
    );
    unauthorized(
      () => auth.authenticateRequest('GET', '/nodes', { authorization: 'PVEAPIToken=nonsense' }),
      'no tokenid specified',
    );
  });

  test('no credentials: "No ticket", except for the login itself', () => {
    unauthorized(() => auth.authenticateRequest('GET', '/nodes', {}), 'No ticket');
    assert.deepEqual(auth.authenticateRequest('POST', '/access/ticket', {}), { userid: undefined });
  });

  test('a disabled user cannot use a ticket', () => {
    const cookie = `PVEAuthCookie=${auth.assembleTicket('old@pve')}`;
    unauthorized(() => auth.authenticateRequest('GET', '/nodes', { cookie }), "user 'old@pve' is disabled");
  });

  test('auth values come from a cookie list or an Authorization header', () => {
    assert.equal(extractAuthValue('a=b; PVEAuthCookie=PVE%3Ax; c=d', 'PVEAuthCookie'), 'PVE:x');
    assert.equal(extractAuthValue('PVEAPIToken user@pve!tk=s', 'PVEAPIToken'), 'user@pve!tk=s');
    assert.equal(extractAuthValue('XPVEAuthCookie=1', 'PVEAuthCookie'), undefined);
  });
});
