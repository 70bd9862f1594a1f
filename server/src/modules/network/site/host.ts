import type { Executor, RunOptions, RunResult } from '../../pve/executor/executor.js';
import { sitePaths, type ServiceSite, type SitePaths } from './site.js';

/** The services on the node itself: the bridge carries the gateway, NAT exits by vmbr0. */
export class HostSite implements ServiceSite {
  readonly kind = 'host';
  readonly description = 'the node';
  readonly paths: SitePaths;

  constructor(
    private readonly executor: Executor,
    options: { dir: string; bridge: string; wanBridge: string },
  ) {
    this.paths = sitePaths(options.dir, options.bridge);
    this.lanInterface = options.bridge;
    this.wanInterface = options.wanBridge;
  }

  readonly lanInterface: string;
  readonly wanInterface: string;

  local(sitePath: string): string {
    return sitePath;
  }

  run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.executor.run(argv, options);
  }
}
