/**
 * Proxmox VE authentication: tickets, CSRF prevention tokens, API tokens and password logins,
 * with PVE's formats and error texts.
 *
 * - Ticket: `PVE:<userid>:<8 hex digits of the creation time>::<base64 RSA signature>`
 *   (pve-common src/PVE/Ticket.pm assemble_rsa_ticket). Valid from 5 minutes in the future
 *   up to the lifetime (2 h); anything else is "permission denied - invalid PVE ticket".
 * - CSRF token: `<8 hex time>:<base64 HMAC-SHA256 of "<time>:<userid>">` (Ticket.pm
 *   assemble_csrf_prevention_token); required for every non-GET request authenticated by a
 *   ticket, wrong or missing -> 401 "Permission denied - invalid csrf token".
 * - API token: `Authorization: PVEAPIToken=<user@realm!name>=<secret>`; no CSRF token needed
 *   (pve-manager PVE/HTTPServer.pm auth_handler; AccessControl.pm verify_token).
 *
 * The RSA key and the CSRF secret are created once per data directory, so tickets survive a
 * restart of the simulator as they survive a restart of pveproxy.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { splitTokenId } from './acl.js';
import type { SimToken, SimUser } from './config.js';
import { authError, PveError } from './errors.js';
import { verifyUsername } from './formats.js';

const GRACE_SECONDS = 300; // AccessControl.pm $auth_graceperiod: clocks may differ by 5 minutes

export interface AuthKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  csrfSecret: string;
}

/** The node's auth key pair and CSRF secret, created on first use (like /etc/pve/priv/authkey.key). */
export function loadOrCreateAuthKeys(dataDir: string): AuthKeys {
  const keyFile = path.join(dataDir, 'priv', 'authkey.key');
  const secretFile = path.join(dataDir, 'priv', 'pve-www.key');
  mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const privateKey = createPrivateKey(readFileSync(keyFile));
  // AccessControl.pm get_csrfr_secret: the secret is Digest::SHA::hmac_sha256_base64 of the
  // key file's contents (empty HMAC key), not the contents themselves.
  const csrfSecret = createHmac('sha256', '')
    .update(readFileSync(secretFile))
    .digest('base64')
    .replace(/=+$/, '');
  return { privateKey, publicKey: createPublicKey(privateKey), csrfSecret };
}

/** Who a request runs as: a user id, or an API token id `user@realm!name`. */
export interface AuthInfo {
  userid: string | undefined;
  ticket?: string | undefined;
  apiToken?: boolean | undefined;
}

export interface AuthOptions {
  keys: AuthKeys;
  users: () => SimUser[];
  tokens: () => SimToken[];
  ticketLifetimeSeconds: number;
  /** Milliseconds since the epoch; injectable so tests can age tickets. */
  clock: () => number;
}

const hex8 = (seconds: number) => seconds.toString(16).toUpperCase().padStart(8, '0');

/** pve-http-server Formatter.pm extract_auth_value: `name=value` or `name value`, up to ';'. */
export function extractAuthValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`(?:^|\\s)${escaped}(?:=| )([^;]*)`).exec(header);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

export class Authenticator {
  constructor(private readonly options: AuthOptions) {}

  private now(): number {
    return Math.floor(this.options.clock() / 1000);
  }

  assembleTicket(userid: string): string {
    const plain = `PVE:${userid}:${hex8(this.now())}`;
    const signature = sign('sha256', Buffer.from(plain), this.options.keys.privateKey).toString('base64');
    return `${plain}::${signature}`;
  }

  /** AccessControl.pm verify_ticket; throws 401 "permission denied - invalid PVE ticket". */
  verifyTicket(ticket: string | undefined): { userid: string; age: number } {
    const invalid = () => authError('permission denied - invalid PVE ticket');
    const whole = ticket ? /^(PVE:\S+)::([^:\s]+)$/.exec(ticket) : null;
    if (!whole) throw invalid();
    const [, plain, signature] = whole as unknown as [string, string, string];
    if (
      !verify('sha256', Buffer.from(plain), this.options.keys.publicKey, Buffer.from(signature, 'base64'))
    ) {
      throw invalid();
    }
    const parts = /^PVE:(?:(\S+):)?([A-Z0-9]{8})$/.exec(plain);
    if (!parts?.[1]) throw invalid();
    const age = this.now() - parseInt(parts[2]!, 16);
    if (!(age > -GRACE_SECONDS && age < this.options.ticketLifetimeSeconds)) throw invalid();
    const problem = verifyUsername(parts[1]);
    if (problem !== undefined) throw authError(problem);
    return { userid: parts[1], age };
  }

  private csrfDigest(timestamp: string, userid: string): string {
    return createHmac('sha256', this.options.keys.csrfSecret)
      .update(`${timestamp}:${userid}`)
      .digest('base64')
      .replace(/=+$/, ''); // Perl's Digest::SHA *_base64 does not pad
  }

