import { errors } from '../../core/errors.js';
import type { Caller } from '../auth/service.js';
import type { AppRecord } from './app.js';
import type { AppsDeps } from './deps.js';

/**
 * Reading an app's log and running its safe commands, both through `pct exec` in its running
 * container: the log from its declared file or the journal, bounded; a command only if the
 * manifest declared it, run as its argv, never anything else.
 */

const COMMAND_OUTPUT_BYTES = 64 * 1024;

type Running = AppRecord & { vmid: number };

/** The app's log: its declared file, else the container's journal (bounded either way). */
export async function readLog(
  deps: Pick<AppsDeps, 'pve'>,
  app: Running,
  lines: number,
): Promise<{ source: string; lines: string[] }> {
  const pct = deps.pve.pct(app.node);
  const options = { timeoutMs: 15_000, maxOutputBytes: 1024 * 1024 };
  const attempts: [string, string[]][] = app.spec.logFile
    ? [[app.spec.logFile, ['tail', '-n', String(lines), app.spec.logFile]]]
    : [
        ['journal', ['journalctl', '--no-pager', '-q', '-n', String(lines), '-o', 'short-iso']],
        ['/var/log/messages', ['tail', '-n', String(lines), '/var/log/messages']],
      ];
  const failures: string[] = [];
  for (const [source, argv] of attempts) {
    const result = await pct.exec(app.vmid, argv, options);
    if (result.code === 0) return { source, lines: splitLines(result.stdout).slice(-lines) };
    failures.push(`${source}: ${result.stderr.trim().split('\n').pop() ?? `exit ${result.code}`}`);
  }
  throw errors.notFound(`no log to read in CT ${app.vmid} (${failures.join('; ')})`);
}

export function listCommands(app: AppRecord) {
  return app.spec.safeCommands.map(({ name, description, argv }) => ({
    name,
    description: description ?? null,
    argv,
  }));
}

/** Runs one of the app's pre-declared read-only commands; never anything else. */
export async function runSafeCommand(
  deps: Pick<AppsDeps, 'pve' | 'audit'>,
  caller: Caller,
  app: Running,
  name: string,
) {
  const hostname = app.hostname;
  const command = app.spec.safeCommands.find((candidate) => candidate.name === name);
  if (!command)
    throw errors.notFound(
      `${hostname} has no safe command ${name} (it has: ${app.spec.safeCommands.map((c) => c.name).join(', ') || 'none'})`,
    );
  const result = await deps.pve.pct(app.node).exec(app.vmid, command.argv, {
    timeoutMs: command.timeoutSeconds * 1000,
    maxOutputBytes: COMMAND_OUTPUT_BYTES,
  });
  deps.audit.append({
    actor: caller.id,
    action: 'app.command',
    target: hostname,
    result: result.code === 0 ? 'ok' : 'failed',
    details: { command: name, exitCode: result.code },
  });
  return {
    name,
    argv: command.argv,
    exitCode: result.code,
    stdout: result.stdout,
    stderr: result.stderr,
    truncated: result.truncated,
    durationMs: result.durationMs,
  };
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
