/**
 * A measurement of the real world (a status made of `pct exec`s, PVE's resource list) that
 * many readers share: one in flight at a time, whoever asks while it runs waits for that one,
 * and the result is served from memory with its age until it is too old. Under load, status
 * then costs one measurement per age window instead of one per request.
 *
 * - `maxAgeMs`: a value older than this is never served; the caller waits for a new one.
 * - `refreshAfterMs`: a value older than this (but within `maxAgeMs`) is still served at once
 *   while one measurement starts in the background, so readers do not queue behind it.
 * - errors are shared by the callers of the failed measurement only, never kept: the next
 *   caller measures again (one at a time, so a broken dependency is not hammered either).
 * - `shared: false` is the reference: every call measures afresh, nothing is shared.
 * - `refreshEveryMs`: measured on a timer too, from start() until stop().
 * - stop() ends the timer, aborts the measurement in flight and waits for it to settle:
 *   after it resolves, the measurement touches nothing (the store may close).
 */
export interface MeasureOptions<T> {
  measure: (signal: AbortSignal) => Promise<T>;
  maxAgeMs: number;
  refreshAfterMs?: number;
  shared?: boolean;
  refreshEveryMs?: number;
  /** A background measurement failed (nobody waited for it). */
  onBackgroundError?: (error: unknown) => void;
  now?: () => number;
}

export interface Measured<T> {
  value: T;
  /** When the measurement began (what it says was true from then on). */
  measuredAt: Date;
  ageMs: number;
}

export class StoppedError extends Error {
  constructor() {
    super('the service is stopping');
  }
}

interface Flight<T> {
  startedAt: number;
  promise: Promise<{ value: T; at: number }>;
  controller: AbortController;
}

export class Measurement<T> {
  private last: { value: T; at: number } | undefined;
  private flight: Flight<T> | undefined;
  /** Per-call measurements in flight (reference mode), so stop() can wait for them too. */
  private readonly unshared = new Set<Flight<T>>();
  private stale = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: MeasureOptions<T>) {
    this.now = options.now ?? Date.now;
  }

  get shared(): boolean {
    return this.options.shared !== false;
  }

  /** The value, from memory when young enough, else from the (shared) measurement. */
  async get(options: { maxAgeMs?: number } = {}): Promise<Measured<T>> {
    if (!this.shared) return this.view(await this.fly(false).promise);
    const maxAge = options.maxAgeMs ?? this.options.maxAgeMs;
    const last = this.last;
    if (last && this.now() - last.at <= maxAge) {
      const refreshAfter = Math.min(this.options.refreshAfterMs ?? maxAge, maxAge);
      if (this.stale || this.now() - last.at > refreshAfter) this.background();
      return this.view(last);
    }
    return this.view(await this.current().promise);
  }

  /**
   * A value measured after this call began (after a change, the caller wants its effect):
   * joins a measurement only if it started from now on, else starts one after it.
   */
  async fresh(): Promise<Measured<T>> {
    if (!this.shared) return this.view(await this.fly(false).promise);
    const asked = this.now();
    const flight = this.flight;
    if (flight && flight.startedAt >= asked) return this.view(await flight.promise);
    if (flight) await flight.promise.catch(() => {});
    const next = this.flight && this.flight.startedAt >= asked ? this.flight : this.current();
    return this.view(await next.promise);
  }

  /** What is known changed (a task ran): served once more at most, while a new one is measured. */
  markStale(): void {
    this.stale = true;
  }

  /** The last value without measuring (undefined before the first one). */
  peek(): Measured<T> | undefined {
    return this.last && this.view(this.last);
  }

  start(): void {
    const every = this.options.refreshEveryMs;
    if (!every || this.stopped || !this.shared) return;
    this.timer = setInterval(() => this.background(), every);
    this.timer.unref();
    this.background();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const flights = [this.flight, ...this.unshared].filter((f): f is Flight<T> => f !== undefined);
    for (const flight of flights) flight.controller.abort(new StoppedError());
    await Promise.allSettled(flights.map((f) => f.promise));
  }

  private background(): void {
    if (this.stopped || this.flight) return;
    this.current().promise.catch((error: unknown) => {
      if (!(error instanceof StoppedError)) this.options.onBackgroundError?.(error);
    });
  }

  private current(): Flight<T> {
    return (this.flight ??= this.fly(true));
  }

  private fly(shared: boolean): Flight<T> {
    const controller = new AbortController();
    const startedAt = this.now();
    if (this.stopped) {
      const promise = Promise.reject(new StoppedError());
      promise.catch(() => {});
      return { startedAt, promise, controller };
    }
    if (shared) this.stale = false;
    const flight: Flight<T> = {
      startedAt,
      controller,
      promise: (async () => {
        const value = await this.options.measure(controller.signal);
        if (controller.signal.aborted) throw new StoppedError();
        const result = { value, at: startedAt };
        // A slower measurement never replaces a newer one.
        if (shared && (!this.last || this.last.at <= startedAt)) this.last = result;
        return result;
      })().finally(() => {
        if (shared) {
          if (this.flight === flight) this.flight = undefined;
        } else this.unshared.delete(flight);
      }),
    };
    if (!shared) this.unshared.add(flight);
    return flight;
  }

  private view(result: { value: T; at: number }): Measured<T> {
    return {
      value: result.value,
      measuredAt: new Date(result.at),
      ageMs: Math.max(0, this.now() - result.at),
    };
  }
}