  assembleCsrfToken(userid: string): string {
    const timestamp = hex8(this.now());
    return `${timestamp}:${this.csrfDigest(timestamp, userid)}`;
  }

  /** Ticket.pm verify_csrf_prevention_token; throws 401 "Permission denied - invalid csrf token". */
  verifyCsrfToken(userid: string, token: string | undefined): void {
    const match = token ? /^([A-Z0-9]{8}):(\S+)$/.exec(token) : null;
    if (match) {
      const age = this.now() - parseInt(match[1]!, 16);
      if (
        safeEqual(this.csrfDigest(match[1]!, userid), match[2]!) &&
        age > -GRACE_SECONDS &&
        age < this.options.ticketLifetimeSeconds
      ) {
        return;
      }
    }
    throw authError('Permission denied - invalid csrf token');
  }

  /** AccessControl.pm check_user_enabled (texts of check_user_exist and friends). */
  checkUserEnabled(userid: string): SimUser {
    const problem = verifyUsername(userid);
    if (problem !== undefined) throw new PveError(500, `${problem}\n`);
    const user = this.options.users().find((candidate) => candidate.userid === userid);
    if (!user) throw new PveError(500, `no such user ('${userid}')\n`);
    if (user.enable === false) throw new PveError(500, `user '${userid}' is disabled\n`);
    if (user.expire && user.expire < this.now()) throw new PveError(500, `user '${userid}' access expired\n`);
    return user;
  }

  /** AccessControl.pm verify_token: `<tokenid>=<secret>` -> the token id, or a 401. */
  verifyApiToken(value: string): string {
    const match = /^(.*)=(.*)$/s.exec(value);
    if (!match) throw authError('no tokenid specified');
    const [, tokenid, secret] = match as unknown as [string, string, string];
    const split = splitTokenId(tokenid);
    if (!split)
      throw authError(`'${tokenid}' is not a valid token ID - not able to split into user and token parts`);
    try {
      this.checkUserEnabled(split.userid);
    } catch (error) {
      throw authError((error as PveError).message);
    }
    const token = this.options.tokens().find((candidate) => candidate.tokenid === tokenid);
    if (!token) throw authError(`no such token '${split.token}' for user '${split.userid}'`);
    if (token.expire && token.expire < this.now()) throw authError(`token '${split.token}' access expired`);
    if (!safeEqual(token.secret, secret)) throw authError('invalid token value!');
    return tokenid;
  }

  tokenPrivsep(tokenid: string): boolean | undefined {
    return this.options.tokens().find((token) => token.tokenid === tokenid)?.privsep;
  }

  /** A password login (PVE realms pam and pve); throws with the reason (logged, not shown). */
  authenticateUser(userid: string, password: string): void {
    const user = this.checkUserEnabled(userid);
    const realm = userid.slice(userid.lastIndexOf('@') + 1);
    if (realm !== 'pam' && realm !== 'pve') throw new Error(`auth domain '${realm}' does not exist`);
    if (!safeEqual(user.password, password)) throw new Error('authentication failure');
  }

  /**
   * pve-manager PVE/HTTPServer.pm auth_handler: who the request runs as. A few calls need no
   * credentials; otherwise a ticket (cookie PVEAuthCookie, else an `Authorization:
   * PVEAuthCookie=` header) or else an API token; and a CSRF token for non-GET ticket requests.
   */
  authenticateRequest(
    method: string,
    relativePath: string,
    headers: { cookie?: string | undefined; authorization?: string | undefined; csrf?: string | undefined },
  ): AuthInfo {
    const anonymousAllowed =
      (relativePath === '/access/domains' && method === 'GET') ||
      (relativePath === '/access/ticket' && (method === 'GET' || method === 'POST')) ||
      (relativePath === '/access/vncticket' && method === 'POST') ||
      (relativePath === '/access/openid/login' && method === 'POST') ||
      (relativePath === '/access/openid/auth-url' && method === 'POST');
    if (anonymousAllowed) return { userid: undefined };

    const ticket =
      extractAuthValue(headers.cookie, 'PVEAuthCookie') ??
      extractAuthValue(headers.authorization, 'PVEAuthCookie');
    const apiToken = ticket ? undefined : extractAuthValue(headers.authorization, 'PVEAPIToken');
    if (apiToken !== undefined) return { userid: this.verifyApiToken(apiToken), apiToken: true };
    if (!ticket) throw authError('No ticket');
    const { userid } = this.verifyTicket(ticket);
    try {
      this.checkUserEnabled(userid);
    } catch (error) {
      throw authError((error as PveError).message);
    }
    // Note: PVE skips the check for GET only; HEAD is not a method PVE accepts at all.
    if (method !== 'GET') this.verifyCsrfToken(userid, headers.csrf);
    return { userid, ticket };
  }
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
