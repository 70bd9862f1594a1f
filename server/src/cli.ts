import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import { Agent, fetch } from 'undici';
import { loadConfig } from './core/config/load.js';
import { resolveTls } from './core/http/tls.js';
import { version } from './version.js';

/**
 * `proximity`: the admin's command line on the node, talking to the same API as the tab,
 * as Proximity's own PVE token (readable by root only, like the rest of /etc/proximity).
 * Every command prints what a person needs; `--json` prints the API's answer instead.
 */

interface Target {
  url: string;
  authorization: string;
  dispatcher?: Agent;
}

class CliError extends Error {}

/** Where the service listens and how to prove who we are, from the service's own configuration. */
function target(options: { config?: string; url?: string }): Target {
  const config = loadConfig({ ...(options.config ? { file: options.config } : {}) });
  let secret: string;
  try {
    secret = readFileSync(config.pve.tokenSecretFile, 'utf8').trim();
  } catch (error) {
    throw new CliError(
      `cannot read Proximity's token (${(error as Error).message}): run this as root on the node`,
    );
  }
  const tls = resolveTls(config.listen.tls, config.listen.pveCertDir);
  const host = ['0.0.0.0', '::'].includes(config.listen.host) ? '127.0.0.1' : config.listen.host;
  const url = options.url ?? `${tls ? 'https' : 'http'}://${host}:${config.listen.port}`;
  return {
    url,
    authorization: `PVEAPIToken=${config.pve.tokenId}=${secret}`,
    // Our own certificate, pinned: the loopback address is not among the names it is for.
    ...(tls
      ? {
          dispatcher: new Agent({
            connect: { ca: readFileSync(tls.certFile, 'utf8'), checkServerIdentity: () => undefined },
          }),
        }
      : {}),
  };
}

/** An API call (`/api/v1` + path, answer's `data`), or with `root` a public path answered as is. */
async function call<T>(
  t: Target,
  method: string,
  path: string,
  body?: unknown,
  options: { root?: boolean } = {},
): Promise<T> {
  let response;
  try {
    response = await fetch(`${t.url}${options.root ? '' : '/api/v1'}${path}`, {
      method,
      headers: {
        authorization: t.authorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(t.dispatcher ? { dispatcher: t.dispatcher } : {}),
    });
  } catch (error) {
    throw new CliError(
      `cannot reach the Proximity service at ${t.url} (${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message}): is it running? systemctl status proximity`,
    );
  }
  const json = (await response.json().catch(() => ({}))) as {
    data?: T;
    error?: { message: string; fields?: Record<string, string> };
  };
  if (!response.ok) {
    const fields = Object.entries(json.error?.fields ?? {}).map(([key, why]) => `\n  ${key}: ${why}`);
    throw new CliError(`${json.error?.message ?? `HTTP ${response.status}`}${fields.join('')}`);
  }
  return (options.root ? json : json.data) as T;
}

function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? '-')));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

interface TaskView {
  id: string;
  state: string;
  error: string | null;
  steps: { name: string; state: string; message: string | null }[];
}

/** Prints each step as it ends, until the task is final; fails if the task did. */
async function follow(t: Target, id: string, print: (line: string) => void): Promise<TaskView> {
  const reported = new Set<string>();
  for (;;) {
    const task = await call<TaskView>(t, 'GET', `/tasks/${id}`);
    for (const step of task.steps) {
      const key = `${step.name}:${step.state}`;
      if (['done', 'failed', 'undone'].includes(step.state) && !reported.has(key)) {
        reported.add(key);
        print(`${step.state.padEnd(6)} ${step.name}${step.message ? `: ${step.message}` : ''}`);
      }
    }
    if (!['running', 'cancelling'].includes(task.state)) {
      if (task.state !== 'succeeded') throw new CliError(`task ${task.state}: ${task.error ?? ''}`);
      return task;
    }
    await sleep(500);
  }
}

const positiveInt = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
};

const envPair = (value: string, previous: Record<string, string> = {}) => {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('must be KEY=value');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
};

