/**
 * The simulator over HTTPS, as a PVE client sees it: envelope and content type, PVE's 400 /
 * 401 / 403 / 501 answers, the auth matrix, permissions, UPID tasks, containers and the
 * network API.
 *
 * The container runtime and node network here are in-memory fakes (FakeContainerRuntime,
 * FakeNodeNetwork) so this file tests the simulator's HTTP, auth and validation layer
 * without root; the real LXC runtime and bridges are tested with the rest of the rig.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import type {
  BridgeSpec,
  ContainerRuntime,
  ContainerSpec,
  ContainerState,
  ContainerStats,
  ExecResult,
  InterfaceInfo,
  NodeNetwork,
} from '../contracts.js';
import { tempDir } from '../../support/temp.js';
import {
  RIG_APPLIANCE_TEMPLATE,
  RIG_DEBIAN_TEMPLATE,
  RIG_TEMPLATE,
  RIG_TOKEN_ID,
  RIG_TOKEN_SECRET,
  simulatorConfig,
} from './config.js';
import { createSimulator, type PveSimulator } from './simulator.js';

/** An in-memory ContainerRuntime for the HTTP-layer tests only. */
class FakeContainerRuntime implements ContainerRuntime {
  readonly containers = new Map<number, { spec: ContainerSpec; state: ContainerState; started: number }>();
  /** While set, create() waits for it: lets a test see a task 'running'. */
  createGate: Promise<void> | undefined;
  readonly calls: string[] = [];

  async create(spec: ContainerSpec): Promise<void> {
    this.calls.push(`create ${spec.vmid}`);
    await this.createGate;
    this.containers.set(spec.vmid, { spec, state: 'stopped', started: 0 });
  }
  async start(spec: ContainerSpec): Promise<void> {
    this.calls.push(`start ${spec.vmid}`);
    const container = this.containers.get(spec.vmid);
    if (!container) throw new Error(`no container ${spec.vmid}`);
    Object.assign(container, { spec, state: 'running', started: Date.now() });
  }
  async stop(vmid: number): Promise<void> {
    this.calls.push(`stop ${vmid}`);
    const container = this.containers.get(vmid);
    if (container) container.state = 'stopped';
  }
  async destroy(vmid: number): Promise<void> {
    this.calls.push(`destroy ${vmid}`);
    this.containers.delete(vmid);
  }
  async state(vmid: number): Promise<ContainerState | 'absent'> {
    return this.containers.get(vmid)?.state ?? 'absent';
  }
  async initPid(vmid: number): Promise<number | undefined> {
    return this.containers.get(vmid)?.state === 'running' ? 40000 + vmid : undefined;
  }
  async interfaces(vmid: number): Promise<InterfaceInfo[]> {
    const nic = this.containers.get(vmid)?.spec.nets[0];
    return [
      { name: 'lo', hwaddr: '00:00:00:00:00:00', inet: '127.0.0.1/8' },
      ...(nic ? [{ name: nic.name, hwaddr: nic.hwaddr.toLowerCase(), inet: '10.20.0.101/24' }] : []),
    ];
  }
  async stats(vmid: number): Promise<ContainerStats> {
    const container = this.containers.get(vmid);
    const seconds = container ? (Date.now() - container.started) / 1000 : 0;
    return {
      cpuSeconds: seconds * 0.5,
      memoryBytes: 12 * 1024 * 1024,
      memoryMaxBytes: container ? container.spec.memoryMb * 1024 * 1024 : 0,
      netInBytes: Math.round(seconds * 1000),
      netOutBytes: Math.round(seconds * 500),
      diskReadBytes: 4096,
      diskWriteBytes: 8192,
      uptimeSeconds: seconds,
    };
  }
  async exec(): Promise<ExecResult> {
    return { code: 0, stdout: '', stderr: '' };
  }
  async list(): Promise<number[]> {
    return [...this.containers.keys()];
  }
}

/** In-memory bridges for the HTTP-layer tests only. */
class FakeNodeNetwork implements NodeNetwork {
  readonly bridges = new Map<string, { cidr?: string; active: boolean; ports: string[] }>([
    ['vmbr0', { cidr: '198.51.100.2/24', active: true, ports: ['wanlink'] }],
  ]);
  async listBridges(): Promise<{ name: string; cidr?: string; active: boolean }[]> {
    return [...this.bridges].map(([name, bridge]) => ({
      name,
      active: bridge.active,
      ...(bridge.cidr ? { cidr: bridge.cidr } : {}),
    }));
  }
  async ensureBridge(spec: BridgeSpec): Promise<void> {
    this.bridges.set(spec.name, {
      ...(spec.cidr ? { cidr: spec.cidr } : {}),
      active: true,
      ports: spec.ports ?? [],
    });
  }
  async deleteBridge(name: string): Promise<void> {
    this.bridges.delete(name);
  }
}

