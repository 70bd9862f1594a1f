import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Agent, fetch } from 'undici';
import { startTestService, testConfig } from '../../../../test/support/service.js';
import { tempDir } from '../../../../test/support/temp.js';
import { resolveTls } from './tls.js';

/** A self-signed pair for 127.0.0.1, as pve-ssl.pem is one signed for the node. */
function certificate(dir: string, name: string, cn: string) {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}.key`);
  execFileSync('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2'],
    ...['-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1'],
    ...['-keyout', keyFile, '-out', certFile],
  ], { stdio: 'ignore' }); // prettier-ignore
  return { certFile, keyFile };
}

describe('HTTPS with the node certificate', () => {
  it('chooses the custom pveproxy certificate over pve-ssl, as pveproxy does', () => {
    const dir = tempDir();
    assert.throws(() => resolveTls('pve', dir), /neither pveproxy-ssl.pem nor pve-ssl.pem/);
    const pveSsl = certificate(dir, 'pve-ssl', 'node');
    assert.deepEqual(resolveTls('pve', dir), pveSsl);
    const custom = certificate(dir, 'pveproxy-ssl', 'custom');
    assert.deepEqual(resolveTls('pve', dir), custom);
    assert.equal(resolveTls('off', dir), undefined);
  });

  it('serves the API over HTTPS, trusted by whoever trusts the certificate', async () => {
    const dir = tempDir();
    const files = certificate(dir, 'pve-ssl', 'node');
    const service = await startTestService({
      config: testConfig({ listen: { host: '127.0.0.1', port: 0, tls: 'pve', pveCertDir: dir } }),
    });
    assert.match(service.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const trusting = new Agent({ connect: { ca: readFileSync(files.certFile, 'utf8') } });
    const response = await fetch(`${service.url}/health`, { dispatcher: trusting });
    assert.equal(response.status, 200);
    await assert.rejects(fetch(`${service.url}/health`), 'an untrusted certificate is refused');
    await trusting.close();
  });
});