export function program(
  print: (text: string) => void = (text) => process.stdout.write(`${text}\n`),
): Command {
  const root = new Command()
    .name('proximity')
    .description('Proximity on this Proxmox VE node: status, network, apps, logs')
    .version(version)
    .option('-c, --config <file>', 'the service configuration (default /etc/proximity/proximity.json)')
    .option('--url <url>', 'the service URL (default: from the configuration)')
    .option('--json', 'print the API answer as JSON');
  const t = () => target(root.opts<{ config?: string; url?: string }>());
  const json = () => root.opts<{ json?: boolean }>().json === true;
  const out = (data: unknown, human: () => string) => print(json() ? JSON.stringify(data, null, 2) : human());

  root
    .command('status')
    .description('health of the service and its parts')
    .action(async () => {
      const status = await call<{
        status: string;
        version: string;
        components: Record<string, { health: string; reasons?: string[] }>;
      }>(t(), 'GET', '/status', undefined, { root: true });
      out(status, () =>
        [
          `proximity ${status.version}: ${status.status}`,
          ...Object.entries(status.components).map(
            ([name, c]) =>
              `${name.padEnd(10)} ${c.health}${c.reasons?.length ? `: ${c.reasons.join('; ')}` : ''}`,
          ),
        ].join('\n'),
      );
    });

  const network = root.command('network').description('proximity-lan and its services');
  network
    .command('init')
    .description('create proximity-lan and start DHCP, DNS, NAT and the proxy')
    .action(async () => {
      const status = await call<{ health: string; reasons: string[] }>(
        t(),
        'POST',
        '/system/network/initialize',
      );
      out(
        status,
        () => `network ${status.health}${status.reasons.length ? `: ${status.reasons.join('; ')}` : ''}`,
      );
    });
  network
    .command('repair')
    .description('rebuild the bridge and retry the appliance')
    .action(async () => {
      await call(t(), 'POST', '/system/network/rebuild-bridge');
      const status = await call<{ health: string; reasons: string[] }>(
        t(),
        'POST',
        '/system/infrastructure/retry',
      );
      out(
        status,
        () => `network ${status.health}${status.reasons.length ? `: ${status.reasons.join('; ')}` : ''}`,
      );
    });

  const apps = root.command('apps').description('deployed apps');
  apps
    .command('list')
    .description('apps with their status and URL')
    .action(async () => {
      const list = await call<Record<string, unknown>[]>(t(), 'GET', '/apps');
      out(list, () =>
        list.length === 0 ? 'no apps' : table(list, ['hostname', 'status', 'vmid', 'ip', 'url', 'catalogId']),
      );
    });
  apps
    .command('deploy <catalog-id> <hostname>')
    .description('deploy an app from the catalog and follow its task')
    .option('--cores <n>', 'CPU cores', positiveInt)
    .option('--memory <mb>', 'memory in MiB', positiveInt)
    .option('--disk <gb>', 'root disk in GiB', positiveInt)
    .option('-e, --env <KEY=value>', 'a setting of the app (repeatable)', envPair)
    .option('--no-wait', 'return once the task is started')
    .action(async (catalogId: string, hostname: string, opts) => {
      const o = opts as {
        cores?: number;
        memory?: number;
        disk?: number;
        env?: Record<string, string>;
        wait: boolean;
      };
      const resources = {
        ...(o.cores ? { cores: o.cores } : {}),
        ...(o.memory ? { memoryMb: o.memory } : {}),
        ...(o.disk ? { diskGb: o.disk } : {}),
      };
      const target = t();
      const started = await call<{ taskId: string; app: { url: string } }>(target, 'POST', '/apps', {
        catalogId,
        hostname,
        ...(Object.keys(resources).length > 0 ? { resources } : {}),
        ...(o.env ? { env: o.env } : {}),
      });
      if (!o.wait) return out(started, () => `task ${started.taskId} started`);
      await follow(target, started.taskId, json() ? () => {} : print);
      out(started, () => `${hostname} is ready at ${started.app.url}`);
    });
  for (const action of ['start', 'stop', 'restart'] as const) {
    apps
      .command(`${action} <hostname>`)
      .description(`${action} an app's container`)
      .action(async (hostname: string) => {
        const app = await call<{ status: string }>(
          t(),
          'POST',
          `/apps/${encodeURIComponent(hostname)}/${action}`,
        );
        out(app, () => `${hostname} ${app.status}`);
      });
  }
  apps
    .command('delete <hostname>')
    .description('delete an app: route, container, record')
    .action(async (hostname: string) => {
      const target = t();
      const { taskId } = await call<{ taskId: string }>(
        target,
        'DELETE',
        `/apps/${encodeURIComponent(hostname)}`,
      );
      await follow(target, taskId, json() ? () => {} : print);
      out({ taskId }, () => `${hostname} deleted`);
    });

  root
    .command('logs <hostname>')
    .description("an app's log")
    .option('-n, --lines <n>', 'how many lines', positiveInt, 100)
    .action(async (hostname: string, opts: { lines: number }) => {
      const logs = await call<{ source: string; lines: string[] }>(
        t(),
        'GET',
        `/apps/${encodeURIComponent(hostname)}/logs?lines=${opts.lines}`,
      );
      out(logs, () => logs.lines.join('\n'));
    });

  root
    .command('catalog [search]')
    .description('what can be deployed')
    .action(async (search?: string) => {
      const list = await call<Record<string, unknown>[]>(
        t(),
        'GET',
        `/catalog${search ? `?search=${encodeURIComponent(search)}` : ''}`,
      );
      out(list, () => table(list, ['id', 'name', 'category', 'source']));
    });
  return root;
}

/** Runs the CLI; resolves with the exit code (errors are one line on stderr). */
export async function runCli(argv: string[], print?: (text: string) => void): Promise<number> {
  try {
    await program(print).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CliError || (error as { name?: string }).name === 'StartupError') {
      process.stderr.write(`proximity: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}
