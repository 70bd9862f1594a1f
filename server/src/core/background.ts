/**
 * Work a module repeats on a timer (health probes, discovery): one round at a time, none
 * after stop(), and stop() resolves only once the round in flight has finished, so the
 * service can close the store behind it. `work` handles its own errors.
 */
export class BackgroundLoop {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** One round now, unless one is running (then that one) or the loop has stopped. */
  runOnce(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.round ??= this.work().finally(() => (this.round = undefined));
    return this.round;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.round?.catch(() => {});
  }
}
