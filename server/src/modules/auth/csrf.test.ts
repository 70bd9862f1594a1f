import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../test/support/temp.js';
import { CsrfVerifier } from './csrf.js';

/** pveproxy's side, written independently from the Perl (PVE::Ticket, Digest::SHA). */
function pveToken(key: string, userid: string, at: number): string {
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  const secret = b64(createHmac('sha256', '').update(key).digest());
  const timestamp = Math.floor(at / 1000)
    .toString(16)
    .toUpperCase()
    .padStart(8, '0');
  return `${timestamp}:${b64(createHmac('sha256', secret).update(`${timestamp}:${userid}`).digest())}`;
}

describe('CsrfVerifier', () => {
  const key = '-----BEGIN RSA PRIVATE KEY-----\nnot really\n-----END RSA PRIVATE KEY-----\n';
  const keyFile = path.join(tempDir(), 'pve-www.key');
  writeFileSync(keyFile, key);
  const verifier = new CsrfVerifier(keyFile);
  const now = Date.now();

  it('accepts the token PVE issued for that user', () => {
    assert.equal(verifier.verify('alice@pve', pveToken(key, 'alice@pve', now), now), true);
  });

  it("refuses another user's token, a forged one, an old one and garbage", () => {
    assert.equal(verifier.verify('bob@pve', pveToken(key, 'alice@pve', now), now), false);
    assert.equal(verifier.verify('alice@pve', pveToken('other key', 'alice@pve', now), now), false);
    assert.equal(verifier.verify('alice@pve', pveToken(key, 'alice@pve', now - 3 * 3600_000), now), false);
    assert.equal(verifier.verify('alice@pve', 'nonsense', now), false);
  });
});
