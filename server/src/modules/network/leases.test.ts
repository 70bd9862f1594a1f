import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leaseOf, parseLeaseFile } from './leases.js';

describe('parseLeaseFile', () => {
  it("reads dnsmasq's lease lines", () => {
    const text = [
      '1767225600 bc:24:11:00:00:01 10.20.0.101 wiki 01:bc:24:11:00:00:01',
      '0 BC:24:11:00:00:02 10.20.0.2 * *',
    ].join('\n');
    assert.deepEqual(parseLeaseFile(text), [
      {
        mac: 'bc:24:11:00:00:01',
        ip: '10.20.0.101',
        hostname: 'wiki',
        expiresAt: '2026-01-01T00:00:00.000Z',
      },
      { mac: 'bc:24:11:00:00:02', ip: '10.20.0.2', hostname: null, expiresAt: null },
    ]);
  });

  it('skips what it cannot trust: a half-written line, garbage, a name that is not a label', () => {
    const text = [
      '1767225600 bc:24:11:00:00:01 10.20.0.101 ok *',
      '1767225600 bc:24:11:00:00:0', // cut mid-write
      'duid 00:01:00:01',
      '1767225600 bc:24:11:00:00:03 10.20.0.300 bad *',
      '1767225600 bc:24:11:00:00:04 10.20.0.104 na;me *',
      '',
    ].join('\n');
    const leases = parseLeaseFile(text);
    assert.deepEqual(
      leases.map((l) => [l.ip, l.hostname]),
      [
        ['10.20.0.101', 'ok'],
        ['10.20.0.104', null],
      ],
    );
  });
});

describe('leaseOf', () => {
  const text = [
    'duid 00:01:00:01:2c:aa',
    '1767225600 bc:24:11:00:00:01 10.20.0.101 wiki 01:bc:24:11:00:00:01',
    '0 BC:24:11:00:00:02 10.20.0.102 db *',
    '1767225600 bc:24:11:00:00:03 10.20.0.103 x $(reboot)',
  ].join('\n');

  it('finds the lease of a MAC, in any case, with the client-id dhcp_release needs', () => {
    assert.deepEqual(leaseOf(text, 'BC:24:11:00:00:01'), {
      mac: 'bc:24:11:00:00:01',
      ip: '10.20.0.101',
      clientId: '01:bc:24:11:00:00:01',
    });
    assert.deepEqual(leaseOf(text, 'bc:24:11:00:00:02'), {
      mac: 'bc:24:11:00:00:02',
      ip: '10.20.0.102',
      clientId: null,
    });
  });

  it('finds nothing for another MAC or a bad one, and never passes on a client-id that is not hex', () => {
    assert.equal(leaseOf(text, 'bc:24:11:00:00:09'), undefined);
    assert.equal(leaseOf(text, 'not a mac'), undefined);
    assert.equal(leaseOf(text, 'bc:24:11:00:00:03')?.clientId, null);
  });
});
