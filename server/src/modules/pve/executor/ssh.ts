import { createHash } from 'node:crypto';
import { Client } from 'ssh2';
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

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string | Buffer;
  /** Pinned host key, `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  readyTimeoutMs?: number;
}

/** SSH runs a command line through the remote user's shell: quote every argument for it. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
}

export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Runs programs on another cluster node over SSH (ssh2), one multiplexed connection per
 * node, re-opened when it drops. The host key must match the pinned fingerprint: a node
 * that presents another key is refused, never trusted on first use.
 */
export class SshExecutor implements Executor {
  readonly description: string;
  private connection: Promise<Client> | undefined;

  constructor(private readonly target: SshTarget) {
    this.description = `${target.username}@${target.host}:${target.port}`;
  }

  private connect(): Promise<Client> {
    this.connection ??= new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let presented: string | undefined;
      client
        .on('ready', () => resolve(client))
        .on('error', (error) => {
          this.connection = undefined;
          const reason =
            presented && presented !== this.target.hostKeyFingerprint
              ? `host key ${presented} does not match the pinned ${this.target.hostKeyFingerprint}`
              : error.message;
          reject(
            new CommandError(`cannot connect to ${this.description}: ${reason}`, [], undefined, {
              cause: error,
            }),
          );
        })
        .on('close', () => {
          this.connection = undefined;
        })
        .connect({
          host: this.target.host,
          port: this.target.port,
          username: this.target.username,
          privateKey: this.target.privateKey,
          readyTimeout: this.target.readyTimeoutMs ?? 10_000,
          keepaliveInterval: 15_000,
          hostVerifier: (key: Buffer) => {
            presented = sshFingerprint(key);
            return presented === this.target.hostKeyFingerprint;
          },
        });
    });
    return this.connection;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    checkArgv(argv);
    const client = await this.connect();
    const started = Date.now();
    const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = new BoundedBuffer(limit);
    const stderr = new BoundedBuffer(limit);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

    return new Promise((resolve, reject) => {
      client.exec(shellQuote(argv), (error, stream) => {
        if (error) {
          reject(
            new CommandError(
              `cannot run ${argv[0]} on ${this.description}: ${error.message}`,
              argv,
              undefined,
              { cause: error },
            ),
          );
          return;
        }
        let stopped: string | undefined;
        const stop = (why: string) => {
          stopped = why;
          // Ask the remote side to end it; close the channel regardless.
          stream.signal('KILL');
          stream.close();
        };
        const timer = setTimeout(() => stop(`timed out after ${timeoutMs} ms`), timeoutMs);
        const onAbort = () => stop('was cancelled');
        options.signal?.addEventListener('abort', onAbort, { once: true });
        stream.on('data', (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('close', (code: number | null, signal?: string) => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          const result: RunResult = {
            code: code ?? (signal ? 128 : 255),
            stdout: stdout.toString(),
            stderr: stderr.toString(),
            truncated: stdout.truncated || stderr.truncated,
            durationMs: Date.now() - started,
          };
          if (stopped) reject(new CommandError(`${argv[0]} on ${this.description} ${stopped}`, argv, result));
          else resolve(result);
        });
        stream.end(options.input ?? '');
      });
    });
  }

  async close(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    if (pending) (await pending.catch(() => undefined))?.end();
  }
}