interface Answer {
  status: number;
  statusMessage: string;
  contentType: string | undefined;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

interface Credentials {
  ticket?: string;
  csrf?: string;
  token?: string;
}

const TOKEN = `${RIG_TOKEN_ID}=${RIG_TOKEN_SECRET}`;
let now = Date.now();
const runtime = new FakeContainerRuntime();
const network = new FakeNodeNetwork();
let sim: PveSimulator;
const dataDir = tempDir('pve-sim-'); // at file level: removed when the file's tests are done

/** One HTTPS call that trusts only the simulator's certificate. */
function call(
  method: string,
  path: string,
  options: {
    auth?: Credentials;
    params?: Record<string, string>;
    json?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth?.ticket) headers.Cookie = `PVEAuthCookie=${encodeURIComponent(options.auth.ticket)}`;
  if (options.auth?.csrf) headers.CSRFPreventionToken = options.auth.csrf;
  if (options.auth?.token) headers.Authorization = `PVEAPIToken=${options.auth.token}`;
  let url = `${sim.apiUrl}${path}`;
  let payload: string | undefined;
  if (options.json !== undefined) {
    payload = JSON.stringify(options.json);
    headers['Content-Type'] = 'application/json';
  } else if (options.params) {
    const encoded = new URLSearchParams(options.params).toString();
    if (method === 'GET' || method === 'DELETE') url += `?${encoded}`;
    else {
      payload = encoded;
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
  }
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca: sim.certificate, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          contentType: res.headers['content-type'],
          text,
          body: text ? (JSON.parse(text) as unknown) : undefined,
        }),
      );
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function login(
  username: string,
  password: string,
): Promise<Required<Pick<Credentials, 'ticket' | 'csrf'>>> {
  const answer = await call('POST', '/access/ticket', { params: { username, password } });
  assert.equal(answer.status, 200, answer.text);
  return { ticket: answer.body.data.ticket, csrf: answer.body.data.CSRFPreventionToken };
}

async function waitForTask(upid: string): Promise<{ status: Record<string, unknown>; log: string[] }> {
  const node = upid.split(':')[1]!;
  for (let attempt = 0; attempt < 200; attempt++) {
    const status = await call('GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`, {
      auth: { token: TOKEN },
    });
    if (status.body.data.status === 'stopped') {
      const log = await call('GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/log`, {
        auth: { token: TOKEN },
        params: { limit: '0' },
      });
      return { status: status.body.data, log: log.body.data.map((line: { t: string }) => line.t) };
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`task ${upid} did not finish`);
}

const createParams = (vmid: number, extra: Record<string, string> = {}) => ({
  vmid: String(vmid),
  ostemplate: `local:vztmpl/${RIG_TEMPLATE}`,
  hostname: `ct${vmid}`,
  net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
  rootfs: 'local-lvm:2',
  memory: '256',
  ...extra,
});

/** PVE's 400: "Parameter verification failed." with the errors per parameter. */
function assertParameterError(answer: Answer, errors: Record<string, string>): void {
  assert.equal(answer.status, 400, answer.text);
  assert.equal(answer.statusMessage, 'Parameter verification failed.');
  assert.equal(answer.contentType, 'application/json;charset=UTF-8');
  assert.deepEqual(answer.body, { data: null, errors, message: 'Parameter verification failed.\n' });
}

before(async () => {
  sim = await createSimulator({
    runtime,
    network,
    dataDir,
    config: simulatorConfig({ unauthorizedDelayMs: 0, rrdSampleIntervalMs: 20 }),
    clock: () => now,
  });
});
after(() => sim.close());

describe('the answer format', () => {
  test("JSON answers use exactly 'application/json;charset=UTF-8' and a {data} envelope", async () => {
    const answer = await call('GET', '/version', { auth: { token: TOKEN } });
    assert.equal(answer.status, 200);
    assert.equal(answer.contentType, 'application/json;charset=UTF-8');
    assert.deepEqual(Object.keys(answer.body), ['data']);
    assert.equal(answer.body.data.release, '9.0');
  });

  test('an unknown API path: 501 "Method \'GET /foo\' not implemented", as pveproxy says', async () => {
    const answer = await call('GET', '/foo/bar', { auth: { token: TOKEN } });
    assert.equal(answer.status, 501);
    assert.equal(answer.statusMessage, "Method 'GET /foo/bar' not implemented");
    assert.deepEqual(answer.body, { data: null, message: "Method 'GET /foo/bar' not implemented" });
  });

  test('a PVE method the rig does not implement: 501, and the body says why', async () => {
    const answer = await call('GET', '/cluster/ha/status/current', { auth: { token: TOKEN } });
    assert.equal(answer.status, 501);
    assert.equal(answer.statusMessage, "Method 'GET /cluster/ha/status/current' not implemented");
    assert.match(answer.body.message, /rig's PVE API simulator does not/);
  });

  test('outside /api2: 501 without a body', async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      request(`${sim.url}/index.html`, { ca: sim.certificate, agent: false }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            statusMessage: res.statusMessage!,
            contentType: undefined,
            text: '',
            body: undefined,
          }),
        );
      })
        .on('error', reject)
        .end();
    });
    assert.equal(answer.status, 501);
    assert.equal(answer.statusMessage, "no such file '/index.html'");
  });
});

