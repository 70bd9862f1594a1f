import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDir } from '../../../../../test/support/temp.js';
import { Store } from '../../../core/store/store.js';
import { networkSettingsSchema } from '../../network/settings.js';
import type { RunResult } from '../../pve/executor/executor.js';
import { appAddress, appKind, appLink, type AppSpec } from '../app.js';
import type { AppsDeps } from '../deps.js';
import { tcpServiceRecords, TcpServiceNames } from '../names-dns.js';
import { AppRepository } from '../repository.js';
import { deployKind, type DeployTaskData, type DeployTaskInput } from './steps.js';

const base: AppSpec = {
  catalog: { id: 'x', name: 'X', source: 'proximity' },
  template: { os: 'debian', version: '13' },
  resources: { cores: 1, memoryMb: 256, diskGb: 2, unprivileged: true, nesting: true },
  port: { port: 8080, protocol: 'http' },
  healthCheck: { path: '/health', timeoutSeconds: 5 },
  install: [],
  env: { TITLE: 'x' },
  secretKeys: [{ key: 'PASSWORD', length: 16 }],
  safeCommands: [],
};
const tcpSpec: AppSpec = {
  ...base,
  port: { port: 6379, protocol: 'tcp' },
  healthCheck: { command: ['redis-cli', '-a', 'x', 'ping'], timeoutSeconds: 5 },
};
const settings = networkSettingsSchema.parse({});

const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '', durationMs: 1 }) as RunResult;
const failed = (code: number, stderr: string): RunResult =>
  ({ code, stdout: '', stderr, durationMs: 1 }) as RunResult;

/** The deploy's steps on a real repository, with the network, proxy and PVE recorded. */
function fixture(spec: AppSpec, answers: { site?: RunResult[]; pct?: RunResult[] } = {}) {
  const repository = new AppRepository(Store.open({ dataDir: tempDir(), busyTimeoutMs: 1000 }).db);
  repository.insert({
    hostname: 'redis',
    catalogId: 'x',
    node: 'pve',
    state: 'deploying',
    taskId: 't1',
    spec,
    owner: 'root@pam',
    secrets: { PASSWORD: 's3cret' },
  });
  repository.setAddress('redis', '10.20.0.120', 'bc:24:11:00:00:01');
  const calls = {
    reconcile: [] as string[],
    routes: [] as unknown[],
    site: [] as string[][],
    pct: [] as string[][],
  };
  const site = {
    run: (argv: readonly string[]) => {
      calls.site.push([...argv]);
      return Promise.resolve(answers.site?.shift() ?? ok());
    },
  };
  const deps = {
    repository,
    network: {
      settings,
      reconcile: (reason: string) => {
        calls.reconcile.push(reason);
        return Promise.resolve({ ok: true });
      },
      currentSite: () => Promise.resolve(site),
    },
    proxy: {
      routes: () => [],
      create: (input: unknown) => {
        calls.routes.push(input);
        return Promise.resolve({ applied: true });
      },
    },
    pve: {
      pct: () => ({
        exec: (_vmid: number, argv: readonly string[]) => {
          calls.pct.push([...argv]);
          return Promise.resolve(answers.pct?.shift() ?? ok('PONG'));
        },
      }),
    },
  } as unknown as AppsDeps;
  const kind = deployKind(deps);
  const data: DeployTaskData = { vmid: 120, ip: '10.20.0.120', mac: 'bc:24:11:00:00:01', fallback: false };
  const log: string[] = [];
  const ctx = {
    taskId: 't1',
    input: { hostname: 'redis', node: 'pve' } satisfies DeployTaskInput,
    data,
    save: () => {},
    log: (line: string) => log.push(line),
    progress: (line: string) => log.push(line),
    signal: new AbortController().signal,
  };
  const step = (name: string) => kind.steps.find((s) => s.name === name)!;
  return { repository, calls, ctx, data, log, step };
}

