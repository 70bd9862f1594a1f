/**
 * PVE's parameter validation against the real PVE 9 API schema: one test per class of check,
 * each on a real endpoint, expecting PVE's exact message (pve-common JSONSchema.pm).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiSchema } from './schema.js';
import { parseProperties } from './validate.js';
import { printPropertyString } from './property-string.js';

const schema = ApiSchema.load();
const createCt = (extra: Record<string, unknown>) =>
  schema.validateParameters('POST', '/nodes/{node}/lxc', {
    node: 'pve1',
    vmid: '100',
    ostemplate: 'local:vztmpl/busybox-rig_1.36_amd64.tar.zst',
    ...extra,
  });

describe('the schema index', () => {
  test('finds methods by path template and fills in path parameters', () => {
    const match = schema.match('POST', '/nodes/pve1/lxc/123/status/start');
    assert.equal(match?.template, '/nodes/{node}/lxc/{vmid}/status/start');
    assert.deepEqual(match?.pathParams, { node: 'pve1', vmid: '123' });
    assert.equal(match?.info.name, 'vm_start');
    assert.equal(schema.match('GET', '/nodes/pve1/lxc/123/status/start'), undefined, 'start is POST only');
    assert.equal(schema.match('GET', '/no/such/path'), undefined);
  });

  test('a valid container creation passes', () => {
    assert.deepEqual(
      createCt({ net0: 'name=eth0,bridge=vmbr0,ip=dhcp', rootfs: 'local-lvm:8', start: '1', memory: '256' }),
      {},
    );
  });
});

describe('each check PVE makes', () => {
  test('pve-iface: PVE refuses a hyphen in an interface name', () => {
    assert.deepEqual(
      schema.validateParameters('POST', '/nodes/{node}/network', {
        node: 'pve1',
        iface: 'proximity-lan',
        type: 'bridge',
      }),
      { iface: "invalid format - invalid network interface name 'proximity-lan'\n" },
    );
    assert.deepEqual(
      schema.validateParameters('POST', '/nodes/{node}/network', {
        node: 'pve1',
        iface: 'proxlan0',
        type: 'bridge',
      }),
      {},
    );
  });

  test('additionalProperties 0: an unknown parameter is refused', () => {
    assert.deepEqual(createCt({ colour: 'blue' }), {
      colour: 'property is not defined in schema and the schema does not allow additional properties',
    });
  });

  test('required parameters: a missing one is refused', () => {
    assert.deepEqual(schema.validateParameters('POST', '/nodes/{node}/lxc', { node: 'pve1', vmid: '100' }), {
      ostemplate: 'property is missing and it is not optional',
    });
  });

  test('integer, number and boolean types', () => {
    assert.deepEqual(createCt({ cores: 'two' }), { cores: "type check ('integer') failed - got 'two'" });
    assert.deepEqual(createCt({ cpulimit: '1,5' }), { cpulimit: "type check ('number') failed - got '1,5'" });
    assert.deepEqual(createCt({ cpulimit: '1.5', cores: 2 }), {});
    // API booleans are 1/0 (or JSON booleans): check_type has the true/yes forms commented out
    assert.deepEqual(createCt({ start: 'true' }), { start: "type check ('boolean') failed - got 'true'" });
    assert.deepEqual(createCt({ start: true, onboot: '0' }), {});
    assert.deepEqual(createCt({ cores: true }), {
      cores: "type check ('integer') failed - got JSON::PP::Boolean",
    });
  });

  test('enum', () => {
    assert.deepEqual(createCt({ arch: 'x86' }), {
      arch: "value 'x86' does not have a value in the enumeration 'amd64, i386, arm64, armhf, riscv32, riscv64'",
    });
  });

  test('minimum and maximum', () => {
    assert.deepEqual(createCt({ memory: '8' }), { memory: 'value must have a minimum value of 16' });
    assert.deepEqual(createCt({ cores: '9000' }), { cores: 'value must have a maximum value of 8192' });
  });

  test('pve-vmid: below 100 is not a VM ID', () => {
    assert.deepEqual(createCt({ vmid: '99' }), {
      vmid: 'invalid format - value does not look like a valid VM ID\n',
    });
  });

  test('maxLength', () => {
    assert.deepEqual(createCt({ ostemplate: `local:vztmpl/${'x'.repeat(250)}` }), {
      ostemplate: 'value may only be 255 characters long',
    });
  });

  test('pattern, anchored like PVE', () => {
    assert.deepEqual(schema.validateParameters('GET', '/access/permissions', { userid: 'root' }), {
      userid: 'value does not match the regex pattern',
    });
    assert.deepEqual(
      schema.validateParameters('GET', '/access/permissions', { userid: 'root@pam!proximity' }),
      {},
    );
  });

  test('formats: dns-name, CIDRv4, ipv4mask, pve-storage-id', () => {
    assert.deepEqual(createCt({ hostname: 'web_1' }), {
      hostname: 'invalid format - value does not look like a valid DNS name\n',
    });
    assert.deepEqual(createCt({ storage: 'local lvm' }), {
      storage: "invalid format - storage ID 'local lvm' contains illegal characters\n",
    });
    const network = (extra: Record<string, unknown>) =>
      schema.validateParameters('POST', '/nodes/{node}/network', {
        node: 'pve1',
        iface: 'vmbr1',
        type: 'bridge',
        ...extra,
      });
    assert.deepEqual(network({ cidr: '10.20.0.1/33' }), {
      cidr: 'invalid format - value does not look like a valid IPv4 CIDR network\n',
    });
    assert.deepEqual(network({ address: '10.0.0.1', netmask: '255.0.255.0' }), {
      netmask: 'invalid format - value does not look like a valid IP netmask\n',
    });
  });

  test('requires: a property that needs another', () => {
    assert.deepEqual(
      schema.validateParameters('POST', '/nodes/{node}/network', {
        node: 'pve1',
        iface: 'vmbr1',
        type: 'bridge',
        address: '10.0.0.1',
      }),
      { netmask: "missing property - 'address' requires this property" },
    );
  });

  test('-list formats check every item', () => {
    assert.deepEqual(createCt({ tags: 'web;db ok' }), {});
    assert.deepEqual(createCt({ tags: 'web;d b!' }), {
      tags: 'invalid format - invalid characters in tag\n',
    });
  });
});

describe('property strings (net[n], features, rootfs)', () => {
  test('an unknown key is refused', () => {
    assert.deepEqual(createCt({ net0: 'name=eth0,bridge=vmbr0,speed=10' }), {
      net0: 'invalid format - invalid key in comma-separated list property: speed\n',
    });
  });

  test('each key is checked with its own schema, under <param>.<key>', () => {
    assert.deepEqual(createCt({ net0: 'name=eth0,bridge=vmbr0,hwaddr=01:00:00:00:00:00' }), {
      net0: 'invalid format - format error\nnet0.hwaddr: invalid format - value does not look like a valid unicast MAC address\n\n',
    });
    assert.deepEqual(createCt({ net0: 'bridge=vmbr0' }), {
      net0: 'invalid format - format error\nnet0.name: property is missing and it is not optional\n',
    });
    assert.deepEqual(createCt({ net0: 'name=eth0,bridge=vmbr0,ip=10.20.0.5' }), {
      net0: 'invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n',
    });
  });

  test('booleans in property strings take every PVE form', () => {
    assert.deepEqual(createCt({ features: 'nesting=yes,keyctl=on' }), {});
    const format = schema.get('POST', '/nodes/{node}/lxc')!.parameters!.properties!.features!.format as never;
    assert.deepEqual(parseProperties(format, 'nesting=yes,keyctl=off'), { nesting: '1', keyctl: '0' });
  });

  test('the default key takes a bare value', () => {
    const format = schema.get('POST', '/nodes/{node}/lxc')!.parameters!.properties!.rootfs!.format as never;
    assert.deepEqual(parseProperties(format, 'local-lvm:8,mountoptions=noatime'), {
      volume: 'local-lvm:8',
      mountoptions: 'noatime',
    });
    assert.deepEqual(createCt({ rootfs: 'local-lvm:8,local-lvm:4' }), {
      rootfs: 'invalid format - duplicate key in comma-separated list property: volume\n',
    });
  });

  test('indexed properties stop where PVE stops (32 NICs)', () => {
    assert.deepEqual(createCt({ net31: 'name=eth31,bridge=vmbr0' }), {});
    assert.deepEqual(createCt({ net32: 'name=eth32,bridge=vmbr0' }), {
      net32: 'property is not defined in schema and the schema does not allow additional properties',
    });
  });

  test('printing puts the required keys first, then the rest sorted, like PVE writes configs', () => {
    const format = schema.get('POST', '/nodes/{node}/lxc')!.parameters!.properties!['net[n]']!
      .format as never;
    assert.equal(
      printPropertyString(format, {
        type: 'veth',
        ip: 'dhcp',
        hwaddr: 'BC:24:11:00:00:01',
        bridge: 'vmbr0',
        name: 'eth0',
      }),
      'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth',
    );
  });
});