describe('parameter validation (400, per parameter, PVE texts)', () => {
  test('a bridge named proximity-lan is refused like PVE refuses it', async () => {
    const root = await login('root@pam', 'rigpassword');
    const answer = await call('POST', '/nodes/pve1/network', {
      auth: root,
      params: { iface: 'proximity-lan', type: 'bridge', cidr: '10.20.0.1/24' },
    });
    assertParameterError(answer, {
      iface: "invalid format - invalid network interface name 'proximity-lan'\n",
    });
  });

  test('an unknown parameter', async () => {
    assertParameterError(
      await call('GET', '/nodes/pve1/lxc', { auth: { token: TOKEN }, params: { full: '1' } }),
      {
        full: 'property is not defined in schema and the schema does not allow additional properties',
      },
    );
  });

  test('a wrong type, also in the path', async () => {
    assertParameterError(
      await call('GET', '/nodes/pve1/lxc/abc/status/current', { auth: { token: TOKEN } }),
      {
        vmid: "type check ('integer') failed - got 'abc'",
      },
    );
  });

  test('a missing required parameter', async () => {
    assertParameterError(
      await call('POST', '/nodes/pve1/lxc', { auth: { token: TOKEN }, params: { vmid: '150' } }),
      {
        ostemplate: 'property is missing and it is not optional',
      },
    );
  });

  test('a value outside the enumeration', async () => {
    assertParameterError(
      await call('GET', '/nodes/pve1/lxc/100/rrddata', {
        auth: { token: TOKEN },
        params: { timeframe: 'decade' },
      }),
      { timeframe: "value 'decade' does not have a value in the enumeration 'hour, day, week, month, year'" },
    );
  });

  test('a bad key in the net0 property string', async () => {
    assertParameterError(
      await call('POST', '/nodes/pve1/lxc', {
        auth: { token: TOKEN },
        params: createParams(150, { net0: 'name=eth0,bridge=vmbr0,vlan=5' }),
      }),
      { net0: 'invalid format - invalid key in comma-separated list property: vlan\n' },
    );
  });

  test('a VM ID below 100', async () => {
    assertParameterError(
      await call('POST', '/nodes/pve1/lxc', { auth: { token: TOKEN }, params: createParams(99) }),
      {
        vmid: 'invalid format - value does not look like a valid VM ID\n',
      },
    );
  });

  test("booleans are 1/0: 'true' is refused in a form and accepted as JSON true", async () => {
    assertParameterError(
      await call('POST', '/nodes/pve1/lxc', {
        auth: { token: TOKEN },
        params: createParams(150, { start: 'true' }),
      }),
      { start: "type check ('boolean') failed - got 'true'" },
    );
    const answer = await call('POST', '/nodes/pve1/lxc', {
      auth: { token: TOKEN },
      json: { ...createParams(150), vmid: 150, start: true },
    });
    assert.equal(answer.status, 200, answer.text);
    assert.equal((await waitForTask(answer.body.data)).status.exitstatus, 'OK');
    await waitForTask(
      (await call('DELETE', '/nodes/pve1/lxc/150', { auth: { token: TOKEN }, params: { force: '1' } })).body
        .data,
    );
  });
});

