import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** PVE accepts tokens up to 5 minutes from the future (clock skew) and for the ticket lifetime. */
const GRACE_SECONDS = 300;
const LIFETIME_SECONDS = 2 * 60 * 60;

function base64NoPad(buffer: Buffer): string {
  return buffer.toString('base64').replace(/=+$/, '');
}

/**
 * Checks a CSRFPreventionToken exactly as pveproxy does (pve-access-control
 * PVE::AccessControl::verify_csrf_prevention_token with PVE::Ticket): the secret is
 * HMAC-SHA256 (empty key) of /etc/pve/pve-www.key, the token is
 * "<8 hex timestamp>:" + HMAC-SHA256(secret, "<timestamp>:<userid>"), both base64
 * without padding (Perl's Digest::SHA). Only root can read the key; we run as root.
 */
export class CsrfVerifier {
  private secret: string | undefined;

  constructor(private readonly keyFile: string) {}

  private key(): string {
    this.secret ??= base64NoPad(createHmac('sha256', '').update(readFileSync(this.keyFile)).digest());
    return this.secret;
  }

  verify(userid: string, token: string, now = Date.now()): boolean {
    const match = /^([0-9A-F]{8}):(\S+)$/.exec(token);
    if (!match) return false;
    const [, timestamp, signature] = match as unknown as [string, string, string];
    const expected = base64NoPad(createHmac('sha256', this.key()).update(`${timestamp}:${userid}`).digest());
    const given = Buffer.from(signature);
    const wanted = Buffer.from(expected);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return false;
    const age = now / 1000 - parseInt(timestamp, 16);
    return age > -GRACE_SECONDS && age < LIFETIME_SECONDS;
  }
}
