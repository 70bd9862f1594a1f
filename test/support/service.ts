import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after } from 'node:test';
import { configSchema, type Config } from '../../server/src/core/config/schema.js';
import { createLogger } from '../../server/src/core/logger.js';
import type { ModuleFactory } from '../../server/src/core/module.js';
import { defaultModules, startService, type RunningService } from '../../server/src/service.js';
import { tempDir } from './temp.js';

export const repositoryRoot = path.resolve(import.meta.dirname, '../..');
export const serverEntry = path.join(repositoryRoot, 'server/src/main.ts');

/** A validated configuration for tests: free port on loopback, a temporary data dir. */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    listen: { host: '127.0.0.1', port: 0 },
    dataDir: tempDir(),
    log: { level: 'silent' },
    // Port 9 (discard) is closed on any sane machine: "Proxmox VE unreachable", and never a
    // real PVE on a developer's node by accident.
    pve: { host: '127.0.0.1', port: 9, caFile: null, tokenSecretFile: '/nonexistent/pve-token' },
    ...overrides,
  });
}

/** The real service in this process, stopped after the test file. */
export async function startTestService(
  options: { config?: Config; extraModules?: ModuleFactory[] } = {},
): Promise<RunningService> {
  const config = options.config ?? testConfig();
  const service = await startService(config, {
    logger: createLogger(config.log.level),
    modules: [...defaultModules, ...(options.extraModules ?? [])],
  });
  after(() => service.stop());
  return service;
}

export interface ServiceProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `server/src/main.ts` as the service would run: its own process, real signals. */
export function spawnService(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  entry = serverEntry,
): ServiceProcess {
  const isTypeScript = entry.endsWith('.ts');
  const child = spawn(process.execPath, [...(isTypeScript ? ['--import', 'tsx'] : []), entry, ...args], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until the spawned service prints its `API: <url>/api/v1` line; returns the base URL. */
export async function waitForApiUrl(service: ServiceProcess, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = /^API: (http\S+)\/api\/v1$/m.exec(service.stdout());
    if (match) return match[1]!;
    if (service.child.exitCode !== null) {
      throw new Error(`service exited ${service.child.exitCode}: ${service.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`service did not start in ${timeoutMs} ms: ${service.stderr()}`);
}
