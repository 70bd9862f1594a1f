import { AppError } from '../../../core/errors.js';

/**
 * Runs a program on a node: locally with child_process, on another node over SSH.
 * Commands are argv arrays, never shell strings: nothing a user typed is ever parsed by a
 * shell on our side (the SSH executor quotes every argument for the remote shell).
 */
export interface Executor {
  readonly description: string;
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  close?(): Promise<void>;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Written to the program's stdin, then stdin is closed. */
  input?: string;
  /** Per stream; the rest is dropped and `truncated` set. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

export class CommandError extends AppError {
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly result?: RunResult,
    options?: { cause?: unknown },
  ) {
    super(502, 'command_failed', message, undefined, options);
  }
}

/** Refuses what no caller should ever pass, before anything runs. */
export function checkArgv(argv: readonly string[]): void {
  if (argv.length === 0 || argv[0] === '') throw new CommandError('empty command', argv);
  for (const arg of argv) {
    if (typeof arg !== 'string' || arg.includes('\0')) {
      throw new CommandError('command arguments must be strings without NUL bytes', argv);
    }
  }
}

/** Runs and throws a CommandError (with the tail of stderr) on a non-zero exit. */
export async function runChecked(
  executor: Executor,
  argv: readonly string[],
  options?: RunOptions,
): Promise<RunResult> {
  const result = await executor.run(argv, options);
  if (result.code !== 0) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join(' | ');
    throw new CommandError(
      `${argv[0]} exited with ${result.code} on ${executor.description}: ${tail}`,
      argv,
      result,
    );
  }
  return result;
}

/** Collects a stream up to a byte limit. */
export class BoundedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part !== chunk) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
