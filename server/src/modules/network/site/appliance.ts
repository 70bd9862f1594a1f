import type { Pct } from '../../pve/pct.js';
import type { RunOptions, RunResult } from '../../pve/executor/executor.js';
import { APPLIANCE_BASE, sitePaths, type ServiceSite, type SitePaths } from './site.js';

/**
 * The services inside the running appliance: commands through `pct exec`, files through
 * the container's root as the node sees it (`/proc/<init pid>/root`), which is how a
 * temp-file + rename stays atomic inside the container and how the lease file is read
 * without a process per read.
 */
export class ApplianceSite implements ServiceSite {
  readonly kind = 'appliance';
  readonly description: string;
  readonly paths: SitePaths = sitePaths(APPLIANCE_BASE, 'eth1');
  readonly lanInterface = 'eth1';
  readonly wanInterface = 'eth0';

  constructor(
    private readonly pct: Pct,
    readonly vmid: number,
    readonly initPid: number,
  ) {
    this.description = `appliance CT ${vmid}`;
  }

  local(sitePath: string): string {
    return `/proc/${this.initPid}/root${sitePath}`;
  }

  run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.pct.exec(this.vmid, argv, options);
  }
}
