import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import {
  BoundedBuffer,
  checkArgv,
  CommandError,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  type Executor,
  type RunOptions,
  type RunResult,
} from './executor.js';

/** Grace between SIGTERM and SIGKILL when a command outlives its timeout. */
const KILL_GRACE_MS = 2000;

/** Runs programs on this node (no shell; argv[0] is looked up on PATH). */
export class LocalExecutor implements Executor {
  readonly description = 'the local node';

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    checkArgv(argv);
    const started = Date.now();
    const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = new BoundedBuffer(limit);
    const stderr = new BoundedBuffer(limit);

    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        shell: false,
        env: this.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group, so a timeout ends the command's children too.
        detached: true,
      });
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // already gone
        }
      };
      const stop = () => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      };
      const timer = setTimeout(stop, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      options.signal?.addEventListener('abort', stop, { once: true });

      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.stdin.on('error', () => {}); // the program may exit without reading its input
      child.stdin.end(options.input ?? '');

      child.on('error', (error) => {
        clearTimeout(timer);
        reject(
          new CommandError(`cannot run ${argv[0]}: ${error.message}`, argv, undefined, { cause: error }),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        clearTimeout(killTimer);
        options.signal?.removeEventListener('abort', stop);
        const result: RunResult = {
          code: code ?? 128 + (signal ? constants.signals[signal] : 0),
          stdout: stdout.toString(),
          stderr: stderr.toString(),
          truncated: stdout.truncated || stderr.truncated,
          durationMs: Date.now() - started,
        };
        if (timedOut) {
          const why = options.signal?.aborted
            ? 'was cancelled'
            : `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`;
          reject(new CommandError(`${argv[0]} ${why}`, argv, result));
          return;
        }
        resolve(result);
      });
    });
  }
}