describe('deploying a TCP service', () => {
  it('makes no proxy route: a network pass publishes its name, pointing at the container', async () => {
    const { calls, ctx, repository, step } = fixture(tcpSpec);
    const message = await step('route').run(ctx);
    assert.deepEqual(calls.routes, [], 'no route for a TCP service');
    assert.equal(calls.reconcile.length, 1);
    assert.match(String(message), /redis\.prox\.local → 10\.20\.0\.120 \(no proxy route\), port 6379/);
    assert.deepEqual(tcpServiceRecords(repository.list(), settings), [
      { name: 'redis.prox.local', ip: '10.20.0.120' },
    ]);
  });

  it('is healthy once its port takes a connection from the LAN and its command exits 0', async () => {
    const { calls, ctx, data, repository, step } = fixture(tcpSpec, {
      site: [failed(1, 'bash: connect: Connection refused'), ok(), ok()],
      pct: [failed(1, 'NOAUTH'), ok('PONG')],
    });
    assert.equal(await step('health').run(ctx), 'ready at redis.prox.local:6379');
    assert.equal(data.url, 'redis.prox.local:6379');
    assert.equal(repository.get('redis')!.state, 'ready');
    // The connect: a script on the site, the address as its arguments, no HTTP request.
    assert.deepEqual(calls.site[0]!.slice(0, 4), ['timeout', '5', 'sh', '-c']);
    assert.deepEqual(calls.site[0]!.slice(-3), ['probe', '10.20.0.120', '6379']);
    assert.ok(!calls.site.flat().includes('wget'));
    // The command runs in the container with the app's env and secrets, after a connect.
    assert.equal(calls.pct.length, 2);
    assert.deepEqual(calls.pct[1]!.slice(-4), ['redis-cli', '-a', 'x', 'ping']);
    assert.ok(calls.pct[1]!.includes('PASSWORD=s3cret') && calls.pct[1]![0] === 'env');
    assert.ok(calls.pct[1]!.includes('PROXIMITY_SUBNET=10.20.0.0/24'));
  });

  it('fails with the last reason when the command never succeeds', async () => {
    const { ctx, step } = fixture(
      { ...tcpSpec, healthCheck: { command: ['pg_isready'], timeoutSeconds: 1 } },
      { pct: Array.from({ length: 50 }, () => failed(2, 'no response')) },
    );
    await assert.rejects(
      step('health').run(ctx),
      /no healthy answer from 10\.20\.0\.120:6379 in 1 s \(last: check command: pg_isready exited with status 2: no response\)/,
    );
  });

  it('checks only the connect when the manifest has no command', async () => {
    const { calls, ctx, step } = fixture({ ...tcpSpec, healthCheck: { timeoutSeconds: 5 } });
    await step('health').run(ctx);
    assert.equal(calls.site.length, 1);
    assert.equal(calls.pct.length, 0);
  });
});

describe('deploying a web app (unchanged)', () => {
  it('gets a proxy route and is checked by HTTP directly and through the proxy', async () => {
    const { calls, ctx, data, repository, step } = fixture(base, {
      site: [ok(), ok()].map((r) => ({ ...r, stderr: 'HTTP/1.1 200 OK' })),
    });
    await step('route').run(ctx);
    assert.equal(calls.routes.length, 1);
    assert.deepEqual(calls.reconcile, []);
    assert.deepEqual(tcpServiceRecords(repository.list(), settings), [], "a web app's name is the proxy's");
    await step('health').run(ctx);
    assert.equal(calls.site[0]!.at(-1), 'http://10.20.0.120:8080/health');
    assert.deepEqual(calls.site[1]!.slice(-3), [
      '--header',
      'Host: redis.prox.local',
      'http://10.20.0.1/health',
    ]);
    assert.equal(data.url, 'http://redis.prox.local');
  });
});

describe("a TCP service's name and address", () => {
  it('resolves to the container while it has a LAN address and is not being deleted', () => {
    const { repository } = fixture(tcpSpec);
    const names = new TcpServiceNames(repository);
    assert.deepEqual(names.plan(settings).dnsRecords, [{ name: 'redis.prox.local', ip: '10.20.0.120' }]);
    assert.deepEqual(names.plan(settings).upstreamPorts, []);
    repository.setAddress('redis', '192.168.1.50', null);
    assert.deepEqual(names.plan(settings).dnsRecords, [], 'a fallback address on the uplink has no LAN name');
    repository.setAddress('redis', '10.20.0.120', null);
    repository.setState('redis', 'deleting', 't2');
    assert.deepEqual(names.plan(settings).dnsRecords, []);
  });

  it('is told by kind, and a spec stored before TCP services is a web app', () => {
    // As stored before: no command, the protocol http or https, a path.
    const stored = JSON.parse(
      '{"port":{"port":80,"protocol":"https"},"healthCheck":{"path":"/","timeoutSeconds":30}}',
    ) as AppSpec;
    assert.equal(appKind(stored), 'web');
    assert.equal(appAddress('wiki', 'prox.local', stored), 'http://wiki.prox.local');
    assert.equal(appKind(tcpSpec), 'tcp');
    assert.equal(appAddress('redis', 'prox.local', tcpSpec), 'redis.prox.local:6379');
    assert.equal(appLink('redis', 'prox.local', tcpSpec), 'tcp://redis.prox.local:6379');
  });
});
