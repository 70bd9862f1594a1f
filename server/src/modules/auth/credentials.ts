import type { Request } from 'express';
import type { PveCredentials } from '../pve/transport.js';

/** What a request presents: PVE's ticket cookie (the browser) or an API token (scripts). */
export type PresentedCredentials =
  | { kind: 'ticket'; ticket: string; userid: string; issuedAt: Date; csrfToken: string | undefined }
  | { kind: 'token'; tokenId: string; userid: string; secret: string };

// pve-access-control: "PVE:<userid>:<8 hex timestamp>::<base64 signature>"
const TICKET = /^PVE:([^\s:!]+@[^\s:!]+):([0-9A-F]{8})::[A-Za-z0-9+/=]+$/;
// "PVEAPIToken=<userid>!<tokenid>=<uuid secret>"
const TOKEN = /^PVEAPIToken=([^\s:!=]+@[^\s:!=]+)!([A-Za-z][A-Za-z0-9._-]*)=([0-9a-fA-F-]{36})$/;
const MAX_LENGTH = 4096;

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) {
      try {
        return decodeURIComponent(part.slice(index + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Reads the caller's credentials. Anything malformed is "not presented": only well-formed
 * values are ever forwarded to PVE. Returns 'malformed' so the caller can say so.
 */
export function presentedCredentials(req: Request): PresentedCredentials | 'malformed' | undefined {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const match = authorization.length <= MAX_LENGTH ? TOKEN.exec(authorization.trim()) : null;
    if (!match) return 'malformed';
    return { kind: 'token', userid: match[1]!, tokenId: `${match[1]}!${match[2]}`, secret: match[3]! };
  }
  const ticket = cookie(req, 'PVEAuthCookie');
  if (ticket === undefined) return undefined;
  const match = ticket.length <= MAX_LENGTH ? TICKET.exec(ticket) : null;
  if (!match) return 'malformed';
  const csrf = req.headers.csrfpreventiontoken;
  return {
    kind: 'ticket',
    ticket,
    userid: match[1]!,
    issuedAt: new Date(parseInt(match[2]!, 16) * 1000),
    csrfToken: typeof csrf === 'string' ? csrf : undefined,
  };
}

/** The same credentials, for calls we make to PVE on the caller's behalf. */
export function forwardable(credentials: PresentedCredentials): PveCredentials {
  return credentials.kind === 'token'
    ? { kind: 'token', tokenId: credentials.tokenId, secret: credentials.secret }
    : { kind: 'ticket', ticket: credentials.ticket, csrfToken: credentials.csrfToken };
}