describe('the auth matrix', () => {
  const read = (auth?: Credentials) => call('GET', '/nodes/pve1/lxc', { ...(auth ? { auth } : {}) });
  const mutate = (auth?: Credentials) =>
    call('POST', '/nodes/pve1/lxc', { ...(auth ? { auth } : {}), params: createParams(120) });

  function assertUnauthorized(answer: Answer, reason: string): void {
    assert.equal(answer.status, 401, answer.text);
    assert.equal(answer.statusMessage, reason);
    assert.equal(answer.text, '', 'pveproxy answers a failed authentication without a body');
  }

  test('no credentials: 401 "No ticket"', async () => {
    assertUnauthorized(await read(), 'No ticket');
    assertUnauthorized(await mutate(), 'No ticket');
  });

  test('a forged ticket: 401 "permission denied - invalid PVE ticket"', async () => {
    const alice = await login('alice@pve', 'alicepassword');
    const forged = { ...alice, ticket: alice.ticket.replace('alice@pve', 'root@pam') };
    assertUnauthorized(await read(forged), 'permission denied - invalid PVE ticket');
    assertUnauthorized(await mutate(forged), 'permission denied - invalid PVE ticket');
  });

  test('an expired ticket: 401', async () => {
    const root = await login('root@pam', 'rigpassword');
    now += 2 * 3600 * 1000 + 1000;
    try {
      assertUnauthorized(await read(root), 'permission denied - invalid PVE ticket');
      assertUnauthorized(await mutate(root), 'permission denied - invalid PVE ticket');
    } finally {
      now -= 2 * 3600 * 1000 + 1000;
    }
  });

  test('a ticket without CSRF token: reading works, changing is 401', async () => {
    const { ticket } = await login('root@pam', 'rigpassword');
    assert.equal((await read({ ticket })).status, 200);
    assertUnauthorized(await mutate({ ticket }), 'Permission denied - invalid csrf token');
  });

  test('a valid ticket lacking the privilege: 403', async () => {
    const alice = await login('alice@pve', 'alicepassword');
    assert.equal((await read(alice)).status, 200);
    const answer = await mutate(alice);
    assert.equal(answer.status, 403, answer.text);
    assert.equal(answer.statusMessage, 'Permission check failed');
    assert.deepEqual(answer.body, { data: null, message: 'Permission check failed\n' });
    const network = await call('POST', '/nodes/pve1/network', {
      auth: alice,
      params: { iface: 'vmbr9', type: 'bridge' },
    });
    assert.equal(network.status, 403);
    assert.equal(network.statusMessage, 'Permission check failed (/nodes/pve1, Sys.Modify)');
  });

  test('the API token: 200, no CSRF token needed', async () => {
    const listed = await read({ token: TOKEN });
    assert.equal(listed.status, 200);
    assert.ok(Array.isArray(listed.body.data));
    const created = await mutate({ token: TOKEN });
    assert.equal(created.status, 200, created.text);
    assert.match(
      created.body.data,
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzcreate:120:root@pam!proximity:$/,
    );
    await waitForTask(created.body.data);
    await waitForTask((await call('DELETE', '/nodes/pve1/lxc/120', { auth: { token: TOKEN } })).body.data);
  });

  test('a wrong token secret: 401 "invalid token value!"', async () => {
    assertUnauthorized(
      await read({ token: `${RIG_TOKEN_ID}=00000000-0000-0000-0000-000000000000` }),
      'invalid token value!',
    );
  });

  test('a ticket with its CSRF token: 200', async () => {
    const root = await login('root@pam', 'rigpassword');
    assert.equal((await read(root)).status, 200);
    const created = await mutate(root);
    assert.equal(created.status, 200, created.text);
    assert.match(created.body.data, /:vzcreate:120:root@pam:$/);
    await waitForTask(created.body.data);
    await waitForTask((await call('DELETE', '/nodes/pve1/lxc/120', { auth: root })).body.data);
  });

  test('a wrong password: 401 "authentication failure", JSON body', async () => {
    const answer = await call('POST', '/access/ticket', {
      params: { username: 'alice@pve', password: 'nope' },
    });
    assert.equal(answer.status, 401);
    assert.equal(answer.statusMessage, 'authentication failure');
    assert.deepEqual(answer.body, { data: null, message: 'authentication failure\n' });
  });

  test('a valid ticket as password renews it; the answer carries cap for the web UI', async () => {
    const alice = await login('alice@pve', 'alicepassword');
    const renewed = await call('POST', '/access/ticket', {
      params: { username: 'alice', realm: 'pve', password: alice.ticket },
    });
    assert.equal(renewed.status, 200, renewed.text);
    assert.equal(renewed.body.data.username, 'alice@pve');
    assert.match(renewed.body.data.ticket, /^PVE:alice@pve:[0-9A-F]{8}::/);
    assert.deepEqual(renewed.body.data.cap.vms, { 'VM.Audit': 1 });
  });

  test('tokens may not create tickets (allowtoken 0)', async () => {
    // /access/ticket needs no credentials; a token is simply ignored there, like in PVE
    const answer = await call('POST', '/access/ticket', {
      auth: { token: TOKEN },
      params: { username: 'root@pam', password: 'wrong' },
    });
    assert.equal(answer.status, 401);
  });

  test('every 401 waits like pveproxy (3 s in PVE, configurable)', async () => {
    const slow = await createSimulator({
      runtime,
      network,
      dataDir: tempDir('pve-sim-'),
      config: simulatorConfig({ unauthorizedDelayMs: 300 }),
    });
    try {
      const started = Date.now();
      const answer = await new Promise<number>((resolve, reject) => {
        request(`${slow.apiUrl}/nodes`, { ca: slow.certificate, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end();
      });
      assert.equal(answer, 401);
      assert.ok(Date.now() - started >= 290, `answered after ${Date.now() - started} ms`);
    } finally {
      await slow.close();
    }
  });
});

describe('/access/permissions', () => {
  test('alice (PVEAuditor on /) may read everything and change nothing', async () => {
    const alice = await login('alice@pve', 'alicepassword');
    const answer = await call('GET', '/access/permissions', { auth: alice });
    assert.equal(answer.status, 200);
    const root = answer.body.data['/'];
    assert.deepEqual(Object.keys(root).sort(), [
      'Datastore.Audit',
      'Mapping.Audit',
      'Pool.Audit',
      'SDN.Audit',
      'Sys.Audit',
      'VM.Audit',
    ]);
    assert.equal(root['VM.Audit'], 1, 'propagating');
    assert.deepEqual(answer.body.data['/vms'], root);
    const onPath = await call('GET', '/access/permissions', { auth: alice, params: { path: '/vms/100' } });
    assert.deepEqual(Object.keys(onPath.body.data), ['/vms/100']);
    assert.equal(onPath.body.data['/vms/100']['VM.Allocate'], undefined);
  });

  test('root holds every privilege; the backend token too (no privilege separation)', async () => {
    const root = await login('root@pam', 'rigpassword');
    const answer = await call('GET', '/access/permissions', { auth: root, params: { path: '/' } });
    assert.equal(Object.keys(answer.body.data['/']).length, 47);
    assert.equal(answer.body.data['/']['Sys.Modify'], 1);
    const token = await call('GET', '/access/permissions', {
      auth: { token: TOKEN },
      params: { path: '/nodes/pve1' },
    });
    assert.equal(token.body.data['/nodes/pve1']['Sys.Modify'], 1);
  });

  test("bob's privileges: VM admin, storage space, node audit, bridge use", async () => {
    const bob = await login('bob@pve', 'bobpassword');
    const answer = await call('GET', '/access/permissions', { auth: bob });
    assert.equal(answer.body.data['/vms']['VM.Allocate'], 1);
    assert.equal(answer.body.data['/storage']['Datastore.AllocateSpace'], 1);
    assert.equal(answer.body.data['/']['Sys.Audit'], 1);
    assert.equal(answer.body.data['/']['Sys.Modify'], undefined);
    assert.equal(answer.body.data['/sdn/zones/localnetwork']['SDN.Use'], 1);
  });
});

describe('tasks and containers', () => {
  test('cluster/options and nodes/{node}/subscription answer as PVE without a subscription', async () => {
    const options = await call('GET', '/cluster/options', { auth: { token: TOKEN } });
    assert.equal(options.status, 200);
    assert.deepEqual(options.body.data['allowed-tags'], []);
    const sub = await call('GET', '/nodes/pve1/subscription', { auth: { token: TOKEN } });
    assert.equal(sub.status, 200);
    assert.equal(sub.body.data.status, 'notfound');
  });

  test('cluster/nextid: the first free ID, and 400 for a taken one', async () => {
    const auth = { token: TOKEN };
    assert.equal((await call('GET', '/cluster/nextid', { auth })).body.data, '100');
    const created = await call('POST', '/nodes/pve1/lxc', { auth, params: createParams(100) });
    await waitForTask(created.body.data);
    assert.equal((await call('GET', '/cluster/nextid', { auth })).body.data, '101');
    assertParameterError(await call('GET', '/cluster/nextid', { auth, params: { vmid: '100' } }), {
      vmid: 'VM 100 already exists',
    });
    assert.equal((await call('GET', '/cluster/nextid', { auth, params: { vmid: '150' } })).body.data, '150');
    await waitForTask((await call('DELETE', '/nodes/pve1/lxc/100', { auth })).body.data);
  });

  test('a create task: UPID at once, running, then stopped with OK and a log ending "TASK OK"', async () => {
    const root = await login('root@pam', 'rigpassword');
    let release = () => {};
    runtime.createGate = new Promise((resolve) => (release = resolve));
    const answer = await call('POST', '/nodes/pve1/lxc', {
      auth: root,
      params: createParams(130, { start: '1' }),
    });
    assert.equal(answer.status, 200, answer.text);
    const upid: string = answer.body.data;
    const fields =
      /^UPID:(pve1):([0-9A-F]{8}):([0-9A-F]{8}):([0-9A-F]{8}):(vzcreate):(130):(root@pam):$/.exec(upid);
    assert.ok(fields, upid);
    const path = `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`;
    const running = await call('GET', path, { auth: root });
    assert.deepEqual(running.body.data, {
      upid,
      node: 'pve1',
      pid: parseInt(fields[2]!, 16),
      pstart: parseInt(fields[3]!, 16),
      starttime: parseInt(fields[4]!, 16),
      type: 'vzcreate',
      id: '130',
      user: 'root@pam',
      status: 'running',
    });
    const locked = await call('GET', '/nodes/pve1/lxc/130/config', { auth: root });
    assert.equal(locked.body.data.lock, 'create');
    const clusterTask = async () =>
      ((await call('GET', '/cluster/tasks', { auth: root })).body.data as Record<string, unknown>[]).find(
        (task) => task.upid === upid,
      );
    // PVE's task panel shows a task with a pid as running, so only a running one has it
    assert.deepEqual(await clusterTask(), {
      upid,
      node: 'pve1',
      pid: parseInt(fields[2]!, 16),
      starttime: parseInt(fields[4]!, 16),
      type: 'vzcreate',
      id: '130',
      user: 'root@pam',
    });
    release();
    runtime.createGate = undefined;
    const { status, log } = await waitForTask(upid);
    assert.equal(status.exitstatus, 'OK');
    assert.equal(log.at(-1), 'TASK OK');
    const ended = await clusterTask();
    assert.equal(ended?.status, 'OK');
    assert.equal(typeof ended?.endtime, 'number');
    assert.ok((ended.endtime as number) >= parseInt(fields[4]!, 16));
    assert.equal('pid' in ended, false, JSON.stringify(ended));
    assert.equal('pstart' in ended, false, JSON.stringify(ended));
    const rawLog = await call('GET', `/nodes/pve1/tasks/${encodeURIComponent(upid)}/log`, {
      auth: root,
      params: { start: '0', limit: '1' },
    });
    assert.equal(rawLog.body.data.length, 1);
    assert.equal(rawLog.body.data[0].n, 1);
    assert.equal(rawLog.body.total, log.length);

    // start=1: a separate vzstart task, like LXC.pm's vm_start call
    let started: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !started; i++) {
      const tasks = await call('GET', '/nodes/pve1/tasks', {
        auth: root,
        params: { vmid: '130', typefilter: 'vzstart' },
      });
      started = tasks.body.data[0];
      if (!started) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(started, 'a vzstart task was listed');
    assert.equal(started.status, 'OK');
    assert.equal(runtime.containers.get(130)?.state, 'running');

    const config = await call('GET', '/nodes/pve1/lxc/130/config', { auth: root });
    assert.equal(config.body.data.lock, undefined);
    assert.equal(config.body.data.memory, 256, 'integers are JSON numbers');
    assert.match(
      config.body.data.net0,
      /^name=eth0,bridge=vmbr0,hwaddr=BC:24:11(:[0-9A-F]{2}){3},ip=dhcp,type=veth$/,
    );
    assert.equal(config.body.data.rootfs, 'local-lvm:vm-130-disk-0,size=2G');
    assert.match(config.body.data.digest, /^[0-9a-f]{40}$/);
    assert.deepEqual(
      runtime.containers.get(130)?.spec.nets.map((net) => [net.name, net.bridge, net.ip]),
      [['eth0', 'vmbr0', 'dhcp']],
    );
  });

  test('starting a running container: 500 "CT 130 already running", no task', async () => {
    const answer = await call('POST', '/nodes/pve1/lxc/130/status/start', { auth: { token: TOKEN } });
    assert.equal(answer.status, 500);
    assert.equal(answer.statusMessage, 'CT 130 already running');
    assert.deepEqual(answer.body, { data: null, message: 'CT 130 already running\n' });
  });

  test('status/current and interfaces report the running container', async () => {
    const status = await call('GET', '/nodes/pve1/lxc/130/status/current', { auth: { token: TOKEN } });
    assert.equal(status.body.data.status, 'running');
    assert.equal(status.body.data.name, 'ct130');
    assert.equal(status.body.data.maxmem, 256 * 1024 * 1024);
    assert.equal(status.body.data.pid, 40130);
    const interfaces = await call('GET', '/nodes/pve1/lxc/130/interfaces', { auth: { token: TOKEN } });
    assert.equal(interfaces.body.data[1].name, 'eth0');
    assert.equal(interfaces.body.data[1].inet, '10.20.0.101/24');
    const rrd = await call('GET', '/nodes/pve1/lxc/130/rrddata', {
      auth: { token: TOKEN },
      params: { timeframe: 'hour' },
    });
    assert.equal(rrd.body.data.length, 70);
  });

  test('a config update with a stale digest is refused; with the current one it applies', async () => {
    const auth = { token: TOKEN };
    const { digest } = (await call('GET', '/nodes/pve1/lxc/130/config', { auth })).body.data;
    const stale = await call('PUT', '/nodes/pve1/lxc/130/config', {
      auth,
      params: { memory: '512', digest: 'f'.repeat(40) },
    });
    assert.equal(stale.status, 500);
    assert.equal(
      stale.statusMessage,
      'detected modified configuration - file changed by other user? Try again.',
    );
    const ok = await call('PUT', '/nodes/pve1/lxc/130/config', {
      auth,
      params: { memory: '512', digest, delete: 'swap' },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body, { data: null });
    const config = (await call('GET', '/nodes/pve1/lxc/130/config', { auth })).body.data;
    assert.equal(config.memory, 512);
    assert.equal(config.swap, undefined);
    assert.notEqual(config.digest, digest);
  });

  test('destroying a running container needs force', async () => {
    const auth = { token: TOKEN };
    const refused = await call('DELETE', '/nodes/pve1/lxc/130', { auth });
    assert.equal(refused.status, 500);
    assert.equal(refused.statusMessage, 'unable to destroy CT 130 - container is running');
    const { status, log } = await waitForTask(
      (await call('DELETE', '/nodes/pve1/lxc/130', { auth, params: { force: '1' } })).body.data,
    );
    assert.equal(status.exitstatus, 'WARNINGS: 1');
    assert.ok(log.includes('WARN: forced to stop CT 130 before destroying!'));
    assert.equal(runtime.containers.has(130), false);
    const gone = await call('GET', '/nodes/pve1/lxc/130/config', { auth });
    assert.equal(gone.status, 500);
    assert.equal(gone.statusMessage, "Configuration file 'nodes/pve1/lxc/130.conf' does not exist");
  });

  test('a template that is not in the storage fails the task the way PVE fails', async () => {
    const answer = await call('POST', '/nodes/pve1/lxc', {
      auth: { token: TOKEN },
      params: createParams(140, { ostemplate: 'local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst' }),
    });
    const { status, log } = await waitForTask(answer.body.data);
    const message =
      "unable to create CT 140 - can't find file 'local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst'";
    assert.equal(status.exitstatus, message);
    assert.equal(log.at(-1), `TASK ERROR: ${message}`);
    // both task lists carry the end and the error, as PVE's do
    const auth = { token: TOKEN };
    const listed = [
      (await call('GET', '/cluster/tasks', { auth })).body.data,
      (await call('GET', '/nodes/pve1/tasks', { auth, params: { vmid: '140' } })).body.data,
    ].map((list: Record<string, unknown>[]) => list.find((task) => task.upid === answer.body.data));
    for (const task of listed) {
      assert.equal(task?.status, message);
      assert.equal(typeof task?.endtime, 'number');
    }
    assert.equal('pid' in listed[0]!, false);
    assert.equal((await call('GET', '/nodes/pve1/lxc/140/config', { auth: { token: TOKEN } })).status, 500);
  });

  test('the appliance template makes an appliance container, detected as Debian', async () => {
    const auth = { token: TOKEN };
    const ostemplate = `local:vztmpl/${RIG_APPLIANCE_TEMPLATE}`;
    const answer = await call('POST', '/nodes/pve1/lxc', { auth, params: createParams(142, { ostemplate }) });
    assert.equal((await waitForTask(answer.body.data)).status.exitstatus, 'OK');
    assert.equal(runtime.containers.get(142)?.spec.template, 'appliance');
    const config = await call('GET', '/nodes/pve1/lxc/142/config', { auth });
    assert.equal(config.body.data.ostype, 'debian');
    await waitForTask((await call('DELETE', '/nodes/pve1/lxc/142', { auth })).body.data);

    await waitForTask((await call('POST', '/nodes/pve1/lxc', { auth, params: createParams(143) })).body.data);
    assert.equal(runtime.containers.get(143)?.spec.template, 'busybox');
    assert.equal((await call('GET', '/nodes/pve1/lxc/143/config', { auth })).body.data.ostype, 'unmanaged');
    await waitForTask((await call('DELETE', '/nodes/pve1/lxc/143', { auth })).body.data);
  });

  test("the default storage 'local' holds no container disks, as on a fresh PVE", async () => {
    const params = createParams(141);
    delete (params as Partial<typeof params>).rootfs;
    assertParameterError(await call('POST', '/nodes/pve1/lxc', { auth: { token: TOKEN }, params }), {
      storage: "storage 'local' does not support container directories",
    });
  });

  test('bob may create a container but not set feature flags; alice sees it', async () => {
    const bob = await login('bob@pve', 'bobpassword');
    const created = await call('POST', '/nodes/pve1/lxc', { auth: bob, params: createParams(160) });
    assert.equal(created.status, 200, created.text);
    assert.match(created.body.data, /:vzcreate:160:bob@pve:$/);
    assert.equal((await waitForTask(created.body.data)).status.exitstatus, 'OK');
    const features = await call('PUT', '/nodes/pve1/lxc/160/config', {
      auth: bob,
      params: { features: 'keyctl=1' },
    });
    assert.equal(features.status, 403);
    assert.equal(
      features.statusMessage,
      'Permission check failed (changing feature flags for privileged container is only allowed for root@pam)',
    );
    const alice = await login('alice@pve', 'alicepassword');
    const listed = await call('GET', '/nodes/pve1/lxc', { auth: alice });
    assert.deepEqual(
      listed.body.data.map((ct: { vmid: number }) => ct.vmid),
      [160],
    );
    const tasks = await call('GET', '/nodes/pve1/tasks', { auth: bob, params: { userfilter: 'bob' } });
    assert.deepEqual(
      tasks.body.data.map((task: { type: string; id: string; user: string }) => [
        task.type,
        task.id,
        task.user,
      ]),
      [['vzcreate', '160', 'bob@pve']],
    );
    await waitForTask((await call('DELETE', '/nodes/pve1/lxc/160', { auth: bob })).body.data);
  });

  test('the template listing and the appliance index', async () => {
    const auth = { token: TOKEN };
    const content = await call('GET', '/nodes/pve1/storage/local/content', {
      auth,
      params: { content: 'vztmpl' },
    });
    assert.deepEqual(
      content.body.data.map((volume: { volid: string; format: string }) => [volume.volid, volume.format]),
      [
        [`local:vztmpl/${RIG_TEMPLATE}`, 'tzst'],
        [`local:vztmpl/${RIG_APPLIANCE_TEMPLATE}`, 'tzst'],
        [`local:vztmpl/${RIG_DEBIAN_TEMPLATE}`, 'tzst'],
      ],
    );
    const aplinfo = await call('GET', '/nodes/pve1/aplinfo', { auth });
    assert.deepEqual(
      aplinfo.body.data.map((appliance: { template: string }) => appliance.template),
      [RIG_TEMPLATE, RIG_APPLIANCE_TEMPLATE, RIG_DEBIAN_TEMPLATE],
    );
    const download = await call('POST', '/nodes/pve1/aplinfo', {
      auth,
      params: { storage: 'local', template: 'nope.tar.zst' },
    });
    assertParameterError(download, { template: 'no such template' });
  });
});

describe('power operations and views', () => {
  const auth = { token: TOKEN };

  test('start, shutdown, stop and reboot behave like pve-container', async () => {
    await waitForTask((await call('POST', '/nodes/pve1/lxc', { auth, params: createParams(170) })).body.data);
    const stored = JSON.parse(readFileSync(path.join(dataDir, 'lxc', '170.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(stored.memory, '256', 'the config file holds PVE-style string values');
    assert.ok(Object.values(stored).every((value) => typeof value === 'string'));

    const notRunning = await call('POST', '/nodes/pve1/lxc/170/status/shutdown', { auth });
    assert.equal(notRunning.status, 500);
    assert.equal(notRunning.statusMessage, 'CT 170 not running');

    const start = await call('POST', '/nodes/pve1/lxc/170/status/start', { auth });
    assert.match(start.body.data, /:vzstart:170:root@pam!proximity:$/);
    assert.equal((await waitForTask(start.body.data)).status.exitstatus, 'OK');
    const reboot = await call('POST', '/nodes/pve1/lxc/170/status/reboot', { auth });
    assert.match(reboot.body.data, /:vzreboot:170:/);
    assert.equal((await waitForTask(reboot.body.data)).status.exitstatus, 'OK');
    assert.equal(runtime.containers.get(170)?.state, 'running');
    const shutdown = await call('POST', '/nodes/pve1/lxc/170/status/shutdown', {
      auth,
      params: { timeout: '5' },
    });
    assert.match(shutdown.body.data, /:vzshutdown:170:/);
    await waitForTask(shutdown.body.data);
    assert.equal(runtime.containers.get(170)?.state, 'stopped');
    const stop = await call('POST', '/nodes/pve1/lxc/170/status/stop', { auth });
    assert.equal(stop.status, 500);
    assert.equal(stop.statusMessage, 'CT 170 not running');

    const skiplock = await call('POST', '/nodes/pve1/lxc/170/status/start', {
      auth: await login('bob@pve', 'bobpassword'),
      params: { skiplock: '1' },
    });
    assertParameterError(skiplock, { skiplock: 'Only root may use this option.' });
  });

  test('a NIC on a bridge that does not exist fails the start task like PVE', async () => {
    await call('PUT', '/nodes/pve1/lxc/170/config', {
      auth,
      params: { net0: 'name=eth0,bridge=vmbr7,ip=dhcp' },
    });
    const { status, log } = await waitForTask(
      (await call('POST', '/nodes/pve1/lxc/170/status/start', { auth })).body.data,
    );
    assert.equal(status.exitstatus, "startup for container '170' failed");
    assert.ok(log.includes("bridge 'vmbr7' does not exist"), log.join('\n'));
  });

  test('cluster/resources lists the container, the node and the storages, filtered by type', async () => {
    const all = (await call('GET', '/cluster/resources', { auth })).body.data as Record<string, unknown>[];
    const ids = all.map((resource) => resource.id);
    for (const id of ['lxc/170', 'node/pve1', 'storage/pve1/local', 'storage/pve1/local-lvm']) {
      assert.ok(ids.includes(id), id);
    }
    const ct = all.find((resource) => resource.id === 'lxc/170')!;
    assert.equal(ct.type, 'lxc');
    assert.equal(ct.vmid, 170);
    assert.equal(ct.name, 'ct170');
    assert.equal(ct.status, 'stopped');
    const vms = (await call('GET', '/cluster/resources', { auth, params: { type: 'vm' } })).body.data;
    assert.deepEqual(
      vms.map((resource: { id: string }) => resource.id),
      ['lxc/170'],
    );
  });

  test('the node: list, status, and another node name is not this one', async () => {
    const nodes = (await call('GET', '/nodes', { auth })).body.data;
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0].node, 'pve1');
    assert.equal(nodes[0].status, 'online');
    assert.equal(nodes[0].ssl_fingerprint, sim.fingerprint);
    const status = (await call('GET', '/nodes/pve1/status', { auth })).body.data;
    assert.ok(status.memory.total > 0);
    assert.equal(status.loadavg.length, 3);
    const other = await call('GET', '/nodes/pve2/lxc', { auth });
    assert.equal(other.status, 500);
    assert.equal(
      other.statusMessage,
      "hostname lookup 'pve2' failed - failed to get address info for: pve2: Name or service not known",
    );
    await waitForTask(
      (await call('DELETE', '/nodes/pve1/lxc/170', { auth, params: { purge: '1' } })).body.data,
    );
  });
});

describe('the network API', () => {
  test('stage a bridge, see the pending change, apply it as an srvreload task', async () => {
    const root = await login('root@pam', 'rigpassword');
    const created = await call('POST', '/nodes/pve1/network', {
      auth: root,
      params: { iface: 'vmbr1', type: 'bridge', cidr: '10.99.0.1/24', autostart: '1' },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(network.bridges.has('vmbr1'), false, 'staged only');
    const listed = await call('GET', '/nodes/pve1/network', { auth: root });
    const vmbr1 = listed.body.data.find((iface: { iface: string }) => iface.iface === 'vmbr1');
    assert.equal(vmbr1.type, 'bridge');
    assert.equal(vmbr1.cidr, '10.99.0.1/24');
    assert.equal(vmbr1.active, undefined);
    assert.match(listed.body.changes, /^\+iface vmbr1 inet static$/m);
    const again = await call('POST', '/nodes/pve1/network', {
      auth: root,
      params: { iface: 'vmbr1', type: 'bridge' },
    });
    assertParameterError(again, { iface: 'interface already exists' });

    const applied = await call('PUT', '/nodes/pve1/network', { auth: root });
    assert.match(
      applied.body.data,
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:srvreload:networking:root@pam:$/,
    );
    assert.equal((await waitForTask(applied.body.data)).status.exitstatus, 'OK');
    assert.deepEqual(network.bridges.get('vmbr1'), { cidr: '10.99.0.1/24', active: true, ports: [] });
    const after = await call('GET', '/nodes/pve1/network', { auth: root });
    assert.equal(after.body.changes, undefined);
    assert.equal(after.body.data.find((iface: { iface: string }) => iface.iface === 'vmbr1').active, 1);
  });

  test('deleting an interface is staged too, and applying removes the bridge', async () => {
    const root = await login('root@pam', 'rigpassword');
    const one = await call('GET', '/nodes/pve1/network/vmbr1', { auth: root });
    assert.equal(one.body.data.cidr, '10.99.0.1/24');
    assert.equal((await call('DELETE', '/nodes/pve1/network/vmbr1', { auth: root })).status, 200);
    assert.equal(network.bridges.has('vmbr1'), true, 'staged only');
    await waitForTask((await call('PUT', '/nodes/pve1/network', { auth: root })).body.data);
    assert.equal(network.bridges.has('vmbr1'), false);
    assert.equal(network.bridges.has('vmbr0'), true, 'the rig bridge stays');
  });

  test('revert drops staged changes', async () => {
    const root = await login('root@pam', 'rigpassword');
    await call('POST', '/nodes/pve1/network', { auth: root, params: { iface: 'vmbr2', type: 'bridge' } });
    assert.equal((await call('DELETE', '/nodes/pve1/network', { auth: root })).status, 200);
    const listed = await call('GET', '/nodes/pve1/network', { auth: root });
    assert.equal(
      listed.body.data.some((iface: { iface: string }) => iface.iface === 'vmbr2'),
      false,
    );
  });

  test('bridges are listed to who holds SDN.Audit or SDN.Use on them (alice: PVEAuditor on /)', async () => {
    const alice = await login('alice@pve', 'alicepassword');
    const listed = await call('GET', '/nodes/pve1/network', { auth: alice });
    assert.equal(listed.status, 200);
    // PVEAuditor on / propagates SDN.Audit down to /sdn/zones/localnetwork/<bridge>
    assert.ok(listed.body.data.some((iface: { iface: string }) => iface.iface === 'vmbr0'));
  });
});
