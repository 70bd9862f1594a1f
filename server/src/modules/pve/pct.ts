import type { Executor, RunOptions, RunResult } from './executor/executor.js';
import { runChecked } from './executor/executor.js';

/**
 * Proxmox's `pct` on a node, through that node's executor. Used for what the API cannot do
 * (run a command inside a container, copy files in and out) and, as root, for what API
 * tokens may not (privileged features of the appliance).
 */
export class Pct {
  constructor(private readonly executor: Executor) {}

  private static vmid(vmid: number): string {
    if (!Number.isInteger(vmid) || vmid < 100 || vmid > 999_999_999)
      throw new RangeError(`invalid vmid ${vmid}`);
    return String(vmid);
  }

  /** Runs argv inside the container; returns the result whatever the exit code. */
  exec(vmid: number, argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.executor.run(['pct', 'exec', Pct.vmid(vmid), '--', ...argv], options);
  }

  execChecked(vmid: number, argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return runChecked(this.executor, ['pct', 'exec', Pct.vmid(vmid), '--', ...argv], options);
  }

  async push(vmid: number, source: string, destination: string, perms?: string): Promise<void> {
    await runChecked(this.executor, [
      'pct',
      'push',
      Pct.vmid(vmid),
      source,
      destination,
      ...(perms ? ['--perms', perms] : []),
    ]);
  }

  async pull(vmid: number, source: string, destination: string): Promise<void> {
    await runChecked(this.executor, ['pct', 'pull', Pct.vmid(vmid), source, destination]);
  }

  async status(vmid: number): Promise<'running' | 'stopped'> {
    const { stdout } = await runChecked(this.executor, ['pct', 'status', Pct.vmid(vmid)]);
    const match = /^status:\s*(\w+)/m.exec(stdout);
    if (match?.[1] !== 'running' && match?.[1] !== 'stopped')
      throw new Error(`unexpected pct status output: ${stdout}`);
    return match[1];
  }
}
