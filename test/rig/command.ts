/**
 * Running programs for the rig: always an argv array handed to the kernel as is (no shell
 * parses our values), with the exit code and both outputs captured.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { ExecResult } from './contracts.js';

export interface RunOptions {
  input?: string | Buffer | undefined;
  timeoutMs?: number | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    super(
      `${argv.join(' ')} exited ${result.code}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ''}`,
    );
    this.name = 'CommandError';
  }
}

export class CommandTimeoutError extends Error {
  constructor(argv: readonly string[], timeoutMs: number) {
    super(`${argv.join(' ')} did not finish within ${timeoutMs} ms (killed)`);
    this.name = 'CommandTimeoutError';
  }
}

/** Runs argv and resolves with its exit code and output, whatever the code. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
            // A grandchild may still hold the pipes (lxc-attach hands them to the command
            // in the container): do not wait for them to close.
            child.stdout.destroy();
            child.stderr.destroy();
            reject(new CommandTimeoutError(argv, options.timeoutMs!));
          }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close' (not 'exit'): the outputs are complete only when both pipes are closed.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return;
      resolve({
        // Like a shell: killed by signal N reads as exit code 128 + N.
        code: code ?? 128 + (signal ? constants.signals[signal] : 0),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    // A child that exits without reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Runs argv and resolves with its standard output; rejects with CommandError unless it exits 0. */
export async function runChecked(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run(argv, options);
  if (result.code !== 0) throw new CommandError(argv, result);
  return result.stdout;
}
