/**
 * /access: logins and permissions (pve-access-control src/PVE/API2/AccessControl.pm
 * create_ticket, permissions; API2/Domains.pm index).
 */
import { splitTokenId } from '../acl.js';
import { PveError } from '../errors.js';
import { stringParam, userOf, type Route } from '../simulator-state.js';

const createTicket: Route = {
  method: 'POST',
  path: '/access/ticket',
  handler: ({ sim, params }) => {
    let username = stringParam(params, 'username')!;
    const realm = stringParam(params, 'realm');
    if (realm !== undefined) username += `@${realm}`;
    const password = stringParam(params, 'password')!;
    try {
      sim.auth.checkUserEnabled(username);
      if (params.path !== undefined && params.privs !== undefined) {
        throw new Error('verifying privileges with a ticket call is not supported by the rig');
      }
      // a valid ticket of the same user (or of root@pam) renews it, like the web UI does
      let ticketUser: string | undefined;
      try {
        ticketUser = sim.auth.verifyTicket(password).userid;
      } catch {
        ticketUser = undefined;
      }
      if (!(ticketUser === username || ticketUser === 'root@pam'))
        sim.auth.authenticateUser(username, password);
    } catch {
      // "do not return any info to prevent user enumeration attacks"
      throw new PveError(401, 'authentication failure\n');
    }
    return {
      ticket: sim.auth.assembleTicket(username),
      CSRFPreventionToken: sim.auth.assembleCsrfToken(username),
      username,
      cap: sim.acl.capabilities(username),
    };
  },
};

const ticketDummy: Route = {
  method: 'GET',
  path: '/access/ticket',
  handler: () => null,
};

const permissions: Route = {
  method: 'GET',
  path: '/access/permissions',
  handler: (context) => {
    const { sim, params } = context;
    const authid = userOf(context);
    const userid = stringParam(params, 'userid') ?? authid;
    const ownsToken = splitTokenId(userid)?.userid === authid;
    if (userid !== authid && !ownsToken) sim.acl.check(authid, '/access', ['Sys.Audit']);
    const path = stringParam(params, 'path');
    if (path) return { [path]: sim.acl.permissions(userid, path) };
    return sim.acl.effectivePermissions(userid);
  },
};

const domains: Route = {
  method: 'GET',
  path: '/access/domains',
  handler: () => [
    { realm: 'pam', type: 'pam', comment: 'Linux PAM standard authentication' },
    { realm: 'pve', type: 'pve', comment: 'Proxmox VE authentication server' },
  ],
};

export const accessRoutes: Route[] = [createTicket, ticketDummy, permissions, domains];
